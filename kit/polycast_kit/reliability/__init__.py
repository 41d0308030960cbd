"""Reliability under faults: the real services in-process, every segment accounted for.

``python -m polycast_kit.reliability`` (or ``polycast reliability``) prints the table of
``docs/reliability.md``. :mod:`.harness` builds and runs the pipeline,
:mod:`.accounting` accounts for every segment, :mod:`.faults` holds the
fault-injecting wrappers, :mod:`.scenarios` the rows of the table.
"""

from polycast_kit.reliability.faults import FAULT_KINDS, PORTS, FaultPlan
from polycast_kit.reliability.harness import ReliabilityRun, run_scenario
from polycast_kit.reliability.playback import ListenerPlayback
from polycast_kit.reliability.scenarios import Scenario, Tally, markdown_table, table_scenarios

__all__ = [
    "FAULT_KINDS",
    "PORTS",
    "FaultPlan",
    "ListenerPlayback",
    "ReliabilityRun",
    "Scenario",
    "Tally",
    "markdown_table",
    "run_scenario",
    "table_scenarios",
]
