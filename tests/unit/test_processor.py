"""The Kinesis batch processor with in-memory fakes and real Kinesis event shapes.

Sessions run concurrently, each in order; a transient failure holds back the rest
of its session only; session control (start, end, stream order) is idempotent on
redelivery. Bad records and the direct invoke: ``test_processor_records.py``.
"""

from __future__ import annotations

import json
import threading

import pytest

from polycast_kit.testing.translator import FakeTranslator
from tests.unit.processor_world import (
    A,
    B,
    ScriptedTranslator,
    World,
    batch,
    failures,
    kinesis,
    make_world,
    record,
    world_fixture,
)

world = pytest.fixture(world_fixture, name="world")


# ---- behaviour -------------------------------------------------------------------


def test_a_clean_batch_emits_one_segment_per_language_per_transcript(world: World) -> None:
    world.listen(A, es=2, fr=1)
    result = world.run(batch(record(A, "One.", 1), record(A, "Two.", 2)))
    assert result.response() == {"batchItemFailures": []}
    assert sorted(world.segments(A)) == [(1, "es"), (1, "fr"), (2, "es"), (2, "fr")]
    assert len(result.outcomes) == 2


def test_two_sessions_failure_in_one_holds_back_only_its_later_records() -> None:
    translator = ScriptedTranslator()
    w = make_world(translator)
    w.listen(A, es=1)
    w.listen(B, es=1)
    a1, a2, a3 = record(A, "a one", 1), record(A, "a FAIL", 2), record(A, "a three", 3)
    b1, b2 = record(B, "b one", 1), record(B, "b two", 2)
    response = w.run(batch(a1, b1, a2, b2, a3)).response()

    assert failures(response) == [a2["kinesis"]["sequenceNumber"], a3["kinesis"]["sequenceNumber"]]
    assert w.segments(A) == [(1, "es")]
    assert sorted(w.segments(B)) == [(1, "es"), (2, "es")]
    assert "a three" not in translator.texts  # held back, never started

    # Lambda retries from the lowest failed record: a2, b2, a3. Now a2 succeeds.
    translator.failing = False
    retry = w.run(batch(a2, b2, a3)).response()
    assert failures(retry) == []
    assert w.segments(A) == [(1, "es"), (2, "es"), (3, "es")]
    assert sorted(w.segments(B)) == [(1, "es"), (2, "es")]  # b2 not emitted twice


def test_redelivery_of_a_whole_batch_emits_nothing_new(world: World) -> None:
    world.listen(A, es=1, de=1)
    event = batch(
        kinesis(
            json.dumps({"type": "sessionStarted", "sessionId": B, "sourceLanguage": "en"}).encode(),
            B,
        ),
        record(A, "Hello.", 1),
        record(A, "Again.", 2),
        kinesis(json.dumps({"type": "sessionEnded", "sessionId": B}).encode(), B),
    )
    world.run(event)
    before = list(world.publisher.events)
    calls = len(world.translator.calls)
    again = world.run(event)
    assert world.publisher.events == before
    assert len(world.translator.calls) == calls
    assert again.outcomes == []
    assert again.replayed == 4


def test_sessions_run_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=10)

    class WaitingTranslator(FakeTranslator):
        def translate(self, text: str, *, source: str, target: str, settings: object = None) -> str:
            barrier.wait()  # passes only when both sessions are translating at once
            return super().translate(text, source=source, target=target)

    w = make_world(WaitingTranslator())
    w.listen(A, es=1)
    w.listen(B, es=1)
    response = w.run(batch(record(A, "a", 1), record(B, "b", 1))).response()
    assert failures(response) == []
    assert w.segments(A) == [(1, "es")]
    assert w.segments(B) == [(1, "es")]


def test_each_session_is_processed_in_order(world: World) -> None:
    world.listen(A, es=1)
    records = [record(A, f"sentence {n}", n) for n in range(1, 9)]
    world.run(batch(*records))
    assert [s for s, _ in world.segments(A)] == list(range(1, 9))


def test_a_transcript_for_an_unknown_session_starts_it(world: World) -> None:
    world.run(batch(record(A, "Hello.", 1)))
    session = world.sessions.get(A)
    assert session is not None
    assert session.status == "active"
    started = world.events("SessionStarted")
    assert [d["sessionId"] for d in started] == [A]
    assert world.translator.calls == []  # nobody listens yet


def test_session_started_then_ended_and_transcripts_after_the_end_are_rejected(
    world: World,
) -> None:
    start = kinesis(
        json.dumps(
            {"type": "sessionStarted", "sessionId": A, "sourceLanguage": "en", "joinCode": "1234"}
        ).encode(),
        A,
    )
    end = kinesis(json.dumps({"type": "sessionEnded", "sessionId": A}).encode(), A)
    late = record(A, "Too late.", 9)
    world.run(batch(start, end, late))
    session = world.sessions.get(A)
    assert session is not None
    assert session.status == "ended"
    assert session.join_code_hash
    assert "1234" not in session.join_code_hash
    assert len(world.events("SessionStarted")) == 1
    ended = world.events("SessionEnded")
    assert [d["sessionId"] for d in ended] == [A]
    rejected = world.events("TranscriptRejected")
    assert [(d["code"], d.get("sequence")) for d in rejected] == [("SESSION_ENDED", 9)]


def test_started_twice_emits_session_started_once(world: World) -> None:
    body = json.dumps({"type": "sessionStarted", "sessionId": A, "sourceLanguage": "en"}).encode()
    world.run(batch(kinesis(body, A), kinesis(body, A)))
    assert len(world.events("SessionStarted")) == 1


def test_records_without_sequence_get_stream_order_idempotently(world: World) -> None:
    world.listen(A, es=1)
    r1, r2 = record(A, "first"), record(A, "second")
    world.run(batch(r1, r2))
    assert world.segments(A) == [(1, "es"), (2, "es")]
    world.run(batch(r1, r2))  # redelivered: same numbers, nothing new
    assert world.segments(A) == [(1, "es"), (2, "es")]
    session = world.sessions.get(A)
    assert session is not None
    assert session.last_sequence == 2


def test_one_sessions_read_per_transcript_whatever_the_audience(world: World) -> None:
    world.listen(A, es=5000, fr=3000)
    world.sessions.reads = 0
    world.run(batch(*(record(A, f"s{n}", n) for n in range(1, 4))))
    assert world.sessions.reads == 3
    assert len(world.segments(A)) == 6
