"""Entry point of the ``polycast`` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from polycast import __version__
from polycast_kit.cli import (
    bench,
    cost,
    demo,
    events,
    listen,
    local_cmd,
    measure,
    produce,
    reliability,
    speak,
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="polycast",
        description="Broadcast live speech across languages: Kinesis in, translated text "
        "and speech out over WebSockets.",
    )
    root.add_argument("--version", action="version", version=f"polycast {__version__}")
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (local_cmd, demo, produce, listen, events, measure, bench, cost, reliability):
        module.register(subparsers)
    speak.register(subparsers)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
