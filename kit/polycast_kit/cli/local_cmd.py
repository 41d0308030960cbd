"""``polycast local``: run the embedded runtime until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import logging
import signal
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


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "local",
        help="run the whole pipeline on this machine (Ctrl-C stops it)",
        description="Embedded AWS (moto), the functions in-process, a WebSocket gateway "
        "and the listener page, all on 127.0.0.1.",
    )
    add_runtime_arguments(parser)
    parser.set_defaults(run=run)


def terminate_on_sigterm() -> None:
    """SIGTERM takes the same clean path as Ctrl-C."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        # A shell may start background jobs with SIGINT ignored; Ctrl-C must still work.
        signal.signal(signal.SIGINT, signal.default_int_handler)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def build_runtime(args: argparse.Namespace) -> Any:
    from polycast_kit.local.runtime import LocalRuntime

    return LocalRuntime(
        aws_port=args.aws_port,
        ws_port=args.ws_port,
        state_dir=args.state_dir,
        idle_timeout_seconds=args.idle_timeout,
        log_level=args.log_level,
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from polycast_kit.local.runtime import PortInUse, StateDirBusy

    configure_logging(args.log_level)
    terminate_on_sigterm()
    runtime = build_runtime(args)
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
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", file=out, flush=True)
        runtime.stop()
        print("stopped.", file=out, flush=True)
    return 0
