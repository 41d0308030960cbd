"""Broadcaster service on in-memory fakes: fan-out, pruning, retries, dedupe, sizing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from polycast import schemas
from polycast.domain import events
from polycast.domain.models import AudioRef, Connection, Segment
from polycast.errors import BadRequest, TransientError
from polycast.services.broadcaster import CONNECTING_GRACE_SECONDS, AudienceSlice, Broadcaster
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore

SESSION = "golden-eagle-427"


@dataclass
class World:
    sessions: MemorySessionStore
    connections: MemoryConnectionStore
    segments: MemorySegmentLog
    sender: RecordingSender
    publisher: MemoryEventPublisher
    audio: MemoryAudioStore

    def broadcaster(self, **kw: Any) -> Broadcaster:
        return Broadcaster(
            connections=self.connections,
            listeners=MemoryListenerRegistry(self.connections, self.sessions),
            sessions=self.sessions,
            segments=self.segments,
            sender=self.sender,
            publisher=self.publisher,
            audio=self.audio,
            **kw,
        )

    def join(self, connection_id: str, language: str, *, paused: bool = False) -> None:
        MemoryListenerRegistry(self.connections, self.sessions).admit(
            Connection(connection_id, SESSION, language, 1, paused)
        )


def started_world() -> World:
    """A started session, no listeners yet, every store empty."""
    sessions = MemorySessionStore()
    sessions.start(SESSION, "en")
    return World(
        sessions,
        MemoryConnectionStore(page_size=7),
        MemorySegmentLog(),
        RecordingSender(),
        MemoryEventPublisher(),
        MemoryAudioStore(),
    )


@pytest.fixture
def world() -> World:
    return started_world()


def segment(sequence: int = 1, language: str = "es", audio: AudioRef | None = None) -> Segment:
    return Segment(SESSION, sequence, language, "en", "Hola a todos", "Hello everyone", audio)


def inline(data: bytes) -> AudioRef:
    return AudioRef(data_b64=base64.b64encode(data).decode("ascii"), size=len(data))


def test_delivers_to_every_listener_of_the_language_only(world: World) -> None:
    for n in range(20):
        world.join(f"es-{n}", "es")
    world.join("fr-0", "fr")

    result = world.broadcaster().broadcast_segment(segment(audio=inline(b"\xff\xfb" * 100)))

    assert (result.delivered, result.gone, result.failed) == (20, 0, 0)
    assert world.sender.messages("fr-0") == []
    for n in range(20):
        (message,) = world.sender.messages(f"es-{n}")
        schemas.validate("messages/segment", message)
        assert message["text"] == "Hola a todos"
        assert base64.b64decode(message["audio"]["data"]) == b"\xff\xfb" * 100


def test_broadcast_completed_event_carries_the_counts(world: World) -> None:
    world.join("a", "es")
    world.join("b", "es")
    world.sender.gone.add("b")

    world.broadcaster().broadcast_segment(segment(sequence=5))

    (detail,) = world.publisher.of_type("BroadcastCompleted")
    schemas.validate_event("BroadcastCompleted", detail)
    assert (detail["sequence"], detail["language"]) == (5, "es")
    assert (detail["delivered"], detail["gone"], detail["failed"]) == (1, 1, 0)


def test_gone_connection_is_pruned_and_counted_out(world: World) -> None:
    world.join("stays", "es")
    world.join("left", "es")
    world.sender.gone.add("left")

    result = world.broadcaster().broadcast_segment(segment())

    assert result.gone == 1
    assert result.delivered == 1
    assert world.connections.get("left") is None
    session = world.sessions.get(SESSION)
    assert session is not None
    assert session.listener_count == 1
    assert session.language_counts["es"] == 1
    (left,) = world.publisher.of_type("ListenerLeft")
    schemas.validate_event("ListenerLeft", left)
    assert (left["reason"], left["languageCount"]) == ("gone", 1)
    # The next segment no longer tries the pruned connection.
    world.broadcaster().broadcast_segment(segment(sequence=2))
    assert world.sender.attempts["left"] == 1


def test_prune_of_an_already_deleted_connection_does_not_decrement_twice(world: World) -> None:
    world.join("x", "es")
    world.join("y", "es")
    broadcaster = world.broadcaster()
    gone = Connection("x", SESSION, "es")

    assert broadcaster.prune(gone) is not None
    assert broadcaster.prune(gone) is None

    session = world.sessions.get(SESSION)
    assert session is not None
    assert session.listener_count == 1


def test_a_post_still_throttled_after_the_sdk_retries_counts_failed_once(world: World) -> None:
    """The SDK retries PostToConnection (clients.py); the service never calls again."""
    world.join("busy", "es")
    world.join("fine", "es")
    world.sender.throttle("busy", 1)

    result = world.broadcaster().broadcast_segment(segment())

    assert (result.delivered, result.failed) == (1, 1)
    assert world.sender.attempts["busy"] == 1
    assert world.sender.messages("busy") == []
    assert result.success_rate == 50.0
    # A failed delivery is not a gone connection: it stays.
    assert world.connections.get("busy") is not None


class MarksWithLostAnswers(MemorySegmentLog):
    """The mark is written, then its answer is lost (a timeout after the fact)."""

    def mark_delivered(
        self, segment: Segment, *, audience_slice: tuple[int, int] | None = None
    ) -> None:
        super().mark_delivered(segment, audience_slice=audience_slice)
        raise TransientError("injected: the answer was lost")


def test_a_failed_mark_keeps_the_fan_out_report(world: World) -> None:
    """Raising would make the event come again, find the mark, and drop the report of
    the failed deliveries: nothing on record. The mark's failure is logged instead."""
    world.segments = MarksWithLostAnswers()
    world.join("busy", "es")
    world.join("fine", "es")
    world.sender.throttle("busy", 1)

    result = world.broadcaster().broadcast_segment(segment())

    assert (result.delivered, result.failed) == (1, 1)
    (completed,) = world.publisher.of_type("BroadcastCompleted")
    assert (completed["delivered"], completed["failed"]) == (1, 1)


def test_duplicate_segment_is_not_delivered_twice(world: World) -> None:
    world.join("a", "es")
    broadcaster = world.broadcaster()

    first = broadcaster.broadcast_segment(segment(sequence=7))
    again = broadcaster.broadcast_segment(segment(sequence=7))

    assert first.delivered == 1
    assert again.duplicate
    assert again.delivered == 0
    assert len(world.sender.messages("a")) == 1
    assert len(world.publisher.of_type("BroadcastCompleted")) == 1


def test_same_sequence_in_another_language_is_not_a_duplicate(world: World) -> None:
    world.join("a", "es")
    world.join("b", "fr")
    broadcaster = world.broadcaster()

    broadcaster.broadcast_segment(segment(sequence=7, language="es"))
    result = broadcaster.broadcast_segment(segment(sequence=7, language="fr"))

    assert result.delivered == 1


def test_recorded_but_undelivered_segment_is_fanned_out_on_redelivery(world: World) -> None:
    """A crash between record and fan-out must not lose the segment."""
    world.join("a", "es")
    world.segments.record(segment(sequence=3), ttl_seconds=60)

    result = world.broadcaster().broadcast_segment(segment(sequence=3))

    assert result.delivered == 1
    assert world.segments.is_delivered(SESSION, "es", 3)


def test_concurrency_is_bounded(world: World) -> None:
    world.sender.delay = 0.005
    for n in range(40):
        world.join(f"l-{n}", "es")

    result = world.broadcaster(max_concurrent=4).broadcast_segment(segment())

    assert result.delivered == 40
    assert 1 < world.sender.max_in_flight <= 4


def test_paused_listeners_are_skipped(world: World) -> None:
    world.join("on", "es")
    world.join("off", "es", paused=True)

    result = world.broadcaster().broadcast_segment(segment())

    assert (result.delivered, result.skipped) == (1, 1)
    assert world.sender.messages("off") == []


def test_large_inline_audio_is_sent_in_parts_that_reassemble(world: World) -> None:
    world.join("a", "es")
    clip = bytes(range(256)) * 1200  # 300 KB: more than one API Gateway message

    world.broadcaster().broadcast_segment(segment(audio=inline(clip)))

    frames = world.sender.delivered["a"]
    assert len(frames) > 1
    assert all(len(frame) <= 128 * 1024 for frame in frames)
    parts = [json.loads(frame) for frame in frames]
    for part in parts:
        schemas.validate("messages/segment", part)
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}
    assert b"".join(base64.b64decode(p["audio"]["data"]) for p in parts) == clip


def test_audio_stored_in_s3_is_sent_by_presigned_url(world: World) -> None:
    world.join("a", "es")
    ref = world.audio.put("audio/golden-eagle-427/1/es.mp3", b"\xff" * 500_000)

    world.broadcaster().broadcast_segment(segment(audio=ref))

    (message,) = world.sender.messages("a")
    schemas.validate("messages/segment", message)
    assert message["audio"]["url"] == world.audio.url(ref)


def test_referenced_audio_without_a_store_degrades_to_text(world: World) -> None:
    world.join("a", "es")
    ref = AudioRef(bucket="b", key="k", size=10)

    broadcaster = world.broadcaster()
    broadcaster.audio = None
    broadcaster.broadcast_segment(segment(audio=ref))

    (message,) = world.sender.messages("a")
    schemas.validate("messages/segment", message)
    assert message["audio"] is None


def test_session_ended_reaches_every_listener_of_every_language(world: World) -> None:
    world.join("es-1", "es")
    world.join("fr-1", "fr")
    world.join("de-1", "de", paused=True)

    result = world.broadcaster().handle(
        "SessionEnded", events.session_ended(SESSION, "ended by speaker")
    )

    assert result.delivered == 3
    for cid in ("es-1", "fr-1", "de-1"):
        (message,) = world.sender.messages(cid)
        schemas.validate("messages/sessionEnded", message)
        assert message["sessionId"] == SESSION


def test_handle_segment_ready_detail(world: World) -> None:
    world.join("a", "es")
    detail = events.segment_ready(segment(sequence=9))
    schemas.validate_event("SegmentReady", detail)

    result = world.broadcaster().handle("SegmentReady", detail)

    assert result.delivered == 1
    assert world.sender.messages("a")[0]["sequence"] == 9


@pytest.mark.parametrize(
    ("detail_type", "detail"),
    [
        ("SegmentReady", {"sessionId": SESSION}),
        ("SessionEnded", {}),
        ("ListenerJoined", {"sessionId": SESSION}),
        ("SegmentReady", {**events.segment_ready(segment()), "slice": {"index": 3, "count": 2}}),
    ],
)
def test_malformed_events_are_bad_requests(
    world: World, detail_type: str, detail: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest):
        world.broadcaster().handle(detail_type, detail)


def test_audience_slices_together_reach_everyone_once(world: World) -> None:
    for n in range(60):
        world.join(f"l-{n}", "es")
    broadcaster = world.broadcaster()
    seg = segment(sequence=11)

    counts = [
        broadcaster.broadcast_segment(seg, audience_slice=AudienceSlice(i, 3)).delivered
        for i in range(3)
    ]

    assert sum(counts) == 60
    assert all(c > 0 for c in counts)
    assert all(len(world.sender.messages(f"l-{n}")) == 1 for n in range(60))
    for detail in world.publisher.of_type("BroadcastCompleted"):
        schemas.validate_event("BroadcastCompleted", detail)


def test_a_410_from_a_connection_still_connecting_skips_it_without_pruning(
    world: World,
) -> None:
    """API Gateway answers 410 to a post during $connect; that listener is not gone."""
    now = 1_000.0
    MemoryListenerRegistry(world.connections, world.sessions).admit(
        Connection("young", SESSION, "es", int(now) - 2)
    )
    world.sender.gone.add("young")

    result = world.broadcaster(clock=lambda: now).broadcast_segment(segment(1, "es"))

    assert (result.gone, result.skipped) == (0, 1)
    assert world.connections.get("young") is not None
    assert world.sessions.sessions[SESSION].language_counts["es"] == 1


def test_a_410_past_the_grace_period_prunes(world: World) -> None:
    now = 1_000.0
    MemoryListenerRegistry(world.connections, world.sessions).admit(
        Connection("old", SESSION, "es", int(now - CONNECTING_GRACE_SECONDS) - 1)
    )
    world.sender.gone.add("old")

    result = world.broadcaster(clock=lambda: now).broadcast_segment(segment(1, "es"))

    assert result.gone == 1
    assert world.connections.get("old") is None
    assert world.sessions.sessions[SESSION].listener_count == 0


def test_a_zero_grace_prunes_even_a_young_connection(world: World) -> None:
    """A gateway that holds posts until the upgrade completes needs no grace."""
    now = 1_000.0
    MemoryListenerRegistry(world.connections, world.sessions).admit(
        Connection("young", SESSION, "es", int(now))
    )
    world.sender.gone.add("young")

    result = world.broadcaster(clock=lambda: now, prune_grace_seconds=0).broadcast_segment(
        segment(1, "es")
    )

    assert result.gone == 1
    assert world.connections.get("young") is None
