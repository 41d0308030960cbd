"""The orchestrator with in-memory fakes: once per language, in parallel, failures contained."""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from polycast import schemas
from polycast.domain.models import EmotionDynamics, Transcript
from polycast.errors import TransientError
from polycast.services.orchestrator import Orchestrator
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import ID3_HEADER, FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

SESSION = "golden-eagle-427"


@dataclass
class World:
    sessions: MemorySessionStore
    translator: FakeTranslator
    synthesizer: FakeSynthesizer
    store: MemoryTranslationCacheStore
    audio: MemoryAudioStore
    publisher: MemoryEventPublisher
    orchestrator: Orchestrator

    def listeners(self, **counts: int) -> None:
        self.sessions.start(SESSION, "en")
        self.sessions.set_listeners(SESSION, {k.replace("_", "-"): v for k, v in counts.items()})

    def segments(self) -> dict[str, dict]:
        return published_segments(self.publisher)


def published_segments(publisher: MemoryEventPublisher) -> dict[str, dict]:
    """Each language's SegmentReady detail, validated against its schema."""
    out = {}
    for detail in publisher.of_type("SegmentReady"):
        schemas.validate_event("SegmentReady", detail)
        out[detail["language"]] = detail
    return out


def make_world(
    *,
    translator: FakeTranslator | None = None,
    synthesizer: FakeSynthesizer | None = None,
    publisher: MemoryEventPublisher | None = None,
    inline_max: int = 64 * 1024,
    audio: MemoryAudioStore | None = None,
) -> World:
    sessions = MemorySessionStore()
    translator = translator or FakeTranslator()
    synthesizer = synthesizer or FakeSynthesizer()
    store = MemoryTranslationCacheStore()
    audio = audio or MemoryAudioStore("polycast-audio")
    publisher = publisher or MemoryEventPublisher()
    orchestrator = Orchestrator(
        sessions=sessions,
        translator=translator,
        synthesizer=synthesizer,
        cache=TranslationCache(store),
        audio=audio,
        publisher=publisher,
        audio_bucket="polycast-audio",
        inline_audio_max_bytes=inline_max,
        max_workers=8,
        # A loaded test machine may schedule the caption's thread late: its order
        # before the segment is asserted, so it gets all the lead it needs.
        caption_lead_seconds=10.0,
    )
    return World(sessions, translator, synthesizer, store, audio, publisher, orchestrator)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.orchestrator.close()


def transcript(text: str = "Hello everyone, this is important news.", **kw: object) -> Transcript:
    return Transcript(SESSION, "en", text, EmotionDynamics("happy", 0.8, 150, "normal"), **kw)  # type: ignore[arg-type]


def test_zero_listeners_means_no_translation_no_synthesis_no_events(world: World) -> None:
    world.listeners()
    outcome = world.orchestrator.process(transcript(), 1)
    assert outcome.skipped == "no listeners"
    assert outcome.listener_count == 0
    assert world.translator.calls == []
    assert world.synthesizer.calls == []
    assert world.publisher.events == []
    assert world.store.get_calls == []


def test_unknown_session_is_treated_as_no_listeners(world: World) -> None:
    outcome = world.orchestrator.process(transcript(), 1)
    assert outcome.skipped == "no listeners"
    assert world.translator.calls == []


def test_one_segment_per_language_translated_and_synthesized_once(world: World) -> None:
    world.listeners(es=3, fr=1, de=2)
    outcome = world.orchestrator.process(transcript(), 7)
    assert outcome.languages_processed == 3
    assert outcome.languages_failed == 0
    assert outcome.listener_count == 6
    assert sorted(t for _, t in world.translator.calls) == ["de", "es", "fr"]
    assert sorted(lang for lang, _ in world.synthesizer.calls) == ["de", "es", "fr"]
    segments = world.segments()
    assert set(segments) == {"es", "fr", "de"}
    es = segments["es"]
    assert es["sequence"] == 7
    assert es["text"] == "[es] Hello everyone, this is important news."
    assert es["sourceText"] == "Hello everyone, this is important news."
    audio = base64.b64decode(es["audio"]["data"])
    assert audio.startswith(ID3_HEADER)
    assert set(es["timings"]) == {"translateMs", "synthesizeMs", "totalMs"}
    # Each language publishes as soon as it is ready: its final caption, then its segment.
    assert world.publisher.calls == 6
    assert outcome.broadcast_success_rate == 1.0


def test_languages_run_in_parallel() -> None:
    barrier = threading.Barrier(3, timeout=10)

    class WaitingTranslator(FakeTranslator):
        def translate(self, text: str, *, source: str, target: str, settings: object = None) -> str:
            barrier.wait()  # only passes when all three languages are in flight at once
            return super().translate(text, source=source, target=target)

    w = make_world(translator=WaitingTranslator())
    w.listeners(es=1, fr=1, it=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert outcome.languages_processed == 3
    w.orchestrator.close()


def test_source_language_listeners_hear_the_original_without_translation(world: World) -> None:
    world.listeners(en=2, es=1)
    world.orchestrator.process(transcript(), 1)
    assert [t for _, t in world.translator.calls] == ["es"]
    assert world.segments()["en"]["text"] == "Hello everyone, this is important news."


def test_a_failing_language_is_skipped_and_counted_while_others_succeed() -> None:
    w = make_world(translator=FakeTranslator(fail_languages={"fr"}))
    w.listeners(es=1, fr=1, de=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert outcome.languages_processed == 2
    assert outcome.languages_failed == 1
    assert outcome.failed_languages == {"fr": "TRANSLATION_FAILED"}
    assert set(w.segments()) == {"es", "de"}
    w.orchestrator.close()


def test_a_throttled_translation_is_not_retried_in_place() -> None:
    """The SDK has retried it already (clients.py): one call here, then the record's retry."""
    translator = FakeTranslator()
    translator.throttle("es", 1)
    w = make_world(translator=translator)
    w.listeners(es=1, fr=1)
    with pytest.raises(TransientError):
        w.orchestrator.process(transcript(), 1)
    assert translator.calls_for("es") == 1
    w.orchestrator.close()


def test_a_language_still_failing_transiently_retries_the_record_after_publishing_the_rest() -> (
    None
):
    translator = FakeTranslator()
    translator.throttle("es", 1)
    w = make_world(translator=translator)
    w.listeners(es=1, fr=1)
    with pytest.raises(TransientError, match="es"):
        w.orchestrator.process(transcript(), 1)
    assert set(w.segments()) == {"fr"}  # not held back by es
    # The retry succeeds (the throttling was used up); fr comes from the caches.
    calls = len(w.synthesizer.calls)
    assert w.orchestrator.process(transcript(), 1).languages_processed == 2
    assert translator.calls_for("fr") == 1
    assert len(w.synthesizer.calls) == calls + 1  # only es is new
    w.orchestrator.close()


def test_every_language_failing_for_good_is_reported_not_retried() -> None:
    w = make_world(translator=FakeTranslator(fail_languages={"es", "fr"}))
    w.listeners(es=1, fr=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert outcome.languages_failed == 2
    assert outcome.languages_processed == 0
    assert w.publisher.events == []
    w.orchestrator.close()


def test_synthesis_failure_still_sends_the_text_with_audio_null() -> None:
    w = make_world(synthesizer=FakeSynthesizer(fail_languages={"es"}))
    w.listeners(es=1, fr=1)
    outcome = w.orchestrator.process(transcript(), 1)
    segments = w.segments()
    assert segments["es"]["audio"] is None
    assert segments["es"]["text"].startswith("[es]")
    assert segments["fr"]["audio"] is not None
    assert outcome.languages_processed == 2
    assert outcome.audio_missing == {"es": "SYNTHESIS_FAILED"}
    w.orchestrator.close()


def test_synthesis_throttled_degrades_to_text_only() -> None:
    w = make_world(synthesizer=FakeSynthesizer(throttle_all=True))
    w.listeners(es=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert w.segments()["es"]["audio"] is None
    assert outcome.audio_missing == {"es": "THROTTLED"}
    w.orchestrator.close()


def test_a_language_without_a_voice_gets_text_only_without_calling_the_synthesizer(
    world: World,
) -> None:
    world.listeners(gl=1)
    outcome = world.orchestrator.process(transcript(), 1)
    assert world.segments()["gl"]["audio"] is None
    assert outcome.audio_missing == {"gl": "NO_VOICE"}
    assert world.synthesizer.calls == []


def test_large_audio_travels_by_s3_reference() -> None:
    w = make_world(synthesizer=FakeSynthesizer(audio_size=200_000), inline_max=64 * 1024)
    w.listeners(es=1)
    w.orchestrator.process(transcript(), 1)
    audio = w.segments()["es"]["audio"]
    assert set(audio) == {"format", "bucket", "key", "size"}
    assert audio["bucket"] == "polycast-audio"
    assert audio["size"] == 200_000
    assert len(w.audio.objects[audio["key"]]) == 200_000
    w.orchestrator.close()


def test_same_text_again_hits_both_caches(world: World) -> None:
    world.listeners(es=1, fr=1)
    first = world.orchestrator.process(transcript(), 1)
    second = world.orchestrator.process(transcript(), 2)
    assert first.cache_hit_rate == 0.0
    assert second.cache_hit_rate == 1.0
    assert len(world.translator.calls) == 2  # only the first time
    assert len(world.synthesizer.calls) == 2  # same SSML, voice, engine: audio cache
    assert len(world.store.put_calls) == 1  # one batch write of both translations
    # First: a final caption and a segment per language; then, from the audio cache,
    # the segments alone (nothing to wait for).
    assert len(world.publisher.of_type("SegmentReady")) == 4
    assert len(world.publisher.of_type("PartialReady")) == 2


def test_ssml_is_engine_aware_and_escapes_the_text() -> None:
    neural = make_world(synthesizer=FakeSynthesizer(engine="neural"))
    neural.listeners(es=1, ro=1)  # ro has only a standard voice on Polly
    attack = 'Hi <break time="9s"/> there, friends.'
    neural.orchestrator.process(transcript(attack), 1)
    by_lang = dict(neural.synthesizer.calls)
    assert "pitch" not in by_lang["es"]
    assert "pitch" in by_lang["ro"]  # the standard fallback voice gets the expressive table
    for doc in by_lang.values():
        root = ET.fromstring(doc)
        assert all(b.get("time") != "9s" for b in root.iter("break"))
    neural.orchestrator.close()


def test_events_the_bus_refuses_are_counted() -> None:
    w = make_world(publisher=MemoryEventPublisher(fail_when=lambda t, d: d["language"] == "fr"))
    w.listeners(es=1, fr=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert outcome.events_published == 1
    assert outcome.events_failed == 1
    assert outcome.broadcast_success_rate == 0.5
    w.orchestrator.close()


def test_many_languages_publish_one_entry_each(world: World) -> None:
    langs = ["es", "fr", "de", "it", "pt", "nl", "pl", "sv", "da", "fi", "tr", "ja"]
    world.listeners(**dict.fromkeys(langs, 1))
    outcome = world.orchestrator.process(transcript(), 1)
    assert outcome.languages_processed == 12
    assert outcome.events_published == 12  # the segments (captions are disposable)
    assert len(world.publisher.of_type("SegmentReady")) == 12
    assert set(world.segments()) == set(langs)


def test_a_ready_language_is_published_without_waiting_for_a_slower_one() -> None:
    """The ideal schedule is per language: es goes on the bus while fr still synthesizes."""
    release = threading.Event()
    es_published = threading.Event()

    class SlowFrench(FakeSynthesizer):
        def synthesize(self, ssml: str, *, language: str) -> bytes:
            if language == "fr":
                assert es_published.wait(10), "es waited for fr"
                release.wait(10)
            return super().synthesize(ssml, language=language)

    class Watching(MemoryEventPublisher):
        def publish(self, events):  # type: ignore[no-untyped-def]
            result = super().publish(events)
            if any(d["language"] == "es" for d in self.of_type("SegmentReady")):
                es_published.set()
            return result

    w = make_world(synthesizer=SlowFrench(), publisher=Watching())
    w.listeners(es=1, fr=1)
    done = threading.Thread(target=lambda: w.orchestrator.process(transcript(), 1))
    done.start()
    assert es_published.wait(10)
    assert set(w.segments()) == {"es"}  # fr is not ready yet
    release.set()
    done.join(10)
    assert set(w.segments()) == {"es", "fr"}
    w.orchestrator.close()


def test_a_bus_that_raises_fails_the_transcript_after_caching_the_translations() -> None:
    class Broken(MemoryEventPublisher):
        def publish(self, events):  # type: ignore[no-untyped-def]
            entries = list(events)
            if any(d["language"] == "fr" for _, d in entries):
                raise TransientError("bus unreachable")
            return super().publish(entries)

    w = make_world(publisher=Broken())
    w.listeners(es=1, fr=1)
    with pytest.raises(TransientError, match="bus unreachable"):
        w.orchestrator.process(transcript(), 1)
    assert set(w.segments()) == {"es"}  # the retry re-publishes; the broadcaster dedupes
    assert len(w.store.items) == 2  # both translations were cached for the retry
    w.orchestrator.close()


def test_a_language_whose_listeners_all_chose_captions_only_is_not_synthesized(
    world: World,
) -> None:
    from dataclasses import replace

    world.listeners(es=2, fr=1)
    session = world.sessions.get(SESSION)
    assert session is not None
    world.sessions.sessions[SESSION] = replace(session, captions_only_counts={"es": 1, "fr": 1})
    outcome = world.orchestrator.process(transcript(), 3)
    assert outcome.languages_processed == 2
    assert outcome.audio_missing == {}
    assert sorted(t for _, t in world.translator.calls) == ["es", "fr"]
    assert [lang for lang, _ in world.synthesizer.calls] == ["es"]  # fr: captions only
    segments = world.segments()
    assert segments["fr"]["audio"] is None
    assert segments["fr"]["text"].startswith("[fr]")
    assert segments["es"]["audio"] is not None
