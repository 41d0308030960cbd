"""``polycast cost``: dollars per session-hour and per listener-hour, split by service.

Requests come from the bench's ``requests-per-segment`` scenario: read from a
bench JSON (``--bench docs/bench/bench.json``) or counted now on moto (a few
seconds). Prices are the dated table in ``polycast_kit.bench.prices``; assumptions
(talk rate, sentence length, audio size, durations) are printed with the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO


def _ints(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cost",
        help="estimate dollars per listener-hour from counted requests and AWS prices",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--listeners", type=_ints, default=[10, 500, 10_000], help="10,500,10000")
    parser.add_argument("--languages", type=_ints, default=[1, 3, 10], help="1,3,10")
    parser.add_argument("--bench", type=Path, help="a `polycast bench` JSON to read counts from")
    parser.add_argument("--json", help="write the estimate here ('-' for stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from polycast_kit.bench import cost, requests

    if args.bench:
        try:
            scenario = json.loads(args.bench.read_text())["scenarios"][requests.NAME]
        except (OSError, ValueError, KeyError) as exc:
            print(
                f"polycast cost: no {requests.NAME} result in {args.bench}: {exc}", file=sys.stderr
            )
            return 2
        source = str(args.bench)
    else:
        print(f"counting requests ({requests.NAME}, tiny size, on moto)…", file=sys.stderr)
        scenario = requests.run("tiny", lambda message: None)
        source = f"{requests.NAME} (tiny, counted now)"
    model = cost.RequestModel.from_bench(scenario)
    model.source = source
    result = cost.estimate(model, listeners=args.listeners, languages=args.languages)
    text = json.dumps(result, indent=1)
    table_out: TextIO = sys.stderr if args.json == "-" else out
    if args.json == "-":
        print(text, file=out)
    elif args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    print(cost.table(result), file=table_out)
    print(
        "units: US dollars. $/session-h: one session of one hour with that many listeners, "
        "all services; $/listener-h: the same divided by the listeners; the service columns "
        "split $/session-h. reference: the cost target Polycast is held to (docs/"
        "performance.md); the percentages compare the estimate at that audience with it.",
        file=table_out,
    )
    a = result["assumptions"]
    print(
        f"assumptions: {a['segmentsPerHour']:g} segments/h of {a['chars_per_segment']} characters,"
        f" {a['audioBytes'] // 1000} KB audio ({a['messageBytes'] // 1000} KB per message),"
        f" Polly {a['polly_engine']},"
        f" translation cache hit rate {a['translation_cache_hit_rate']:.0%};"
        f" requests from {source}",
        file=table_out,
    )
    return 0
