"""``polycast bench``: performance against baselines run in the same process (docs/performance.md).

Runs the named scenarios (all by default), shows progress on stderr, prints a
table, writes the result as one JSON object (``--json FILE``; ``-`` for stdout)
and a PNG plot (``--plot FILE``; by default beside the JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

SCENARIO_NAMES = (
    "critical-path",
    "batch-of-sessions",
    "fan-out",
    "requests-per-segment",
    "local-engines",
    "cache",
    "latency-budget",
    "partials",
    "speech",
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="run the benchmark scenarios (ratios against baselines, JSON and a plot)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"any of: {', '.join(SCENARIO_NAMES)}"
    )
    parser.add_argument("--json", help="write the JSON result here ('-' for stdout)")
    parser.add_argument(
        "--plot", type=Path, help="write the PNG plot here (default: beside --json)"
    )
    parser.add_argument(
        "--size", choices=("tiny", "full"), default="full", help="tiny runs in seconds (tests)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a scenario misses its bar"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from polycast_kit.bench.runner import run_bench, stderr_progress, table

    unknown = [name for name in args.scenarios if name not in SCENARIO_NAMES]
    if unknown:
        print(
            f"polycast bench: unknown scenario(s) {', '.join(unknown)}; "
            f"known: {', '.join(SCENARIO_NAMES)}",
            file=sys.stderr,
        )
        return 2
    result = run_bench(args.scenarios or None, size=args.size, progress=stderr_progress)
    text = json.dumps(result, indent=1)
    table_out: TextIO = sys.stderr if args.json == "-" else out
    if args.json == "-":
        print(text, file=out)
    elif args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    plot = args.plot
    if plot is None and args.json and args.json != "-":
        plot = Path(args.json).with_suffix(".png")
    if plot is not None:
        from polycast_kit.bench.plot import render

        render(result, plot)
    print(table(result), file=table_out)
    if args.json and args.json != "-":
        print(f"JSON: {args.json}", file=table_out)
    if plot is not None:
        print(f"plot: {plot}", file=table_out)
    failed = [name for name, r in result["scenarios"].items() if not r["pass"]]
    if failed:
        print(f"bars missed: {', '.join(failed)}", file=table_out)
    return 1 if (failed and args.check) else 0
