"""``polycast reliability``: the fault-injection table of ``docs/reliability.md``.

Runs the real processor and broadcaster in-process on the memory fakes with
seeded faults (throttling, 5xx, timeouts, 410 storms, redelivery) at each rate,
and prints a Markdown table: segments sent, delivered, recorded failed, lost,
duplicates and out-of-order (sent by the server / heard by a client applying
the documented rule). Same seed, same table.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=6, help="random seed (6)")
    parser.add_argument(
        "--rates", default="0.01,0.05,0.10,0.30", help="fault rates, comma-separated"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reliability",
        help="run the fault-injection scenarios and print the reliability table",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from polycast_kit.reliability import markdown_table, run_scenario, table_scenarios

    # Injected faults make the services log warnings by the hundred: keep the table readable.
    logging.getLogger("polycast").setLevel(logging.CRITICAL)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    tallies = [run_scenario(s) for s in table_scenarios(rates, seed=args.seed)]
    print(markdown_table(tallies), file=out, end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([t.to_json() for t in tallies], indent=2) + "\n")
    return 0 if all(t.lost == 0 and t.counts_consistent for t in tallies) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m polycast_kit.reliability", description=__doc__)
    add_arguments(parser)
    code: int = run(parser.parse_args(argv))
    return code
