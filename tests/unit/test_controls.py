"""Issue 8 with in-memory fakes: speaker pause/resume in the processor, listener
actions (switchLanguage, pause, resume), the atomic listener cap, the side-effect-free
admission check, the broadcaster's session notices and the session sweeper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from polycast import schemas
from polycast.domain.models import Connection, Segment, SessionPause, SessionResume
from polycast.domain.records import parse_record
from polycast.errors import InvalidRecord, PolycastError, SessionFull
from polycast.services.broadcaster import Broadcaster
from polycast.services.connections import ConnectionService
from polycast.services.session_sweeper import SessionSweeper
from polycast_kit.cli.produce import control_record
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore

from .processor_world import ScriptedTranslator, World, batch, kinesis, make_world, record

SESSION = "golden-eagle-427"
NOW = 1_800_000_000.0


# ---- records -----------------------------------------------------------------------


def test_pause_and_resume_records_parse_and_validate() -> None:
    paused = parse_record({"type": "sessionPaused", "sessionId": SESSION, "reason": "break"})
    assert paused == SessionPause(SESSION, "break")
    assert parse_record({"type": "sessionResumed", "sessionId": SESSION}) == SessionResume(SESSION)
    with pytest.raises(InvalidRecord):
        parse_record({"type": "sessionPaused", "sessionId": SESSION, "reason": 7})
    for kind in ("pause", "resume", "end"):
        made = control_record(kind, SESSION, "lunch")
        schemas.validate(f"records/{made['type']}", made)
        assert parse_record(made).session_id == SESSION


# ---- speaker pause in the processor ------------------------------------------------


def control(kind: str, session_id: str = SESSION) -> dict[str, Any]:
    data = json.dumps({"type": kind, "sessionId": session_id}).encode()
    return kinesis(data, session_id)


@pytest.fixture
def world() -> Iterator[World]:
    w = make_world(ScriptedTranslator())
    yield w
    w.processor.close()
    w.processor.orchestrator.close()


def test_transcripts_while_paused_are_skipped_with_a_reason(world: World) -> None:
    world.listen(SESSION, es=1, fr=1)
    result = world.run(
        batch(
            record(SESSION, "Before.", 1),
            control("sessionPaused"),
            record(SESSION, "During.", 2),
            record(SESSION, "Also during.", 3),
            control("sessionResumed"),
            record(SESSION, "After.", 4),
        )
    )

    assert result.failed == []
    assert sorted({s for s, _ in world.segments(SESSION)}) == [1, 4]
    rejected = world.events("TranscriptRejected")
    assert [(d["code"], d["sequence"]) for d in rejected] == [
        ("SESSION_PAUSED", 2),
        ("SESSION_PAUSED", 3),
    ]
    assert len(world.events("SessionPaused")) == 1
    assert len(world.events("SessionResumed")) == 1
    texts = world.translator.texts  # type: ignore[attr-defined]
    assert "Before." in texts
    assert "During." not in texts
    assert "Also during." not in texts
    skipped = [o for o in result.outcomes if o.skipped == "session paused"]
    assert [o.sequence for o in skipped] == [2, 3]


def test_a_replayed_paused_transcript_stays_skipped_after_the_resume(world: World) -> None:
    world.listen(SESSION, es=1)
    paused_batch = batch(control("sessionPaused"), record(SESSION, "During.", 1))
    world.run(paused_batch)
    world.run(batch(control("sessionResumed")))
    world.run(paused_batch)  # Kinesis redelivers the same records

    assert world.segments(SESSION) == []
    assert len(world.events("TranscriptRejected")) == 1
    assert len(world.events("SessionPaused")) == 1  # once per record, not per delivery


def test_pausing_an_unknown_session_is_rejected_not_retried(world: World) -> None:
    result = world.run(batch(control("sessionPaused", "nobody-here-1")))
    assert result.failed == []
    (rejected,) = world.events("TranscriptRejected")
    assert rejected["code"] == "SESSION_NOT_FOUND"


def test_transcripts_refresh_the_sessions_activity(world: World) -> None:
    world.listen(SESSION, es=1)
    quiet = world.sessions.sessions[SESSION]
    world.sessions.sessions[SESSION] = replace(quiet, last_activity_at=quiet.created_at - 600)
    world.run(batch(record(SESSION, "One.", 1), record(SESSION, "Two.", 2)))
    session = world.sessions.get(SESSION)
    assert session is not None
    assert session.last_activity_at >= quiet.created_at
    assert world.sessions.touches == 1  # once per activity_every_seconds, not per record


# ---- listener actions --------------------------------------------------------------


class Listeners:
    def __init__(self, max_listeners: int = 0) -> None:
        self.sessions = MemorySessionStore(clock=lambda: NOW)
        self.sessions.start(SESSION, "en")
        self.connections = MemoryConnectionStore()
        self.segments = MemorySegmentLog()
        self.sender = RecordingSender()
        self.publisher = MemoryEventPublisher()
        self.registry = MemoryListenerRegistry(self.connections, self.sessions)
        self.service = ConnectionService(
            sessions=self.sessions,
            connections=self.connections,
            listeners=self.registry,
            segments=self.segments,
            sender=self.sender,
            publisher=self.publisher,
            supported_languages={"es", "fr"},
            max_listeners_per_session=max_listeners,
            clock=lambda: NOW,
        )

    def join(self, connection_id: str, language: str) -> Connection:
        return self.service.connect(
            connection_id, {"sessionId": SESSION, "targetLanguage": language}
        )

    def counts(self) -> tuple[int, dict[str, int]]:
        session = self.sessions.get(SESSION)
        assert session is not None
        return session.listener_count, {k: v for k, v in session.language_counts.items() if v}

    def replies(self, connection_id: str) -> list[dict[str, Any]]:
        found = self.sender.messages(connection_id)
        for message in found:
            schemas.validate(f"messages/{message['type']}", message)
        return found


def test_admit_checks_like_connect_and_changes_nothing() -> None:
    world = Listeners()
    session = world.service.admit({"sessionId": SESSION, "targetLanguage": "es"})
    assert session.session_id == SESSION
    assert world.counts() == (0, {})
    assert len(world.connections) == 0
    assert world.publisher.events == []
    with pytest.raises(PolycastError) as refused:
        world.service.admit({"sessionId": SESSION, "targetLanguage": "de"})
    assert refused.value.code == "UNSUPPORTED_LANGUAGE"


def test_the_source_language_may_be_heard_untranslated() -> None:
    world = Listeners()
    world.join("c1", "en")
    assert world.counts() == (1, {"en": 1})


def test_switch_language_moves_the_connection_and_the_count() -> None:
    world = Listeners()
    world.join("c1", "es")
    world.join("c2", "es")

    ack = world.service.switch_language("c1", {"targetLanguage": "fr"})

    assert ack == {
        "type": "ack",
        "action": "switchLanguage",
        "targetLanguage": "fr",
        "previousLanguage": "es",
    }
    assert world.replies("c1") == [ack]
    assert world.counts() == (2, {"es": 1, "fr": 1})
    connection = world.connections.get("c1")
    assert connection is not None
    assert connection.language == "fr"
    fr = [c.connection_id for page in world.connections.listeners(SESSION, "fr") for c in page]
    assert fr == ["c1"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "MISSING_FIELD"),
        ({"targetLanguage": ""}, "MISSING_FIELD"),
        ({"targetLanguage": 5}, "BAD_REQUEST"),
        ({"targetLanguage": "<i>"}, "BAD_REQUEST"),
        ({"targetLanguage": "de"}, "UNSUPPORTED_LANGUAGE"),
    ],
)
def test_a_bad_switch_changes_nothing(body: dict[str, Any], code: str) -> None:
    world = Listeners()
    world.join("c1", "es")
    with pytest.raises(PolycastError) as refused:
        world.service.act("c1", "switchLanguage", body)
    assert refused.value.code == code
    assert world.counts() == (1, {"es": 1})
    assert world.connections.get("c1") == Connection("c1", SESSION, "es", int(NOW))


def test_a_switch_whose_write_fails_leaves_the_connection_and_counts() -> None:
    world = Listeners()
    world.join("c1", "es")

    def broken(connection: Connection, new: str) -> Any:
        raise PolycastError("DynamoDB switch listener: boom")

    world.registry.switch = broken  # type: ignore[method-assign]
    with pytest.raises(PolycastError):
        world.service.switch_language("c1", {"targetLanguage": "fr"})
    connection = world.connections.get("c1")
    assert connection is not None
    assert connection.language == "es"
    assert world.counts() == (1, {"es": 1})


def test_actions_on_an_unknown_connection_or_ended_session_say_so() -> None:
    world = Listeners()
    for act in (
        lambda: world.service.pause("ghost"),
        lambda: world.service.resume("ghost", {}),
        lambda: world.service.switch_language("ghost", {"targetLanguage": "fr"}),
    ):
        with pytest.raises(PolycastError) as refused:
            act()
        assert refused.value.code == "GONE"
    world.join("c1", "es")
    world.sessions.end(SESSION, reason="done")
    with pytest.raises(PolycastError) as ended:
        world.service.switch_language("c1", {"targetLanguage": "fr"})
    assert ended.value.code == "SESSION_ENDED"


def test_pause_and_resume_flip_the_connection_and_resume_may_catch_up() -> None:
    world = Listeners()
    world.join("c1", "es")
    for n in (1, 2, 3):
        world.segments.record(
            Segment(SESSION, n, "es", "en", f"t{n}", f"s{n}", None), ttl_seconds=60
        )

    assert world.service.pause("c1") == {"type": "ack", "action": "pause", "paused": True}
    assert world.connections.get("c1").paused  # type: ignore[union-attr]
    world.service.resume("c1", {"fromSequence": 1})

    assert not world.connections.get("c1").paused  # type: ignore[union-attr]
    replies = world.replies("c1")
    assert [m["type"] for m in replies] == ["ack", "ack", "segment", "segment", "ack"]
    assert [m["sequence"] for m in replies if m["type"] == "segment"] == [2, 3]


def test_unknown_action_names_every_action() -> None:
    world = Listeners()
    world.join("c1", "es")
    error = world.service.unknown_action("c1", "dance")
    for action in ("ping", "catchUp", "switchLanguage", "pause", "resume"):
        assert action in error["message"]


def test_the_cap_is_enforced_by_the_counting_write_itself() -> None:
    """Two connects that both passed admission cannot both take the last place."""
    world = Listeners(max_listeners=2)
    world.join("c1", "es")
    admitted = world.service.admit({"sessionId": SESSION, "targetLanguage": "fr"})
    assert admitted.listener_count == 1
    world.join("c2", "fr")  # the racing connect that got there first

    with pytest.raises(SessionFull):
        world.registry.admit(Connection("c9", SESSION, "fr", 1), max_listeners=2)
    with pytest.raises(PolycastError) as refused:
        world.join("c3", "fr")
    assert (refused.value.status, refused.value.code) == (503, "SESSION_FULL")
    assert world.counts() == (2, {"es": 1, "fr": 1})
    assert world.connections.get("c3") is None


# ---- broadcaster -------------------------------------------------------------------


def test_speaker_notices_reach_every_listener_paused_ones_too() -> None:
    world = Listeners()
    world.join("c1", "es")
    world.join("c2", "fr")
    world.service.pause("c2")
    broadcaster = Broadcaster(
        connections=world.connections,
        listeners=world.registry,
        sessions=world.sessions,
        segments=world.segments,
        sender=world.sender,
        publisher=world.publisher,
    )
    result = broadcaster.handle("SessionPaused", {"sessionId": SESSION, "reason": "break"})
    assert (result.delivered, result.skipped, result.failed) == (2, 0, 0)
    broadcaster.handle("SessionResumed", {"sessionId": SESSION})
    for connection_id in ("c1", "c2"):
        notices = [m for m in world.replies(connection_id) if m["type"].startswith("session")]
        assert notices == [
            {"type": "sessionPaused", "sessionId": SESSION, "reason": "break"},
            {"type": "sessionResumed", "sessionId": SESSION},
        ]

    segment = Segment(SESSION, 1, "fr", "en", "Bonjour", "Hello", None)
    sent = broadcaster.broadcast_segment(segment)
    assert (sent.delivered, sent.skipped, sent.failed) == (0, 1, 0)


# ---- sweeper -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def sweeper_world(
    idle: int = 1800, maximum: int = 4 * 3600
) -> tuple[Clock, MemorySessionStore, MemoryEventPublisher, SessionSweeper]:
    clock = Clock()
    sessions = MemorySessionStore(clock=clock)
    publisher = MemoryEventPublisher()
    sweeper = SessionSweeper(
        sessions=sessions, publisher=publisher, idle_seconds=idle, max_seconds=maximum, clock=clock
    )
    return clock, sessions, publisher, sweeper


def test_the_sweeper_ends_idle_and_overlong_sessions_and_says_why() -> None:
    clock, sessions, publisher, sweeper = sweeper_world(idle=1800, maximum=7200)
    sessions.start("quiet-room-1", "en")
    sessions.start("long-talk-2", "en")
    sessions.start("busy-room-3", "en")
    clock.now += 1799
    assert sweeper.sweep().ended == {}
    sessions.touch("long-talk-2")
    sessions.touch("busy-room-3")
    clock.now += 1
    assert sweeper.sweep().ended == {"quiet-room-1": "idle"}
    for _ in range(4):  # busy for two hours: touched every half hour
        clock.now += 1799
        sessions.touch("busy-room-3")
        sessions.touch("long-talk-2")
    result = sweeper.sweep()
    assert result.ended == {"long-talk-2": "maxDuration", "busy-room-3": "maxDuration"}
    ended = publisher.of_type("SessionEnded")
    for detail in ended:
        schemas.validate_event("SessionEnded", detail)
    assert sorted(d["reason"] for d in ended) == ["idle", "maxDuration", "maxDuration"]
    assert sweeper.sweep().ended == {}  # ended sessions are not swept again


def test_a_record_between_the_scan_and_the_end_keeps_the_session() -> None:
    clock, sessions, publisher, sweeper = sweeper_world(idle=60)
    sessions.start("late-word-1", "en")
    clock.now += 120
    stale = list(sessions.stale_sessions(idle_before=int(clock.now) - 59, started_before=0))
    assert [s.session_id for s in stale] == ["late-word-1"]

    real = sessions.stale_sessions

    def scan_then_record(**kw: int) -> Iterator[Any]:
        found = list(real(**kw))
        sessions.touch("late-word-1")  # a transcript arrives meanwhile
        yield from found

    sessions.stale_sessions = scan_then_record  # type: ignore[method-assign]
    result = sweeper.sweep()
    assert (result.ended, result.kept) == ({}, 1)
    assert publisher.of_type("SessionEnded") == []


def test_a_zero_limit_turns_that_end_off() -> None:
    clock, sessions, _, sweeper = sweeper_world(idle=0, maximum=0)
    sessions.start("forever-talk-1", "en")
    clock.now += 10**6
    assert sweeper.sweep().ended == {}
