"""The services wired to memory fakes, and Lambda-shaped Kinesis events, for scenarios.

Built by ``polycast.composition`` (the builders every deployed function goes
through), only with in-memory stores injected, so a scenario measures the
services as deployed, not DynamoDB.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from polycast import composition
from polycast.config import Settings
from polycast.ports import AudioStore, PublishResult, Synthesizer, TranslationCacheStore, Translator
from polycast.services.orchestrator import Orchestrator
from polycast.services.processor import TranscriptProcessor
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.idempotency import MemoryPersistenceLayer
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore

# What the deployed processor uses.
DEFAULT_PARALLEL_SESSIONS = composition.PARALLEL_SESSIONS
LANGUAGE_WORKERS = composition.LANGUAGE_WORKERS

FIRST_SEQUENCE_NUMBER = 49590338271490256608559692538361571095921575989136588898
TEN_LANGUAGES: tuple[str, ...] = ("es", "fr", "de", "it", "pt", "ja", "ko", "zh", "ar", "hi")


class LambdaContext:
    """What idempotency needs from Lambda's context: the time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def kinesis_event(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A Lambda Kinesis event: one plain (non-KPL) record each, partition key = session."""
    out = []
    now = time.time()
    for index, record in enumerate(records):
        data = json.dumps(record).encode("utf-8")
        out.append(
            {
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{index:056d}",
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(record["sessionId"]),
                    "sequenceNumber": str(FIRST_SEQUENCE_NUMBER + index),
                    "data": base64.b64encode(data).decode("ascii"),
                    "approximateArrivalTimestamp": now,
                },
            }
        )
    return {"Records": out}


def transcript(session_id: str, sequence: int, text: str, **emotion: Any) -> dict[str, Any]:
    return {
        "type": "transcript",
        "sessionId": session_id,
        "sequence": sequence,
        "sourceLanguage": "en",
        "transcriptText": text,
        "emotionDynamics": {
            "emotion": emotion.get("emotion", "neutral"),
            "intensity": emotion.get("intensity", 0.5),
            "rateWpm": emotion.get("rateWpm", 150),
            "volumeLevel": emotion.get("volumeLevel", "normal"),
        },
    }


class DispatchingPublisher(MemoryEventPublisher):
    """EventBridge with a rule to the broadcaster: each ``SegmentReady`` starts one
    broadcaster "invocation" on its own thread, as Lambda would, with no bus delay."""

    def __init__(self, deliver: Callable[[str, Mapping[str, Any]], Any]) -> None:
        super().__init__()
        self._deliver = deliver
        self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="invocation")
        self.invocations: list[Future[Any]] = []

    def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        entries = list(events)
        result = super().publish(entries)
        for detail_type, detail in entries:
            if detail_type == "SegmentReady":
                self.invocations.append(self._pool.submit(self._deliver, detail_type, detail))
        return result

    def wait(self) -> list[Any]:
        """Results of every invocation so far (re-raises a failed one)."""
        return [f.result() for f in self.invocations]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass
class Pipeline:
    processor: TranscriptProcessor
    orchestrator: Orchestrator
    sessions: MemorySessionStore
    cache: TranslationCache

    def close(self) -> None:
        self.processor.close()
        self.orchestrator.close()


def memory_pipeline(
    *,
    translator: Translator,
    synthesizer: Synthesizer,
    publisher: MemoryEventPublisher,
    sessions: MemorySessionStore | None = None,
    cache_store: TranslationCacheStore | None = None,
    audio: AudioStore | None = None,
    max_cache_entries: int = 10_000,
    max_parallel_sessions: int = DEFAULT_PARALLEL_SESSIONS,
    language_workers: int = LANGUAGE_WORKERS,
) -> Pipeline:
    """The transcript processor as composition builds it, on memory stores."""
    sessions = sessions or MemorySessionStore()
    deps = composition.build_processor(
        Settings(max_cache_entries=max_cache_entries),
        composition.ProcessorPorts(
            sessions=sessions,
            translator=translator,
            synthesizer=synthesizer,
            translation_cache=cache_store or MemoryTranslationCacheStore(),
            audio=audio or MemoryAudioStore(),
            publisher=publisher,
            idempotency_store=MemoryPersistenceLayer,
        ),
        max_language_workers=language_workers,
        max_parallel_sessions=max_parallel_sessions,
    )
    return Pipeline(deps.processor, deps.orchestrator, sessions, deps.cache)


def listen(sessions: MemorySessionStore, session_id: str, counts: Mapping[str, int]) -> None:
    """A started session with these listeners per language (as the $connect handler counts)."""
    sessions.start(session_id, "en")
    sessions.set_listeners(session_id, dict(counts))


def split_evenly(total: int, languages: Sequence[str]) -> dict[str, int]:
    base, extra = divmod(total, len(languages))
    return {lang: base + (1 if i < extra else 0) for i, lang in enumerate(languages)}
