"""The scenarios of ``docs/reliability.md``, the figures of one run, and the table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Scenario:
    fault: str
    rate: float
    ports: frozenset[str] | None = None  # None: every port the fault applies to
    sessions: int = 3
    transcripts: int = 12
    listeners: tuple[tuple[str, int], ...] = (("es", 3), ("fr", 2), ("de", 2))
    slice_size: int = 2  # small, so the es audience is split across invocations
    seed: int = 6
    partials: bool = False  # live captions (partial records) before each transcript

    @property
    def label(self) -> str:
        where = "all ports" if self.ports is None else ", ".join(sorted(self.ports))
        return f"{self.fault} {self.rate:.0%} ({where})"


@dataclass
class Tally:
    """The figures of one run (one row of ``docs/reliability.md``)."""

    scenario: Scenario
    segments_sent: int = 0
    delivered: int = 0
    recorded_failed: int = 0
    lost: int = 0
    duplicates_sent: int = 0
    duplicates_heard: int = 0
    out_of_order_sent: int = 0
    out_of_order_heard: int = 0
    late: int = 0  # arrived after the listener had played past them (shown, not played)
    faults_injected: int = 0
    sdk_retries: int = 0  # attempts botocore made again (after a fault it retries)
    backoff_seconds: float = 0.0  # the SDK's and the publisher's backoff, recorded not slept
    on_failure_records: int = 0
    dead_letters: int = 0
    listeners_left: int = 0
    counts_consistent: bool = True
    partials_sent: int = 0  # live-caption frames posted
    partials_after_segment: int = 0  # a partial posted after its sequence's segment
    partials_twice: int = 0  # the same partial posted to one listener again
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.scenario.fault,
            "rate": self.scenario.rate,
            "segmentsSent": self.segments_sent,
            "delivered": self.delivered,
            "recordedFailed": self.recorded_failed,
            "lost": self.lost,
            "duplicatesSent": self.duplicates_sent,
            "duplicatesHeard": self.duplicates_heard,
            "outOfOrderSent": self.out_of_order_sent,
            "outOfOrderHeard": self.out_of_order_heard,
            "late": self.late,
            "faultsInjected": self.faults_injected,
            "sdkRetries": self.sdk_retries,
            "backoffSeconds": round(self.backoff_seconds, 3),
            "onFailureRecords": self.on_failure_records,
            "deadLetters": self.dead_letters,
            "listenersLeft": self.listeners_left,
            "countsConsistent": self.counts_consistent,
            **(
                {
                    "partialsSent": self.partials_sent,
                    "partialsAfterSegment": self.partials_after_segment,
                    "partialsTwice": self.partials_twice,
                }
                if self.scenario.partials
                else {}
            ),
        }


RATES: tuple[float, ...] = (0.01, 0.05, 0.10, 0.30)


def table_scenarios(rates: Sequence[float] = RATES, seed: int = 6) -> list[Scenario]:
    """The rows of ``docs/reliability.md``."""
    rows = [Scenario("none", 0.0, seed=seed)]
    for fault in ("throttling", "5xx", "timeout", "gone", "redelivery"):
        rows.extend(Scenario(fault, rate, seed=seed) for rate in rates)
    return rows


WHERE = {
    "throttling": "every port",
    "5xx": "every port",
    "timeout": "every port",
    "gone": "Sender",
    "redelivery": "Translate + bus",
    "none": "",
}


def markdown_table(tallies: Sequence[Tally]) -> str:
    head = (
        "| fault | rate | where | segments sent | delivered | recorded failed | lost "
        "| duplicates (sent / heard) | out of order (sent / heard) | late | faults injected "
        "| SDK retries |\n"
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for t in tallies:
        s = t.scenario
        rows.append(
            f"| {s.fault} | {s.rate:.0%} | {WHERE.get(s.fault, '')} | {t.segments_sent} "
            f"| {t.delivered} | {t.recorded_failed} | {t.lost} "
            f"| {t.duplicates_sent} / {t.duplicates_heard} "
            f"| {t.out_of_order_sent} / {t.out_of_order_heard} | {t.late} "
            f"| {t.faults_injected} | {t.sdk_retries} |"
        )
    return head + "\n".join(rows) + "\n"
