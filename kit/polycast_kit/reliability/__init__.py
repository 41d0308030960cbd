"""Reliability under faults: the real services in-process, every segment accounted for.

``python -m polycast_kit.reliability`` (or ``polycast reliability``) prints the table of
``docs/reliability.md``. See :mod:`.harness` for the accounting and :mod:`.faults`
for the fault-injecting wrappers.
"""

from polycast_kit.reliability.faults import FAULT_KINDS, PORTS, FaultPlan
from polycast_kit.reliability.harness import (
    ReliabilityRun,
    Scenario,
    Tally,
    markdown_table,
    run_scenario,
    table_scenarios,
)

__all__ = [
    "FAULT_KINDS",
    "PORTS",
    "FaultPlan",
    "ReliabilityRun",
    "Scenario",
    "Tally",
    "markdown_table",
    "run_scenario",
    "table_scenarios",
]
