"""Broadcaster: live captions (never after their segment, never twice, never backwards)
and captions-only listeners (segments without audio), on in-memory fakes."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from polycast import schemas
from polycast.domain import events
from polycast.domain.models import AudioRef, LiveCaption, Segment
from polycast.services.partial_marks import PartialMarks
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sessions import MemorySessionStore

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


def final(sequence: int = 1, words: int = 7, text: str | None = None) -> LiveCaption:
    """The orchestrator's early final caption: every source word, ``final``."""
    return LiveCaption(SESSION, sequence, "es", "en", text or f"Hola {sequence} final", words, True)


def test_the_final_caption_supersedes_every_live_caption_of_its_sequence() -> None:
    marks = PartialMarks()
    assert marks.claim(caption(1, 7))  # a live caption that already covered every word
    assert marks.claim(final(1, 7))  # same revision: the final still goes
    assert not marks.claim(final(1, 7))  # redelivered
    assert not marks.claim(caption(1, 7))  # a live caption overtaken by the final
    assert not marks.claim(caption(1, 9))  # even one that counted more stable words
    assert marks.claim(caption(2, 1))  # the next sentence
    assert not marks.claim(final(1, 7))


def test_a_final_caption_after_a_live_caption_with_more_words_still_goes() -> None:
    marks = PartialMarks()
    assert marks.claim(caption(1, 9))
    assert marks.claim(final(1, 7))


def test_nothing_after_the_segment_and_no_text_twice() -> None:
    marks = PartialMarks()
    marks.finished(SESSION, "es", 1)
    assert not marks.claim(final(1))
    assert marks.claim(caption(2, 3))
    # The final's text is what the listeners read already: not sent again, yet it
    # is the mark, so the live caption it overtook stays dropped.
    assert not marks.claim(final(2, 8, text="Hola 2.3"))
    assert not marks.claim(caption(2, 5))


def test_the_final_caption_reaches_listeners_between_live_captions_and_the_segment(
    world: World,
) -> None:
    world.join("a", "es")
    broadcaster = world.broadcaster()
    early = events.partial_ready(final(1, 7))
    schemas.validate_event("PartialReady", early)
    assert early["final"] is True
    assert "final" not in events.partial_ready(caption(1, 3))  # live captions unchanged
    assert events.caption_from_detail(early) == final(1, 7)
    broadcaster.handle("PartialReady", events.partial_ready(caption(1, 3)))
    assert broadcaster.handle("PartialReady", early).delivered == 1
    assert broadcaster.handle("PartialReady", events.partial_ready(caption(1, 6))).duplicate
    broadcaster.broadcast_segment(segment(1))
    assert broadcaster.handle("PartialReady", early).duplicate
    assert kinds(world, "a") == [
        ("partial", 1, "Hola 1.3"),
        ("partial", 1, "Hola 1 final"),
        ("segment", 1, segment(1).text),
    ]


# ---- reads overlapped before the first post ---------------------------------------------


class Meeting:
    """Two calls that only return when both are in flight at once (else it times out)."""

    def __init__(self) -> None:
        self.armed = False
        self.barrier = threading.Barrier(2, timeout=5)

    def meet(self) -> None:
        if self.armed:
            self.barrier.wait()


def overlapping_world(meeting: Meeting, *, first: str, second: str) -> World:
    class Connections(MemoryConnectionStore):
        def listeners(self, session_id: str, language: str | None = None) -> Any:
            if "listeners" in (first, second):
                meeting.meet()
            yield from super().listeners(session_id, language)

    class Segments(MemorySegmentLog):
        def record(self, segment: Segment, *, ttl_seconds: int) -> bool:
            if "record" in (first, second):
                meeting.meet()
            return super().record(segment, ttl_seconds=ttl_seconds)

        def since(self, *args: Any, **kw: Any) -> Any:
            if "since" in (first, second):
                meeting.meet()
            return super().since(*args, **kw)

    class Sessions(MemorySessionStore):
        def get(self, session_id: str) -> Any:
            if "sessions" in (first, second):
                meeting.meet()
            return super().get(session_id)

    world = started_world()
    sessions = Sessions()
    sessions.start(SESSION, "en")
    world = World(
        sessions, Connections(page_size=7), Segments(), world.sender, world.publisher, world.audio
    )
    world.join("a", "es")
    meeting.armed = True
    return world


@pytest.mark.parametrize(
    ("event", "first", "second"),
    [
        ("SegmentReady", "sessions", "record"),  # how many slices, while it is recorded
        ("BroadcastSlice", "record", "listeners"),
        ("PartialReady", "since", "listeners"),
    ],
)
def test_the_reads_before_the_first_post_overlap(event: str, first: str, second: str) -> None:
    meeting = Meeting()
    world = overlapping_world(meeting, first=first, second=second)
    broadcaster = world.broadcaster()
    if event == "PartialReady":
        detail = events.partial_ready(caption(1, 3))
    elif event == "BroadcastSlice":
        detail = events.broadcast_slice(segment(1), 0, 1)
    else:
        detail = events.segment_ready(segment(1))
    result = broadcaster.handle(event, detail)
    broadcaster.close()
    assert result.delivered == 1
    assert [m["type"] for m in world.sender.messages("a")] == [
        "partial" if event == "PartialReady" else "segment"
    ]
