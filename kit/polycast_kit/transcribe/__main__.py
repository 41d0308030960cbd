"""``python -m polycast_kit.transcribe``: the local recognizer endpoint on its own.

Serves the Transcribe-streaming protocol on 127.0.0.1 (the local runtime will mount
the same handler on its gateway) and prints a presigned URL, valid five minutes,
for ``polycast speak --file talk.wav --url URL``. Press Enter for a fresh URL;
Ctrl-C (or end of input) stops it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from polycast_kit.transcribe.server import RecognizerServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polycast_kit.transcribe", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = parser.parse_args(argv)
    with RecognizerServer(port=args.port) as server:
        print(f"Transcribe-compatible endpoint on {server.endpoint}", flush=True)
        try:
            while True:
                print(f"URL (valid 300 s): {server.url()}", flush=True)
                if not sys.stdin.readline():
                    return 0
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
