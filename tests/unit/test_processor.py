"""The Kinesis batch processor with in-memory fakes and real Kinesis event shapes.

Sessions run concurrently, each in order; a transient failure holds back the rest
of its session only; bad records become TranscriptRejected and are not retried;
everything is idempotent on redelivery.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from polycast import schemas
from polycast.adapters.aws.kinesis_records import stream_records
from polycast.errors import MissingField, Throttled
from polycast.services.orchestrator import Orchestrator, Outcome
from polycast.services.processor import BatchResult, TranscriptProcessor
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.idempotency import MemoryPersistenceLayer
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

A = "golden-eagle-427"
B = "silver-otter-12"


class ScriptedTranslator(FakeTranslator):
    """Throttles any text containing FAIL while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = True
        self.texts: list[str] = []

    def translate(self, text: str, *, source: str, target: str) -> str:
        with self._lock:
            self.texts.append(text)
        if self.failing and "FAIL" in text:
            raise Throttled("throttled")
        return super().translate(text, source=source, target=target)


class Context:
    """What idempotency needs from Lambda's context: the time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class World:
    sessions: MemorySessionStore
    translator: FakeTranslator
    synthesizer: FakeSynthesizer
    publisher: MemoryEventPublisher
    processor: TranscriptProcessor
    idempotency: list[MemoryPersistenceLayer] = field(default_factory=list)

    def run(self, event: dict[str, Any]) -> BatchResult:
        return self.processor.process_batch(stream_records(event), Context())

    def direct(self, event: dict[str, Any]) -> Outcome:
        return self.processor.process_direct(event, Context())

    def listen(self, session_id: str, **counts: int) -> None:
        self.sessions.start(session_id, "en")
        self.sessions.set_listeners(session_id, counts)

    def events(self, detail_type: str) -> list[dict[str, Any]]:
        found = self.publisher.of_type(detail_type)
        for detail in found:
            schemas.validate_event(detail_type, detail)
        return found

    def segments(self, session_id: str) -> list[tuple[int, str]]:
        return [
            (d["sequence"], d["language"])
            for d in self.events("SegmentReady")
            if d["sessionId"] == session_id
        ]


def make_world(
    translator: FakeTranslator | None = None, publisher: MemoryEventPublisher | None = None
) -> World:
    sessions = MemorySessionStore()
    translator = translator or FakeTranslator()
    synthesizer = FakeSynthesizer()
    publisher = publisher or MemoryEventPublisher()
    layers: list[MemoryPersistenceLayer] = []

    def layer() -> MemoryPersistenceLayer:
        layers.append(MemoryPersistenceLayer())
        return layers[-1]

    orchestrator = Orchestrator(
        sessions=sessions,
        translator=translator,
        synthesizer=synthesizer,
        cache=TranslationCache(MemoryTranslationCacheStore()),
        audio=MemoryAudioStore(),
        publisher=publisher,
        audio_bucket="polycast-audio",
        max_workers=8,
    )
    processor = TranscriptProcessor(
        orchestrator=orchestrator,
        sessions=sessions,
        publisher=publisher,
        idempotency_store=layer,
        max_parallel_sessions=4,
    )
    return World(sessions, translator, synthesizer, publisher, processor, layers)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.processor.close()
    w.processor.orchestrator.close()


# ---- Kinesis event shapes ---------------------------------------------------------

_seq = iter(range(10**6))


def next_seq() -> str:
    return f"4959{next(_seq):052d}"


def kinesis(data: bytes, partition_key: str, seq: str | None = None) -> dict[str, Any]:
    seq = seq or next_seq()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": seq,
            "data": base64.b64encode(data).decode("ascii"),
            "approximateArrivalTimestamp": 1764424800.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{seq}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/processor",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/polycast-transcripts",
    }


def record(session_id: str, text: str, sequence: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sessionId": session_id,
        "sourceLanguage": "en",
        "transcriptText": text,
        "emotionDynamics": {
            "emotion": "happy",
            "intensity": 0.8,
            "rateWpm": 150,
            "volumeLevel": "normal",
        },
        **extra,
    }
    if sequence is not None:
        body["sequence"] = sequence
    return kinesis(json.dumps(body).encode(), session_id)


def aggregate(session_id: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    agg = RecordAggregator()
    for body in bodies:
        assert agg.add_user_record(session_id, json.dumps(body).encode()) is None
    _, _, data = agg.clear_and_get().get_contents()
    return kinesis(data, session_id)


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


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
        def translate(self, text: str, *, source: str, target: str) -> str:
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


BAD_RECORDS: list[tuple[str, bytes, str]] = [
    ("not json", b"{not json", "INVALID_RECORD"),
    ("not an object", b"[1, 2]", "INVALID_RECORD"),
    (
        "wrong type",
        json.dumps({"sessionId": A, "sourceLanguage": "en", "transcriptText": 42}).encode(),
        "INVALID_RECORD",
    ),
    (
        "unknown language",
        json.dumps({"sessionId": A, "sourceLanguage": "xx", "transcriptText": "Hi"}).encode(),
        "UNSUPPORTED_LANGUAGE",
    ),
    (
        "empty text",
        json.dumps({"sessionId": A, "sourceLanguage": "en", "transcriptText": "   "}).encode(),
        "INVALID_RECORD",
    ),
    (
        "oversize text",
        json.dumps(
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "a" * 12_000}
        ).encode(),
        "TRANSCRIPT_TOO_LONG",
    ),
    (
        "missing field",
        json.dumps({"sessionId": A, "sourceLanguage": "en"}).encode(),
        "MISSING_FIELD",
    ),
    ("unknown type", json.dumps({"type": "karaoke", "sessionId": A}).encode(), "INVALID_RECORD"),
]


@pytest.mark.parametrize(("name", "data", "code"), BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS])
def test_bad_records_are_rejected_with_a_reason_and_not_retried(
    world: World, name: str, data: bytes, code: str
) -> None:
    world.listen(A, es=1)
    bad = kinesis(data, A)
    good = record(A, "Fine.", 5)
    result = world.run(batch(bad, good))
    assert failures(result.response()) == []
    rejected = world.events("TranscriptRejected")
    assert len(rejected) == 1
    assert rejected[0]["code"] == code
    assert rejected[0]["recordId"] == bad["kinesis"]["sequenceNumber"]
    assert rejected[0]["reason"]
    assert "a" * 50 not in rejected[0]["reason"]  # the reason never quotes the text
    assert world.segments(A) == [(5, "es")]  # the session went on
    assert result.rejected == 1


def test_data_that_is_not_base64_is_rejected(world: World) -> None:
    bad = kinesis(b"", A)
    bad["kinesis"]["data"] = "***not base64***"
    result = world.run(batch(bad))
    assert failures(result.response()) == []
    assert world.events("TranscriptRejected")[0]["code"] == "INVALID_RECORD"


def test_a_rejection_the_bus_refuses_is_retried() -> None:
    w = make_world(publisher=MemoryEventPublisher(fail_when=lambda t, d: t == "TranscriptRejected"))
    bad = kinesis(b"{nope", A)
    assert failures(w.run(batch(bad)).response()) == [bad["kinesis"]["sequenceNumber"]]


def test_kpl_aggregated_records_are_unpacked_in_order(world: World) -> None:
    world.listen(A, es=1)
    bodies = [
        {"sessionId": A, "sourceLanguage": "en", "transcriptText": f"part {n}", "sequence": n}
        for n in (1, 2, 3)
    ]
    agg = aggregate(A, bodies)
    del agg["kinesis"]["approximateArrivalTimestamp"]  # the deaggregator's silent trap
    result = world.run(batch(agg))
    assert failures(result.response()) == []
    assert world.segments(A) == [(1, "es"), (2, "es"), (3, "es")]


def test_a_failing_sub_record_is_reported_by_its_parent_sequence_number() -> None:
    translator = ScriptedTranslator()
    w = make_world(translator)
    w.listen(A, es=1)
    agg = aggregate(
        A,
        [
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "ok", "sequence": 1},
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "FAIL", "sequence": 2},
        ],
    )
    response = w.run(batch(agg)).response()
    assert failures(response) == [agg["kinesis"]["sequenceNumber"]]
    assert w.segments(A) == [(1, "es")]
    translator.failing = False
    assert failures(w.run(batch(agg)).response()) == []
    assert w.segments(A) == [(1, "es"), (2, "es")]  # sub-record 1 not emitted twice


def test_bad_sub_record_ids_carry_the_sub_sequence_number(world: World) -> None:
    agg = aggregate(A, [{"sessionId": A, "sourceLanguage": "en", "transcriptText": ""}])
    world.run(batch(agg))
    rejected = world.events("TranscriptRejected")
    assert rejected[0]["recordId"] == f"{agg['kinesis']['sequenceNumber']}:0"


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


def test_direct_invoke_processes_one_transcript(world: World) -> None:
    world.listen(A, es=1, fr=1)
    outcome = world.direct(
        {
            "sessionId": A,
            "sourceLanguage": "en",
            "transcriptText": "Hello everyone, this is important news.",
            "emotionDynamics": {
                "emotion": "happy",
                "intensity": 0.8,
                "rateWpm": 150,
                "volumeLevel": "normal",
            },
        }
    )
    assert outcome.languages_processed == 2
    assert outcome.listener_count == 2
    assert outcome.sequence == 1
    assert sorted(world.segments(A)) == [(1, "es"), (1, "fr")]


def test_direct_invoke_names_the_missing_field(world: World) -> None:
    with pytest.raises(MissingField) as err:
        world.direct({"sessionId": A, "sourceLanguage": "en"})
    assert err.value.field == "transcriptText"


def test_one_sessions_read_per_transcript_whatever_the_audience(world: World) -> None:
    world.listen(A, es=5000, fr=3000)
    world.sessions.reads = 0
    world.run(batch(*(record(A, f"s{n}", n) for n in range(1, 4))))
    assert world.sessions.reads == 3
    assert len(world.segments(A)) == 6
