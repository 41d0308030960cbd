"""Broadcaster: live captions (never after their segment, never twice, never backwards)
and captions-only listeners (segments without audio), on in-memory fakes."""

from __future__ import annotations

import base64

import pytest

from polycast import schemas
from polycast.domain import events
from polycast.domain.models import AudioRef, LiveCaption
from polycast.services.partial_marks import PartialMarks
from polycast_kit.testing.listeners import MemoryListenerRegistry

from .test_broadcaster import SESSION, World, segment, started_world


@pytest.fixture
def world() -> World:
    return started_world()


def caption(sequence: int = 1, revision: int = 3, language: str = "es") -> LiveCaption:
    return LiveCaption(SESSION, sequence, language, "en", f"Hola {sequence}.{revision}", revision)


def kinds(world: World, connection_id: str) -> list[tuple[str, int, str]]:
    out = []
    for message in world.sender.messages(connection_id):
        schemas.validate(f"messages/{message['type']}", message)
        out.append((message["type"], message["sequence"], message["text"]))
    return out


def test_a_partial_reaches_the_languages_listeners_as_a_text_only_message(world: World) -> None:
    world.join("a", "es")
    world.join("b", "fr")
    result = world.broadcaster().handle("PartialReady", events.partial_ready(caption()))
    assert result.delivered == 1
    assert kinds(world, "a") == [("partial", 1, "Hola 1.3")]
    assert world.sender.messages("b") == []
    assert world.publisher.of_type("BroadcastCompleted") == []  # disposable: no report


def test_a_partial_after_its_segment_is_dropped(world: World) -> None:
    world.join("a", "es")
    broadcaster = world.broadcaster()
    broadcaster.handle("PartialReady", events.partial_ready(caption(1, 3)))
    broadcaster.broadcast_segment(segment(1))
    late = broadcaster.handle("PartialReady", events.partial_ready(caption(1, 6)))
    assert late.duplicate
    assert late.delivered == 0
    assert [k[0] for k in kinds(world, "a")] == ["partial", "segment"]


def test_another_containers_segment_is_seen_through_the_segments_table(world: World) -> None:
    world.join("a", "es")
    world.broadcaster().broadcast_segment(segment(2))  # another container
    fresh = world.broadcaster()
    assert fresh.handle("PartialReady", events.partial_ready(caption(2, 3))).duplicate
    assert fresh.handle("PartialReady", events.partial_ready(caption(1, 3))).duplicate
    assert fresh.handle("PartialReady", events.partial_ready(caption(3, 3))).delivered == 1


def test_a_redelivered_or_overtaken_partial_is_not_sent_again(world: World) -> None:
    world.join("a", "es")
    broadcaster = world.broadcaster()
    for c in (caption(1, 3), caption(1, 3), caption(1, 7), caption(1, 5), caption(2, 2)):
        broadcaster.handle("PartialReady", events.partial_ready(c))
    assert [k[2] for k in kinds(world, "a")] == ["Hola 1.3", "Hola 1.7", "Hola 2.2"]


def test_partial_marks_are_per_language_and_bounded() -> None:
    marks = PartialMarks(max_streams=2)
    assert marks.claim(caption(1, 3, "es"))
    assert marks.claim(caption(1, 3, "fr"))
    marks.finished(SESSION, "es", 1)
    assert not marks.claim(caption(1, 9, "es"))
    assert marks.claim(caption(1, 4, "fr"))
    assert marks.claim(caption(1, 1, "de"))  # the oldest mark (es) is forgotten
    assert len(marks._marks) == 2


def test_paused_listeners_get_no_partials(world: World) -> None:
    world.join("on", "es")
    world.join("off", "es", paused=True)
    world.broadcaster().broadcast_partial(caption())
    assert world.sender.messages("off") == []


def test_a_captions_only_listener_gets_segments_without_audio(world: World) -> None:
    world.join("ears", "es")
    world.join("eyes", "es")
    MemoryListenerRegistry(world.connections, world.sessions).set_audio("eyes", False)
    audio = AudioRef(data_b64=base64.b64encode(b"\xff\xfb" + b"\0" * 99).decode(), size=101)
    world.broadcaster().broadcast_segment(segment(1, audio=audio))
    (heard,) = world.sender.messages("ears")
    (read,) = world.sender.messages("eyes")
    assert heard["audio"] is not None
    assert read["audio"] is None
    assert read["text"] == heard["text"]
    schemas.validate("messages/segment", read)
