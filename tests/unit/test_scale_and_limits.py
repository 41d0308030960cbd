"""Issue 6 on in-memory fakes: audience slicing, the claim check by audience, the
audio cache, the rate governor, degradation under throttling, and oversize text."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from polycast import schemas
from polycast.domain import events
from polycast.domain.models import Connection, EmotionDynamics, Segment, Transcript
from polycast.domain.text_split import SentenceTooLong, sentences, split_text
from polycast.errors import Throttled, TransientError
from polycast.services.broadcaster import Broadcaster
from polycast.services.orchestrator import STANDARD_VOICE, TEXT_ONLY, Orchestrator
from polycast.services.rate_governor import RateGovernor, ServiceLimits
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

from .test_orchestrator import published_segments

SESSION = "golden-eagle-427"

# ---- audience slices ------------------------------------------------------------------


@dataclass
class Audience:
    sessions: MemorySessionStore
    connections: MemoryConnectionStore
    segments: MemorySegmentLog
    sender: RecordingSender
    publisher: MemoryEventPublisher
    broadcaster: Broadcaster

    def join(self, count: int, language: str = "es") -> None:
        for n in range(count):
            MemoryListenerRegistry(self.connections, self.sessions).admit(
                Connection(f"{language}-{n}", SESSION, language, 1)
            )

    def run_slices(self) -> list[dict[str, Any]]:
        """Hand every published BroadcastSlice to "another invocation" (same service)."""
        details = self.publisher.of_type("BroadcastSlice")
        for detail in details:
            self.broadcaster.handle("BroadcastSlice", detail)
        return details


@pytest.fixture
def audience() -> Audience:
    sessions = MemorySessionStore()
    sessions.start(SESSION, "en")
    connections = MemoryConnectionStore(page_size=250)
    segments = MemorySegmentLog()
    sender = RecordingSender()
    publisher = MemoryEventPublisher()
    broadcaster = Broadcaster(
        connections=connections,
        listeners=MemoryListenerRegistry(connections, sessions),
        sessions=sessions,
        segments=segments,
        sender=sender,
        publisher=publisher,
        audio=MemoryAudioStore(),
        max_concurrent=16,
        audience_slice_size=2000,
    )
    return Audience(sessions, connections, segments, sender, publisher, broadcaster)


def ready(sequence: int = 1, language: str = "es") -> dict[str, Any]:
    return events.segment_ready(
        Segment(SESSION, sequence, language, "en", "Hola", "Hello", audio=None)
    )


def test_a_large_audience_is_split_into_slices_that_reach_everyone_once(
    audience: Audience,
) -> None:
    audience.join(5000)

    result = audience.broadcaster.handle("SegmentReady", ready())

    assert result.slices == 3
    assert audience.sender.total_delivered == 0
    details = audience.run_slices()
    for detail in details:
        schemas.validate_event("BroadcastSlice", detail)
    assert sorted(d["slice"]["index"] for d in details) == [0, 1, 2]
    assert {d["slice"]["count"] for d in details} == {3}
    assert len(audience.sender.delivered) == 5000
    assert all(len(frames) == 1 for frames in audience.sender.delivered.values())
    completed = audience.publisher.of_type("BroadcastCompleted")
    assert sum(c["delivered"] for c in completed) == 5000
    assert all(c["slice"]["count"] == 3 for c in completed)


def test_a_small_audience_is_not_split(audience: Audience) -> None:
    audience.join(2000)
    result = audience.broadcaster.handle("SegmentReady", ready())
    assert result.slices == 0
    assert result.delivered == 2000
    assert audience.publisher.of_type("BroadcastSlice") == []


def test_redelivered_segment_and_slices_are_dropped(audience: Audience) -> None:
    audience.join(4500)
    audience.broadcaster.handle("SegmentReady", ready())
    details = audience.run_slices()

    again = audience.broadcaster.handle("SegmentReady", ready())
    assert again.duplicate
    for detail in details:  # EventBridge delivers each slice a second time
        assert audience.broadcaster.handle("BroadcastSlice", detail).duplicate
    assert audience.sender.total_delivered == 4500
    assert len(audience.publisher.of_type("BroadcastSlice")) == 3


def test_a_refused_slice_retries_the_split_and_delivered_slices_are_not_repeated(
    audience: Audience,
) -> None:
    audience.join(4500)
    refuse = {"index": 2}
    audience.publisher.fail_when = lambda kind, detail: (
        kind == "BroadcastSlice" and detail["slice"]["index"] == refuse["index"]
    )
    with pytest.raises(TransientError):
        audience.broadcaster.handle("SegmentReady", ready())
    audience.run_slices()  # slices 0 and 1 went out and were delivered

    refuse["index"] = -1  # the bus recovers; EventBridge retries the SegmentReady
    audience.broadcaster.handle("SegmentReady", ready())
    for detail in audience.publisher.of_type("BroadcastSlice"):
        audience.broadcaster.handle("BroadcastSlice", detail)

    assert len(audience.sender.delivered) == 4500
    assert all(len(frames) == 1 for frames in audience.sender.delivered.values())


def test_a_slice_event_without_its_slice_is_rejected(audience: Audience) -> None:
    from polycast.errors import BadRequest

    with pytest.raises(BadRequest):
        audience.broadcaster.handle("BroadcastSlice", ready())


# ---- the rate governor ----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_governor_allows_a_burst_then_paces_first_come_first_served() -> None:
    clock = FakeClock()
    governor = RateGovernor(8, burst=2, clock=clock, sleep=clock.sleep)

    assert governor.acquire(0)
    assert governor.acquire(0)
    assert not governor.acquire(0)  # the third would have to wait
    assert governor.acquire(1.0)  # it may wait: the next slot is 1/8 s away
    assert clock.sleeps == [pytest.approx(0.125)]
    assert governor.acquire(1.0)
    assert clock.sleeps[-1] == pytest.approx(0.25)  # queued behind the previous one


def test_a_refused_caller_reserves_nothing() -> None:
    clock = FakeClock()
    governor = RateGovernor(1, burst=1, clock=clock, sleep=clock.sleep)
    assert governor.acquire(0)
    for _ in range(10):
        assert not governor.acquire(0.5)
    clock.now += 1.0
    assert governor.acquire(0)  # the refusals did not push the schedule back
    assert (governor.granted, governor.refused) == (2, 10)


def test_rate_zero_is_unlimited() -> None:
    governor = RateGovernor(0)
    assert all(governor.acquire(0) for _ in range(1000))


# ---- the orchestrator under pressure --------------------------------------------------


@dataclass
class Pipeline:
    sessions: MemorySessionStore
    translator: FakeTranslator
    neural: FakeSynthesizer
    standard: FakeSynthesizer
    audio: MemoryAudioStore
    publisher: MemoryEventPublisher
    orchestrator: Orchestrator

    def listen(self, **counts: int) -> None:
        self.sessions.start(SESSION, "en")
        self.sessions.set_listeners(SESSION, counts)

    def segments(self) -> dict[str, dict[str, Any]]:
        return published_segments(self.publisher)


def pipeline(
    *,
    neural: FakeSynthesizer | None = None,
    standard: FakeSynthesizer | None = None,
    limits: ServiceLimits | None = None,
    audio: MemoryAudioStore | None = None,
    reference_audio_audience: int = 1000,
    workers: int = 4,
    translations: MemoryTranslationCacheStore | None = None,
) -> Pipeline:
    sessions = MemorySessionStore()
    translator = FakeTranslator()
    neural = neural or FakeSynthesizer(engine="neural")
    standard = standard or FakeSynthesizer(engine="standard")
    audio = audio or MemoryAudioStore()
    publisher = MemoryEventPublisher()
    orchestrator = Orchestrator(
        sessions=sessions,
        translator=translator,
        synthesizer=neural,
        fallback_synthesizers=[standard],
        cache=TranslationCache(translations or MemoryTranslationCacheStore()),
        audio=audio,
        publisher=publisher,
        audio_bucket="polycast-audio",
        max_workers=workers,
        limits=limits,
        reference_audio_audience=reference_audio_audience,
    )
    return Pipeline(sessions, translator, neural, standard, audio, publisher, orchestrator)


@pytest.fixture
def flow() -> Iterator[Pipeline]:
    p = pipeline()
    yield p
    p.orchestrator.close()


def transcript(text: str = "Hello everyone. This is important news.", **kw: Any) -> Transcript:
    return Transcript(SESSION, "en", text, EmotionDynamics("happy", 0.8, 150, "normal"), **kw)


def test_throttled_neural_degrades_to_the_standard_voice_and_records_the_step() -> None:
    p = pipeline(neural=FakeSynthesizer(engine="neural", throttle_all=True))
    p.listen(es=3)
    outcome = p.orchestrator.process(transcript(), 1)
    assert p.segments()["es"]["audio"] is not None
    assert outcome.degraded == {"es": STANDARD_VOICE}
    ((language, ssml),) = p.standard.calls
    assert language == "es"
    assert "pitch" in ssml
    p.orchestrator.close()


def test_both_voices_throttled_degrade_to_text_only() -> None:
    p = pipeline(
        neural=FakeSynthesizer(engine="neural", throttle_all=True),
        standard=FakeSynthesizer(engine="standard", throttle_all=True),
    )
    p.listen(es=3)
    outcome = p.orchestrator.process(transcript(), 1)
    assert p.segments()["es"]["audio"] is None
    assert p.segments()["es"]["text"].startswith("[es]")
    assert outcome.degraded == {"es": TEXT_ONLY}
    assert outcome.audio_missing == {"es": "THROTTLED"}
    p.orchestrator.close()


def test_under_the_governor_the_most_listened_language_keeps_the_neural_voice() -> None:
    clock = FakeClock()
    limits = ServiceLimits(
        {
            "neural": RateGovernor(1, burst=1, clock=clock, sleep=clock.sleep),
            "standard": RateGovernor(1, burst=1, clock=clock, sleep=clock.sleep),
        },
        max_wait=0,
    )
    p = pipeline(limits=limits, workers=1)  # one worker: languages start in order
    p.listen(fr=5, es=40, it=12)
    outcome = p.orchestrator.process(transcript(), 1)
    assert [lang for lang, _ in p.neural.calls] == ["es"]
    assert [lang for lang, _ in p.standard.calls] == ["it"]
    assert outcome.degraded == {"it": STANDARD_VOICE, "fr": TEXT_ONLY}
    assert p.segments()["fr"]["audio"] is None
    p.orchestrator.close()


def test_the_translate_governor_refusing_retries_the_record_not_loses_it() -> None:
    clock = FakeClock()
    limits = ServiceLimits(
        {"translate": RateGovernor(1, burst=1, clock=clock, sleep=clock.sleep)}, max_wait=0
    )
    p = pipeline(limits=limits, workers=1)
    p.listen(es=2, fr=1)
    with pytest.raises(TransientError, match="fr"):
        p.orchestrator.process(transcript(), 1)
    assert set(p.segments()) == {"es"}  # published; fr waits for the record's retry
    clock.now += 10
    assert p.orchestrator.process(transcript(), 1).languages_processed == 2
    p.orchestrator.close()


# ---- claim check by audience, audio cache ---------------------------------------------


def test_a_crowded_language_gets_audio_by_reference_even_when_small() -> None:
    p = pipeline(reference_audio_audience=1000)
    p.listen(es=1000, fr=999)
    p.orchestrator.process(transcript(), 1)
    segments = p.segments()
    assert set(segments["es"]["audio"]) == {"format", "bucket", "key", "size"}
    assert p.audio.objects[segments["es"]["audio"]["key"]]
    assert segments["fr"]["audio"]["encoding"] == "base64"
    p.orchestrator.close()


def test_audio_is_synthesized_once_per_ssml_voice_and_format_across_containers() -> None:
    # Containers share S3 and the CachedTranslations table: the second one finds the
    # translation, so it looks the audio up too.
    shared, translations = MemoryAudioStore(), MemoryTranslationCacheStore()
    first = pipeline(audio=shared, translations=translations)
    second = pipeline(audio=shared, translations=translations)
    for p in (first, second):
        p.listen(es=1)
    first.orchestrator.process(transcript(), 1)
    second.orchestrator.process(transcript(), 1)  # a new container, same S3 cache
    assert len(first.neural.calls) == 1
    assert second.neural.calls == []
    assert first.segments()["es"]["audio"] == second.segments()["es"]["audio"]

    calm = Transcript(SESSION, "en", transcript().text, EmotionDynamics("calm", 0.8, 110, "soft"))
    second.orchestrator.process(calm, 2)  # other dynamics → other SSML → new audio
    assert len(second.neural.calls) == 1
    assert len(shared.objects) == 2
    for p in (first, second):
        p.orchestrator.close()


# ---- oversize text --------------------------------------------------------------------


def test_sentences_split_at_their_ends() -> None:
    assert sentences("One. Two? Three! «Four.» 五。六！") == [
        "One.",
        "Two?",
        "Three!",
        "«Four.»",
        "五。",
        "六！",
    ]


def test_split_keeps_whole_sentences_within_the_limit() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(200))
    pieces = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("short", 10) == ["short"]


def test_split_counts_bytes_when_asked() -> None:
    text = "ñandú. " * 2000
    pieces = split_text(text.strip(), 10_000, in_bytes=True)
    assert all(len(p.encode("utf-8")) <= 10_000 for p in pieces)
    assert len(pieces) == 2


def test_one_sentence_over_the_limit_cannot_be_split() -> None:
    with pytest.raises(SentenceTooLong):
        split_text("word " * 1000 + "end.", 3000)


def test_long_text_is_synthesized_in_sentence_runs_and_joined(flow: Pipeline) -> None:
    flow.listen(en=1)  # the source language: no translation, the text as sent
    text = " ".join(f"This is sentence {n} of a very long statement." for n in range(180))
    assert len(text) > 6000
    outcome = flow.orchestrator.process(transcript(text), 1)
    assert outcome.audio_missing == {}
    assert len(flow.neural.calls) == 3
    for _, ssml in flow.neural.calls:
        assert len(ssml) <= 6000
    audio = base64.b64decode(flow.segments()["en"]["audio"]["data"])
    assert audio.count(b"ID3") == 3  # three MP3 runs, concatenated in order


def test_a_sentence_too_long_for_polly_is_sent_as_text_only(flow: Pipeline) -> None:
    flow.listen(en=1)
    text = "word " * 700 + "end."  # 3,504 characters without a sentence boundary
    outcome = flow.orchestrator.process(transcript(text), 1)
    assert outcome.audio_missing == {"en": "SENTENCE_TOO_LONG"}
    assert flow.segments()["en"]["audio"] is None
    assert flow.neural.calls == []


def test_fake_throttle_is_a_transient_error() -> None:
    assert issubclass(Throttled, TransientError)


# ---- a listener still connecting is not pruned ------------------------------------------


def test_a_410_from_a_connection_still_connecting_does_not_prune_it(audience: Audience) -> None:
    now = 1_000_000.0
    audience.broadcaster.clock = lambda: now
    for cid, connected_at in (("fresh", int(now) - 2), ("old", int(now) - 600)):
        MemoryListenerRegistry(audience.connections, audience.sessions).admit(
            Connection(cid, SESSION, "es", connected_at)
        )
        audience.sender.gone.add(cid)  # API Gateway answers 410 to both

    result = audience.broadcaster.handle("SegmentReady", ready())

    assert (result.skipped, result.gone) == (1, 1)
    assert audience.connections.get("fresh") is not None  # its $connect is still running
    assert audience.connections.get("old") is None  # really gone: pruned and counted out
    session = audience.sessions.get(SESSION)
    assert session is not None
    assert session.language_counts["es"] == 1
