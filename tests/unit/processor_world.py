"""The transcript processor's test world: the real processor and orchestrator on the
in-memory fakes, and Kinesis event shapes as Lambda delivers them (base64, KPL)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aws_kinesis_agg.aggregator import RecordAggregator

from polycast import schemas
from polycast.adapters.aws.kinesis_records import stream_records
from polycast.errors import Throttled
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

    def translate(self, text: str, *, source: str, target: str, settings: object = None) -> str:
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


def world_fixture() -> Iterator[World]:
    """Each test module's ``world`` fixture: a fresh world, closed afterwards."""
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
