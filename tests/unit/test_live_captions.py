"""Live captions on the processor side: the chunk rule, pacing, languages with listeners,
drop after the final, disposability — with in-memory fakes and real Kinesis shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from polycast.domain.live_captions import CaptionDraft, next_chunk
from polycast.domain.models import Partial
from polycast.domain.records import parse_record
from polycast.errors import InvalidRecord
from polycast.services.live_captions import LiveCaptions
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.translator import FakeTranslator

from .test_processor import World, batch, failures, kinesis, make_world, record

A = "golden-eagle-427"

# ---- the chunk rule (pure) -----------------------------------------------------------


def test_a_chunk_ends_at_the_last_clause_boundary_of_the_new_stable_words() -> None:
    assert next_chunk("Our next speaker", 0) is None  # no clause yet, too short
    chunk = next_chunk("Our next speaker, who flew in today, is", 0)
    assert chunk is not None
    assert (chunk.text, chunk.words) == ("Our next speaker, who flew in today,", 7)
    assert next_chunk("Our next speaker, who flew in today, is", 7) is None


def test_a_short_clause_waits_and_a_long_run_without_one_is_taken() -> None:
    assert next_chunk("Yes, well", 0) is None  # "Yes," is under MIN_CLAUSE_WORDS
    words = " ".join(["word"] * 10)
    chunk = next_chunk(words, 0)
    assert chunk is not None
    assert chunk.words == 10
    assert next_chunk(words + " more", 10) is None


def test_a_draft_only_grows() -> None:
    draft = CaptionDraft().extended("Nuestro próximo orador,", 3)
    draft = draft.extended("que voló hoy,", 4)
    assert (draft.covered_words, draft.text) == (7, "Nuestro próximo orador, que voló hoy,")


# ---- the record ------------------------------------------------------------------------


def test_a_partial_record_parses_and_validates() -> None:
    body = {
        "type": "partial",
        "sessionId": A,
        "sequence": 13,
        "sourceLanguage": "en",
        "text": "Our next speaker comes from",
        "stableText": "Our next speaker",
    }
    assert parse_record(json.dumps(body)) == Partial(
        A, "en", 13, "Our next speaker comes from", "Our next speaker"
    )
    with pytest.raises(InvalidRecord):
        parse_record(json.dumps({**body, "sequence": "13"}))
    odd = parse_record(json.dumps({**body, "stableText": "Something else"}))
    assert isinstance(odd, Partial)
    assert odd.stable_text == ""


# ---- the service -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def captions() -> Iterator[tuple[LiveCaptions, MemorySessionStore, FakeTranslator, Clock]]:
    sessions = MemorySessionStore()
    sessions.start(A, "en")
    sessions.set_listeners(A, {"es": 2, "fr": 1, "en": 1})
    translator = FakeTranslator()
    clock = Clock()
    service = LiveCaptions(
        sessions=sessions, translator=translator, publisher=MemoryEventPublisher(), clock=clock
    )
    yield service, sessions, translator, clock
    service.close()


def partial(stable: str, sequence: int = 13, tail: str = " and") -> Partial:
    return Partial(A, "en", sequence, stable + tail, stable)


def published(service: LiveCaptions) -> list[dict[str, Any]]:
    assert isinstance(service.publisher, MemoryEventPublisher)
    return service.publisher.of_type("PartialReady")


def test_each_listened_language_gets_its_caption_the_source_untranslated(captions: Any) -> None:
    service, _, translator, clock = captions
    outcome = service.offer(partial("Our next speaker, who flew in today,"))
    assert outcome.published == 3
    by_language = {d["language"]: d for d in published(service)}
    assert by_language["es"]["text"] == "[es] Our next speaker, who flew in today,"
    assert by_language["en"]["text"] == "Our next speaker, who flew in today,"
    assert {d["revision"] for d in by_language.values()} == {7}
    assert sorted(t for _, t in translator.calls) == ["es", "fr"]
    assert outcome.translated_chars == 2 * len("Our next speaker, who flew in today,")


def test_only_new_clauses_are_translated_and_appended(captions: Any) -> None:
    service, _, translator, clock = captions
    service.offer(partial("Our next speaker, who flew in today,"))
    clock.now += 1
    service.offer(partial("Our next speaker, who flew in today, is"))  # no new clause
    clock.now += 1
    service.offer(partial("Our next speaker, who flew in today, is our host tonight."))
    es = [d for d in published(service) if d["language"] == "es"]
    assert [d["text"] for d in es] == [
        "[es] Our next speaker, who flew in today,",
        "[es] Our next speaker, who flew in today, [es] is our host tonight.",
    ]
    assert [d["revision"] for d in es] == [7, 11]
    assert translator.calls_for("es") == 2


def test_partials_are_paced_per_session(captions: Any) -> None:
    service, _, _, clock = captions
    service.offer(partial("One two three four five,"))
    clock.now += 0.1
    assert service.offer(partial("One two three four five, six seven eight,")).skipped == "paced"
    clock.now += 1
    assert service.offer(partial("One two three four five, six seven eight,")).published == 3


def test_a_partial_after_its_final_or_of_an_older_sentence_is_dropped(captions: Any) -> None:
    service, _, translator, clock = captions
    service.finished(A, 13)
    assert service.offer(partial("Our next speaker, who flew in today,")).skipped == "late"
    clock.now += 1
    assert service.offer(partial("A new sentence starts here,", 14)).published == 3
    clock.now += 1
    assert service.offer(partial("Some old words arriving late,", 12)).skipped == "late"


def test_no_listeners_no_translation(captions: Any) -> None:
    service, sessions, translator, _ = captions
    sessions.set_listeners(A, {})
    assert service.offer(partial("Our next speaker, who flew in today,")).skipped == "no listeners"
    assert translator.calls == []


def test_a_failing_translation_drops_that_language_only_and_never_raises(captions: Any) -> None:
    service, _, translator, _ = captions
    translator.fail_languages = {"fr"}
    outcome = service.offer(partial("Our next speaker, who flew in today,"))
    assert sorted(d["language"] for d in published(service)) == ["en", "es"]
    assert outcome.published == 2


# ---- through the processor -------------------------------------------------------------


def partial_record(stable: str, sequence: int, text: str | None = None) -> dict[str, Any]:
    body = {
        "type": "partial",
        "sessionId": A,
        "sequence": sequence,
        "sourceLanguage": "en",
        "text": text or stable,
        "stableText": stable,
    }
    return kinesis(json.dumps(body).encode(), A)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world()
    yield w
    w.processor.close()
    w.processor.orchestrator.close()


def test_the_processor_captions_partials_then_drops_those_after_the_final(world: World) -> None:
    world.listen(A, es=1)
    result = world.run(
        batch(
            partial_record("Hello to you all, this is", 1, "Hello to you all, this is important"),
            record(A, "Hello everyone, this is important news.", 1),
            partial_record("Hello everyone, this is important news.", 1),
        )
    )
    assert failures(result.response()) == []
    captions = world.events("PartialReady")
    # The live caption, then the final caption the orchestrator publishes ahead of
    # the audio; the partial after the final is dropped.
    assert [(d["sequence"], d["text"], d.get("final")) for d in captions] == [
        (1, "[es] Hello to you all,", None),
        (1, "[es] Hello everyone, this is important news.", True),
    ]
    assert world.segments(A) == [(1, "es")]


def test_a_bad_partial_is_rejected_and_a_failing_one_fails_nothing(world: World) -> None:
    world.listen(A, es=1)
    world.translator.fail_languages = {"es"}
    bad = kinesis(json.dumps({"type": "partial", "sessionId": A}).encode(), A)
    result = world.run(batch(bad, partial_record("Hello to you all, this is", 1)))
    assert failures(result.response()) == []
    assert result.rejected == 1
    assert world.events("PartialReady") == []


def test_waiting_listeners_of_a_created_session_see_captions_an_ended_one_none() -> None:
    sessions = MemorySessionStore()
    sessions.create(A, "en", languages=("es",))
    sessions.set_listeners(A, {"es": 1})
    service = LiveCaptions(
        sessions=sessions,
        translator=FakeTranslator(),
        publisher=MemoryEventPublisher(),
        min_interval=0.0,
    )
    try:
        assert service.offer(partial("Our next speaker, who flew in today,")).published == 1
        sessions.end(A, reason="done")
        later = partial("A new sentence starts here,", 14)
        assert service.offer(later).skipped == "session not live"
    finally:
        service.close()
