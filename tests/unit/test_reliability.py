"""Faults in every port, redelivery, a poison record: the real processor and
broadcaster in-process (``polycast_kit.reliability``), every segment accounted for.

The rule: every segment ends delivered or recorded as failed with a reason; no
listener hears one twice or out of order; the counts match the connections left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from polycast import schemas
from polycast.errors import TransientError
from polycast_kit.reliability import (
    PORTS,
    ListenerPlayback,
    ReliabilityRun,
    Scenario,
    Tally,
    markdown_table,
    table_scenarios,
)
from polycast_kit.testing.translator import FakeTranslator


def check(tally: Tally) -> None:
    assert tally.lost == 0, tally.failures
    assert tally.delivered + tally.recorded_failed == tally.segments_sent
    assert tally.duplicates_heard == 0
    assert tally.out_of_order_heard == 0
    assert tally.counts_consistent, tally.failures


def run(scenario: Scenario) -> tuple[ReliabilityRun, Tally]:
    harness = ReliabilityRun(scenario)
    return harness, harness.run()


DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def documented_rows() -> dict[str, str]:
    """The rows of the table in docs/reliability.md, by their first two cells."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[1].endswith("%"):
            rows[f"{cells[0]} {cells[1]}"] = line
    return rows


# Columns of the table that do not depend on how threads interleave: fault, rate,
# where, segments sent, lost, and what a client hears twice or out of order. The
# delivered / recorded-failed split and the server-side counts vary by a few
# segments between runs at high fault rates.
STABLE_COLUMNS = (0, 1, 2, 3, 6)


def stable(row: str) -> list[str]:
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    heard = [cells[7].split("/")[-1].strip(), cells[8].split("/")[-1].strip()]
    return [cells[i] for i in STABLE_COLUMNS] + heard


@pytest.mark.parametrize("scenario", table_scenarios(), ids=lambda s: f"{s.fault}-{s.rate:.0%}")
def test_every_segment_is_delivered_or_recorded_failed(scenario: Scenario) -> None:
    harness, tally = run(scenario)
    check(tally)
    row = markdown_table([tally]).splitlines()[-1]
    documented = documented_rows().get(f"{scenario.fault} {scenario.rate:.0%}")
    assert documented is not None, "docs/reliability.md has no row for this scenario"
    assert stable(documented) == stable(row), (
        "docs/reliability.md is out of date: regenerate its table with `polycast reliability`"
    )
    if scenario.rate:
        assert tally.faults_injected > 0
    # Faults are per HTTP attempt and the SDK retries them as deployed (3 attempts,
    # Polly 2): up to 10 % in every port nothing is left for Kinesis or Lambda to
    # retry. At 30 % some segments end on record, never lost.
    if scenario.rate <= 0.1:
        assert tally.delivered == tally.segments_sent
    for detail_type, detail in harness.bus.accepted:  # every event on the bus, as emitted
        schemas.validate_event(detail_type, json.loads(json.dumps(detail)))


@pytest.mark.parametrize("port", PORTS)
def test_a_fault_storm_in_one_port_loses_nothing(port: str) -> None:
    check(run(Scenario("throttling", 0.3, ports=frozenset({port}), seed=11))[1])


def test_a_post_whose_answer_was_lost_is_not_sent_again_by_the_service() -> None:
    """The SDK is the one level that retries a post (and may repeat one whose answer
    it lost; the client drops that). Above it, a failed post is counted, not resent."""
    harness, tally = run(Scenario("timeout", 0.5, ports=frozenset({"sender"}), seed=3))
    check(tally)
    assert harness.plan.injected["sender"] > 0
    sdk_resends = harness.broadcaster_sdk.for_port("sender").retries
    assert 0 < tally.duplicates_sent <= sdk_resends  # every repeat is an SDK retry
    failed = sum(getattr(result, "failed", 0) for _, _, result in harness.results)
    assert failed > 0  # counted in BroadcastCompleted, landed or not


def test_redelivered_and_reordered_events_reach_each_listener_once() -> None:
    harness, tally = run(Scenario("redelivery", 0.3, seed=4))
    check(tally)
    assert harness.bus.duplicated > 0  # EventBridge delivered copies
    assert tally.out_of_order_sent > 0  # and out of order
    assert tally.duplicates_sent == 0  # the broadcaster's log dropped every copy
    # Translate throttled at 30 % can outlast a record's Kinesis retries: on record.
    assert tally.delivered + tally.recorded_failed == tally.segments_sent
    assert tally.recorded_failed == 0 or tally.on_failure_records > 0


@pytest.mark.parametrize("fault", ["redelivery", "throttling"])
def test_live_captions_never_follow_their_segment_nor_come_twice(fault: str) -> None:
    """Partials before every transcript, EventBridge duplicating and shuffling each
    delivery round (or every port throttled): each listener gets live captions, never
    one after its sequence's segment, never one twice; the segments are as ever."""
    harness, tally = run(Scenario(fault, 0.3, partials=True))
    check(tally)
    assert tally.partials_sent > 0
    assert tally.partials_after_segment == 0, tally.failures
    assert tally.partials_twice == 0, tally.failures
    assert tally.to_json()["partialsSent"] == tally.partials_sent
    assert harness.bus.of_type("PartialReady")


def test_kinesis_partial_batch_failures_replay_without_duplicates() -> None:
    harness, tally = run(Scenario("redelivery", 0.3, seed=5))
    invocations = harness.poller.cursors[harness.kinesis.shard_id]
    assert invocations.attempts == 0  # the shard finished
    assert harness.translator_plan is not None
    assert sum(harness.translator_plan.injected.values()) > 0
    check(tally)
    assert tally.duplicates_sent == 0


def test_listeners_leaving_in_a_410_storm_are_counted_out_exactly() -> None:
    harness, tally = run(Scenario("gone", 0.3, seed=8))
    check(tally)
    assert tally.listeners_left > 0
    left = harness.bus.of_type("ListenerLeft")
    assert len(left) == tally.listeners_left  # one ListenerLeft per listener, never two


def test_same_seed_same_figures() -> None:
    first = run(Scenario("5xx", 0.1, seed=21))[1]
    second = run(Scenario("5xx", 0.1, seed=21))[1]
    assert first.to_json() == second.to_json()


def test_the_table_has_one_row_per_scenario() -> None:
    tallies = [Tally(s) for s in table_scenarios((0.5,))]
    table = markdown_table(tallies)
    assert table.count("\n") == len(tallies) + 2
    assert "| redelivery | 50% |" in table


# ---- the listener's rule ---------------------------------------------------------------


def test_playback_orders_drops_repeats_and_shows_late_ones() -> None:
    playback = ListenerPlayback()
    for sequence in (3, 5, 4, 4, 2, 6, 8):
        playback.receive(sequence)
    assert playback.finish() == [3, 4, 5, 6, 8]
    assert playback.late == 1  # 2 came after the listener had started at 3


# ---- a poison record -------------------------------------------------------------------


class PoisonTranslator(FakeTranslator):
    """Always fails transiently for one text: retrying can never help."""

    def translate(self, text: str, *, source: str, target: str, settings: object = None) -> str:
        if "POISON" in text:
            raise TransientError("injected: this text always fails")
        return super().translate(text, source=source, target=target)


class PoisonTalk(ReliabilityRun):
    def talk(self) -> None:
        for seq in range(1, self.scenario.transcripts + 1):
            for n in range(self.scenario.sessions):
                text = "POISON." if (n, seq) == (0, 2) else f"Sentence {seq}."
                body: dict[str, Any] = {
                    "sessionId": self.session_id(n),
                    "sequence": seq,
                    "sourceLanguage": "en",
                    "transcriptText": text,
                }
                self.kinesis.put(self.session_id(n), json.dumps(body).encode())


def test_a_poison_record_reaches_the_on_failure_queue_and_the_session_goes_on() -> None:
    harness = PoisonTalk(Scenario("none", 0.0, sessions=2, transcripts=5))
    harness.orchestrator.translator = PoisonTranslator()
    tally = harness.run()

    (failure,) = harness.on_failure.messages
    info = failure["KinesisBatchInfo"]
    poison = next(
        r for r in harness.kinesis.records if b"POISON" in r["Data"]
    )  # the only record given up on
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison["SequenceNumber"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 4  # 1 + 3 retries
    assert failure["reason"]

    first = harness.session_id(0)
    heard = {
        json.loads(frame)["sequence"]
        for cid, frames in harness.sender.delivered.items()
        if cid.startswith(f"{first}-es")
        for frame in frames
    }
    assert heard == {1, 3, 4, 5}  # the session's later records were delivered
    assert tally.lost == 0
    # es, fr and de of the poison record: recorded failed, with the on-failure record.
    assert tally.recorded_failed == 3
    assert tally.delivered == tally.segments_sent - 3
