"""``polycast measure``: end-to-end latency of the local runtime with real engines.

PutRecord → listener for a talk in several languages with many WebSocket
listeners, plus translation and synthesis time per segment. Prints one JSON
object (see ``polycast_kit.local.measure.measure_local_latency``).

``--speech``: Festival-spoken test speech streamed in real time by the speak
client into the local recognizer; end of utterance → listener caption p50/p95 and
the recognizer's real-time factor (``polycast_kit.local.measure_speech``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "measure",
        help="measure end-to-end latency on the local runtime (real engines)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--speech",
        action="store_true",
        help="speech in: end of utterance → caption, and the recognizer's real-time factor",
    )
    parser.add_argument("--languages", help="comma-separated (es,fr,ca; with --speech es,fr)")
    parser.add_argument("--listeners", type=int, default=50, help="WebSocket listeners (50)")
    parser.add_argument("--segments", type=int, default=30, help="transcripts to send (30)")
    parser.add_argument(
        "--interval", type=float, default=1.5, help="seconds between transcripts (1.5)"
    )
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    default = "es,fr" if args.speech else "es,fr,ca"
    languages = tuple(
        lang.strip() for lang in (args.languages or default).split(",") if lang.strip()
    )
    if args.speech:
        from polycast_kit.local.measure_speech import measure_speech_latency

        return _print(measure_speech_latency(languages=languages), args, out, "pass")

    from polycast_kit.local.measure import measure_local_latency

    result = measure_local_latency(
        languages=languages,
        listeners=args.listeners,
        segments=args.segments,
        interval_seconds=args.interval,
    )
    return _print(result, args, out, "complete")


def _print(result: dict[str, Any], args: argparse.Namespace, out: TextIO, ok: str) -> int:
    text = json.dumps(result, indent=2)
    print(text, file=out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0 if result.get(ok) else 1
