"""The orchestrator's final caption ahead of the audio, and the audio path's cuts: no
audio-cache lookup for a fresh translation, inline audio cached after its segment."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import pytest

from polycast import schemas
from polycast.domain.models import AudioRef
from polycast.errors import TransientError
from polycast.ports import PublishResult
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.synthesizer import FakeSynthesizer

from .test_orchestrator import SESSION, World, make_world, transcript

TEXT = "Hello everyone, this is important news."


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.orchestrator.close()


def captions(publisher: MemoryEventPublisher) -> dict[str, dict[str, Any]]:
    """Each language's PartialReady detail, validated against its schema."""
    out = {}
    for detail in publisher.of_type("PartialReady"):
        schemas.validate_event("PartialReady", detail)
        out[detail["language"]] = detail
    return out


def order(publisher: MemoryEventPublisher, language: str) -> list[str]:
    return [t for t, d in publisher.events if d.get("language") == language]


def test_a_synthesized_language_gets_its_whole_final_caption_before_its_segment(
    world: World,
) -> None:
    world.listeners(es=2, fr=1)
    outcome = world.orchestrator.process(transcript(), 4)
    found = captions(world.publisher)
    assert set(found) == {"es", "fr"}
    es = found["es"]
    assert es["final"] is True
    assert es["text"] == world.segments()["es"]["text"] == f"[es] {TEXT}"
    assert (es["sequence"], es["sourceLanguage"]) == (4, "en")
    assert es["revision"] == len(TEXT.split())  # every source word
    for language in ("es", "fr"):
        assert order(world.publisher, language) == ["PartialReady", "SegmentReady"]
    assert outcome.events_published == 2  # the segments; captions are not counted


def test_with_final_caption_first_off_the_caption_comes_with_its_audio(world: World) -> None:
    world.listeners(es=2, fr=1)
    world.orchestrator.final_caption_first = False
    world.orchestrator.process(transcript(), 4)
    assert captions(world.publisher) == {}
    for language in ("es", "fr"):
        assert order(world.publisher, language) == ["SegmentReady"]
    assert world.segments()["es"]["audio"] is not None


def test_the_source_languages_listeners_get_the_original_ahead_of_its_audio(world: World) -> None:
    world.listeners(en=2, es=1)
    world.orchestrator.process(transcript(), 1)
    en = captions(world.publisher)["en"]
    assert (en["text"], en["final"]) == (TEXT, True)
    assert order(world.publisher, "en") == ["PartialReady", "SegmentReady"]


def test_synthesis_does_not_wait_for_the_captions_publish() -> None:
    synthesizing = threading.Event()

    class SlowBus(MemoryEventPublisher):
        def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
            entries = list(events)
            if entries[0][0] == "PartialReady":
                assert synthesizing.wait(10), "synthesis waited for the caption's PutEvents"
            return super().publish(entries)

    class Watched(FakeSynthesizer):
        def synthesize(self, ssml: str, *, language: str) -> bytes:
            synthesizing.set()
            return super().synthesize(ssml, language=language)

    w = make_world(synthesizer=Watched(), publisher=SlowBus())
    w.listeners(es=1)
    w.orchestrator.process(transcript(), 1)
    assert order(w.publisher, "es") == ["PartialReady", "SegmentReady"]
    w.orchestrator.close()


def test_no_early_caption_for_captions_only_an_audio_cache_hit_or_text_only(
    world: World,
) -> None:
    world.listeners(es=1, fr=1, gl=1)  # gl: no Polly voice, text only
    session = world.sessions.get(SESSION)
    assert session is not None
    world.sessions.sessions[SESSION] = replace(session, captions_only_counts={"fr": 1})
    world.orchestrator.process(transcript(), 1)
    assert set(captions(world.publisher)) == {"es"}
    assert set(world.segments()) == {"es", "fr", "gl"}

    world.orchestrator.process(transcript(), 2)  # the same sentence: es from the audio cache
    assert [d["sequence"] for d in world.publisher.of_type("PartialReady")] == [1]
    second_es = [d for d in world.publisher.of_type("SegmentReady") if d["language"] == "es"][-1]
    assert (second_es["sequence"], second_es["audio"] is not None) == (2, True)

    long_sentence = " ".join(["word"] * 700) + "."  # one sentence over Polly's limit
    outcome = world.orchestrator.process(transcript(long_sentence), 3)
    assert outcome.audio_missing["es"] == "SENTENCE_TOO_LONG"
    assert [d["sequence"] for d in world.publisher.of_type("PartialReady")] == [1]


def test_an_early_caption_the_bus_refuses_or_fails_does_not_fail_the_transcript(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusing = MemoryEventPublisher(fail_when=lambda t, d: t == "PartialReady")
    w = make_world(publisher=refusing)
    w.listeners(es=1)
    with caplog.at_level(logging.WARNING):
        outcome = w.orchestrator.process(transcript(), 1)
    assert (outcome.languages_processed, outcome.events_failed) == (1, 0)
    assert set(w.segments()) == {"es"}
    w.orchestrator.close()

    class Unreachable(MemoryEventPublisher):
        def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
            entries = list(events)
            if entries[0][0] == "PartialReady":
                raise TransientError("bus unreachable")
            return super().publish(entries)

    w = make_world(publisher=Unreachable())
    w.listeners(es=1, fr=1)
    with caplog.at_level(logging.WARNING):
        outcome = w.orchestrator.process(transcript(), 2)
    assert (outcome.languages_processed, outcome.events_published) == (2, 2)
    assert set(w.segments()) == {"es", "fr"}
    w.orchestrator.close()
    dropped = [r for r in caplog.records if r.getMessage() == "early caption not published"]
    assert len(dropped) == 3
    assert {getattr(r, "error", None) for r in dropped} == {"refused", "TRANSIENT"}
    for record in caplog.records:  # codes and ids only, never the transcript's text
        assert "Hello" not in record.getMessage()
        assert all("Hello" not in str(v) for v in vars(record).values())


def test_a_fresh_translation_skips_the_audio_cache_lookup_a_cached_one_does_not(
    world: World,
) -> None:
    world.listeners(es=1, en=1)
    world.orchestrator.process(transcript(), 1)
    assert world.audio.gets == 1  # en only: its listeners hear the original, maybe cached
    assert len(world.synthesizer.calls) == 2
    world.orchestrator.process(transcript(), 2)  # es now comes from the translation cache
    assert world.audio.gets == 3
    assert len(world.synthesizer.calls) == 2  # both from the audio cache


class Watching(MemoryAudioStore):
    """Records, at each write, the SegmentReady events already on the bus."""

    def __init__(self, publisher: MemoryEventPublisher) -> None:
        super().__init__("polycast-audio")
        self.publisher = publisher
        self.segments_at_put: list[int] = []

    def put(self, key: str, data: bytes, *, content_type: str = "audio/mpeg") -> AudioRef:
        self.segments_at_put.append(len(self.publisher.of_type("SegmentReady")))
        return super().put(key, data, content_type=content_type)


def test_inline_audio_is_cached_after_its_segment_a_claim_check_before() -> None:
    publisher = MemoryEventPublisher()
    audio = Watching(publisher)
    w = make_world(publisher=publisher, audio=audio)
    w.listeners(es=1)
    w.orchestrator.process(transcript(), 1)
    assert w.segments()["es"]["audio"]["encoding"] == "base64"
    assert audio.segments_at_put == [1]  # written once the segment was out
    w.orchestrator.close()

    publisher = MemoryEventPublisher()
    audio = Watching(publisher)
    big = FakeSynthesizer(audio_size=200_000)
    w = make_world(publisher=publisher, audio=audio, synthesizer=big, inline_max=64 * 1024)
    w.listeners(es=1)
    w.orchestrator.process(transcript(), 1)
    ref = w.segments()["es"]["audio"]
    assert set(ref) == {"format", "bucket", "key", "size"}
    assert audio.segments_at_put == [0]  # the event names the object: written first
    assert len(audio.objects[ref["key"]]) == 200_000
    w.orchestrator.close()


def test_inline_audio_is_cached_for_the_retry_when_the_bus_refuses_its_segment() -> None:
    refusing = MemoryEventPublisher(fail_when=lambda t, d: t == "SegmentReady")
    w = make_world(publisher=refusing)
    w.listeners(es=1)
    outcome = w.orchestrator.process(transcript(), 1)
    assert outcome.events_failed == 1  # the processor retries the transcript
    assert w.audio.puts == 1
    w.publisher.fail_when = None
    w.orchestrator.process(transcript(), 1)
    assert len(w.synthesizer.calls) == 1  # the retry finds both caches
    w.orchestrator.close()
