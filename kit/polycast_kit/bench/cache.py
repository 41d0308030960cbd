"""cache: a talk with repeated phrases, with and without the caches.

The same processor runs the same talk three times with the same fakes: with the
caches as deployed (memory LRU → translation store; audio cache keyed on the
exact SSML), with both disabled (an LRU of 0 entries, stores that never find
anything), and in a second "container" (a fresh LRU) that shares the stores of
the first, as a new Lambda container shares DynamoDB and S3.

ratio = (translate + synthesize calls without caches) ÷ (calls with caches);
bar = transcripts ÷ distinct phrases, the most any cache could save. Calls are
counted, so the figure is exact.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from polycast.adapters.aws.kinesis_records import stream_records
from polycast.domain.models import AudioRef
from polycast_kit.bench.sizes import Progress, Size
from polycast_kit.bench.world import (
    LambdaContext,
    kinesis_event,
    listen,
    memory_pipeline,
    transcript,
)
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

NAME = "cache"
LANGUAGES = {"es": 4, "fr": 3, "de": 2}
EMOTIONS = ("neutral", "happy", "excited", "calm")


class NeverFoundStore:
    """A translation store that forgets everything: the "no cache" baseline."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        return {}

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None:
        return None


class NeverFoundAudio(MemoryAudioStore):
    """An audio store that never finds a clip: every segment is synthesized."""

    def get(self, key: str) -> bytes | None:
        return None

    def put(self, key: str, data: bytes, *, content_type: str = "audio/mpeg") -> AudioRef:
        return AudioRef(format="mp3", bucket=self.bucket, key=key, size=len(data))


def talk(transcripts: int, distinct: int, seed: int = 5) -> list[tuple[str, str]]:
    """(text, emotion) lines: each of ``distinct`` phrases said the same way, repeated."""
    phrases = [
        (f"Repeated phrase number {n}: thank you, next slide please.", EMOTIONS[n % len(EMOTIONS)])
        for n in range(distinct)
    ]
    lines = [phrases[i % distinct] for i in range(transcripts)]
    random.Random(seed).shuffle(lines)
    return lines


def ratio_of(result: Mapping[str, Any]) -> float:
    without, with_ = result["withoutCaches"], result["withCaches"]
    return float(
        (without["translateCalls"] + without["synthesizeCalls"])
        / (with_["translateCalls"] + with_["synthesizeCalls"])
    )


def _run_talk(
    lines: list[tuple[str, str]],
    session_id: str,
    *,
    store: Any,
    audio: MemoryAudioStore,
    max_entries: int,
) -> dict[str, Any]:
    translator = FakeTranslator()
    synthesizer = FakeSynthesizer(engine="neural")
    pipeline = memory_pipeline(
        translator=translator,
        synthesizer=synthesizer,
        publisher=MemoryEventPublisher(),
        cache_store=store,
        audio=audio,
        max_cache_entries=max_entries,
    )
    listen(pipeline.sessions, session_id, LANGUAGES)
    records = [
        transcript(session_id, n, text, emotion=emotion)
        for n, (text, emotion) in enumerate(lines, 1)
    ]
    try:
        batch = pipeline.processor.process_batch(
            stream_records(kinesis_event(records)), LambdaContext()
        )
    finally:
        pipeline.close()
    if batch.failed or len(batch.outcomes) != len(lines):
        raise RuntimeError(f"{NAME}: {len(batch.outcomes)}/{len(lines)} processed")
    return {
        "transcripts": len(lines),
        "translateCalls": len(translator.calls),
        "synthesizeCalls": len(synthesizer.calls),
        "cacheHits": sum(o.cache_hits for o in batch.outcomes),
        "cacheMisses": sum(o.cache_misses for o in batch.outcomes),
    }


def run(size: Size, progress: Progress) -> dict[str, Any]:
    transcripts, distinct = (240, 60) if size == "full" else (24, 8)
    lines = talk(transcripts, distinct)
    progress(f"{NAME}: {transcripts} transcripts, {distinct} distinct, with caches")
    store, audio = MemoryTranslationCacheStore(), MemoryAudioStore()
    with_caches = _run_talk(lines, "bench-cache-1", store=store, audio=audio, max_entries=10_000)
    progress(f"{NAME}: second container, same stores")
    second = _run_talk(lines, "bench-cache-2", store=store, audio=audio, max_entries=10_000)
    progress(f"{NAME}: without caches")
    without = _run_talk(
        lines, "bench-cache-3", store=NeverFoundStore(), audio=NeverFoundAudio(), max_entries=0
    )
    result: dict[str, Any] = {
        "transcripts": transcripts,
        "distinctPhrases": distinct,
        "languages": list(LANGUAGES),
        "withCaches": with_caches,
        "withoutCaches": without,
        "secondContainer": second,
    }
    ratio = ratio_of(result)
    bar = transcripts / distinct
    return {"ratio": round(ratio, 4), "bar": bar, "barKind": "min", "pass": ratio >= bar, **result}
