"""``polycast local``: run the embedded runtime until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import logging
import os
import select
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TextIO


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aws-port", type=int, default=4566, help="moto server port (4566)")
    parser.add_argument("--ws-port", type=int, default=8080, help="WebSocket gateway port (8080)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(".polycast"),
        help="where to write local.json (default .polycast)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=600,
        help="close idle WebSocket connections after this many seconds (600)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of the runtime and the functions (WARNING)",
    )


LAN_WARNING = """\
WARNING: --lan serves the join, listener and display pages and the listeners'
WebSocket on {host}, to anyone on this network. The AWS endpoint, the @connections
management API and the speaker page stay on 127.0.0.1. Sessions created now get a join
code by default (`polycast session create --no-join-code` to opt out); plain HTTP, so
use a network you trust (the venue's own Wi-Fi)."""


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "local",
        help="run the whole pipeline on this machine (Ctrl-C stops it)",
        description="Embedded AWS (moto), the functions (the broadcaster in worker "
        "processes), a WebSocket gateway and the listener page, all on 127.0.0.1 (with "
        "--lan, the listeners' side on the LAN address too).",
    )
    add_runtime_arguments(parser)
    parser.add_argument(
        "--lan",
        action="store_true",
        help="also serve the pages and the listeners' WebSocket on this machine's LAN "
        "address, for phones in the room (opt-in; join codes by default)",
    )
    parser.add_argument(
        "--host",
        help="the public address for --lan (default: the address of the default route)",
    )
    parser.set_defaults(run=run)


def lan_address() -> str:
    """This machine's address on its default route. A UDP socket's connect() picks the
    source address and sends nothing (no packet leaves the machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def terminate_on_sigterm() -> None:
    """SIGTERM takes the same clean path as Ctrl-C."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        # A shell may start background jobs with SIGINT ignored; Ctrl-C must still work.
        signal.signal(signal.SIGINT, signal.default_int_handler)


def wait_for_a_signal() -> None:
    """Sleep until a signal's Python handler raises (Ctrl-C, SIGTERM: KeyboardInterrupt).

    Python runs signal handlers in the main thread only, and the kernel may hand a
    process's signal to any of its threads. A main thread blocked in a plain lock
    wait (``threading.Event().wait()``) is then never woken to run the handler: a
    runtime once ignored a SIGTERM that way. Here every signal also writes a byte
    to a socket the main thread waits on (``signal.set_wakeup_fd``), whichever
    thread received it, and the handler runs once the main thread wakes.
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        while True:
            select.select([reader], [], [])
            with contextlib.suppress(BlockingIOError):
                reader.recv(512)
    finally:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def build_runtime(args: argparse.Namespace) -> Any:
    from polycast_kit.cli.session_records import local_transcripts
    from polycast_kit.local.runtime import LocalRuntime

    public_host = public_host_of(args)
    return LocalRuntime(
        aws_port=args.aws_port,
        ws_port=args.ws_port,
        state_dir=args.state_dir,
        idle_timeout_seconds=args.idle_timeout,
        log_level=args.log_level,
        public_host=public_host,
        transcripts=local_transcripts,  # the listener page's downloads (/export)
    )


def public_host_of(args: argparse.Namespace) -> str | None:
    from polycast_kit.local.gateway.server import is_wildcard

    if not getattr(args, "lan", False):
        return None
    host = str(args.host) if args.host else lan_address()
    if is_wildcard(host):
        raise ValueError(
            f"--host {host} would listen on every interface, loopback included: "
            "name the LAN address (e.g. --host 192.168.1.20)"
        )
    return host


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from polycast_kit.local.runtime import PortInUse, StateDirBusy

    configure_logging(args.log_level)
    terminate_on_sigterm()
    if getattr(args, "host", None) and not getattr(args, "lan", False):
        print("polycast local: --host needs --lan", file=sys.stderr)
        return 2
    try:
        runtime = build_runtime(args)
    except ValueError as exc:
        print(f"polycast local: {exc}", file=sys.stderr)
        return 2
    if runtime.public_host is not None:
        print(LAN_WARNING.format(host=runtime.public_host), file=sys.stderr, flush=True)
    try:
        endpoints = runtime.start()
    except (PortInUse, StateDirBusy) as exc:
        print(f"polycast local: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        runtime.stop()
        return 130
    except Exception as exc:
        print(f"polycast local: could not start: {exc}", file=sys.stderr)
        return 1
    try:
        print(endpoints.describe(), file=out)
        print(f"  endpoints in     {args.state_dir / 'local.json'}", file=out)
        print("Ctrl-C to stop.", file=out, flush=True)
        wait_for_a_signal()
    except KeyboardInterrupt:
        pass
    finally:
        stop_runtime(runtime, out)
    return 0


# Stopping finishes the invocations in hand, whose every call has a timeout: a stop
# that has not ended the process after this long is stuck.
STOP_BUDGET_SECONDS = 60.0


def stop_runtime(runtime: Any, out: TextIO, budget_seconds: float = STOP_BUDGET_SECONDS) -> None:
    """Stop the runtime; if the process has not ended ``budget_seconds`` later, print
    every thread's stack to stderr and end it (exit code 1).

    A user (or a supervisor's SIGTERM) must not wait forever on a stuck stop, and the
    stacks say where it was stuck. The deadline stays armed after ``stop()``: it also
    covers the interpreter's exit, which joins worker threads. Only for a command
    that ends when the runtime does.
    """
    print("stopping... (Ctrl-C again to stop at once)", file=out, flush=True)
    exit_at_once_on_second_signal()
    faulthandler.dump_traceback_later(budget_seconds, exit=True, file=sys.stderr)
    runtime.stop()
    print("stopped.", file=out, flush=True)


def exit_at_once_on_second_signal() -> None:
    """While stopping, a second Ctrl-C or SIGTERM ends the process at once: nothing of
    the runtime outlives it (state is in memory; the state lock is the kernel's)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        print("polycast local: stopped at once", file=sys.stderr, flush=True)
        os._exit(130)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
