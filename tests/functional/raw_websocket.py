"""A WebSocket client written on a plain socket, for what the libraries hide: who
closes TCP first, and the TIME_WAIT socket that leaves behind."""

from __future__ import annotations

import base64
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path


def stop_with_a_listener_connected(host: str, port: int, stop: Callable[[], None]) -> None:
    """Stop the gateway with a listener connected that waits for the server to close
    TCP (as clients should): the server closes first, so its side of the connection
    lingers in TIME_WAIT on the port."""
    with socket.create_connection((host, port), timeout=10) as client:
        key = base64.b64encode(os.urandom(16)).decode()
        client.sendall(
            (
                f"GET /?sessionId=s-1 HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        assert head.startswith(b"HTTP/1.1 101")
        stopping = threading.Thread(target=stop)
        stopping.start()
        frame = client.recv(2)
        assert frame[0] & 0x0F == 0x8  # the server's close frame
        while client.recv(4096):  # then the server's FIN: it closes first
            pass
        stopping.join(timeout=30)


def time_wait_on(port: int) -> bool:
    """Whether the kernel holds a TIME_WAIT socket whose local port is ``port``."""
    state_time_wait = "06"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state_time_wait:
                return True
    return False
