"""Stopping the local runtime with a listener connected and starting it again at once.

Its own module: moto's state is per process, so no other runtime may be running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polycast import wiring
from polycast_kit.local.gateway import free_port
from polycast_kit.local.runtime import LocalRuntime, PortInUse
from tests.functional.raw_websocket import stop_with_a_listener_connected, time_wait_on


def admit(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every function: admits every connection, processes nothing."""
    return {"statusCode": 200, "batchItemFailures": []}


def test_restarts_at_once_after_stopping_with_a_listener_connected(
    tmp_path: Path,
) -> None:
    """Ctrl-C with a listener connected, then start again: the gateway's port holds
    only TIME_WAIT sockets, which must not read as "in use"."""
    port = free_port()

    def runtime() -> LocalRuntime:
        handlers = {function.logical_id: admit for function in wiring.FUNCTIONS}
        return LocalRuntime(
            aws_port=0, ws_port=port, state_dir=None, root=tmp_path, handlers=handlers
        )

    first = runtime()
    first.start()
    stop_with_a_listener_connected("127.0.0.1", port, first.stop)
    assert time_wait_on(port)

    with runtime() as second:
        assert second.gateway is not None
        assert second.gateway.port == port
        with pytest.raises(PortInUse) as info:  # while it runs, the port is in use
            runtime().start()
        assert str(port) in str(info.value)
