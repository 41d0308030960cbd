"""Connection service on in-memory fakes: admission, counts, catch-up, actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from polycast import schemas
from polycast.domain.models import Segment
from polycast.errors import MissingField, PolycastError
from polycast.services.connections import ConnectionService, hash_join_code, join_code_matches
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore

SESSION = "golden-eagle-427"
PRIVATE = "quiet-owl-101"


@dataclass
class World:
    sessions: MemorySessionStore
    connections: MemoryConnectionStore
    segments: MemorySegmentLog
    sender: RecordingSender
    publisher: MemoryEventPublisher
    service: ConnectionService


def make_world(max_listeners: int = 0) -> World:
    sessions = MemorySessionStore()
    sessions.start(SESSION, "en")
    sessions.start(PRIVATE, "en", join_code_hash=hash_join_code("open-sesame", iterations=1000))
    sessions.start("over-now-1", "en")
    sessions.end("over-now-1", reason="test")
    connections = MemoryConnectionStore()
    segments = MemorySegmentLog()
    sender = RecordingSender()
    publisher = MemoryEventPublisher()
    service = ConnectionService(
        sessions=sessions,
        connections=connections,
        listeners=MemoryListenerRegistry(connections, sessions),
        segments=segments,
        sender=sender,
        publisher=publisher,
        supported_languages={"es", "fr", "ca"},
        audio=MemoryAudioStore(),
        max_listeners_per_session=max_listeners,
        clock=lambda: 1_800_000_000.0,
    )
    return World(sessions, connections, segments, sender, publisher, service)


@pytest.fixture
def world() -> World:
    return make_world()


def counts(world: World, session_id: str = SESSION) -> tuple[int, dict[str, int]]:
    session = world.sessions.get(session_id)
    assert session is not None
    return session.listener_count, session.language_counts


def test_connect_stores_the_connection_counts_it_and_emits_listener_joined(world: World) -> None:
    connection = world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})

    assert connection.connected_at == 1_800_000_000
    assert world.connections.get("c1") == connection
    assert counts(world) == (1, {"es": 1})
    (detail,) = world.publisher.of_type("ListenerJoined")
    schemas.validate_event("ListenerJoined", detail)
    assert (detail["listenerCount"], detail["languageCount"]) == (1, 1)


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        (None, 400, "MISSING_FIELD"),
        ({"targetLanguage": "es"}, 400, "MISSING_FIELD"),
        ({"sessionId": SESSION}, 400, "MISSING_FIELD"),
        ({"sessionId": SESSION, "targetLanguage": ""}, 400, "MISSING_FIELD"),
        ({"sessionId": "not a session!", "targetLanguage": "es"}, 400, "BAD_REQUEST"),
        ({"sessionId": SESSION, "targetLanguage": "<script>"}, 400, "BAD_REQUEST"),
        ({"sessionId": SESSION, "targetLanguage": "de"}, 400, "UNSUPPORTED_LANGUAGE"),
        ({"sessionId": "no-such-session-1", "targetLanguage": "es"}, 404, "SESSION_NOT_FOUND"),
        ({"sessionId": "over-now-1", "targetLanguage": "es"}, 404, "SESSION_ENDED"),
        ({"sessionId": PRIVATE, "targetLanguage": "es"}, 401, "JOIN_CODE_REQUIRED"),
        (
            {"sessionId": PRIVATE, "targetLanguage": "es", "joinCode": "guess"},
            403,
            "JOIN_CODE_INVALID",
        ),
    ],
)
def test_connect_refusals(
    world: World, params: dict[str, str] | None, status: int, code: str
) -> None:
    with pytest.raises(PolycastError) as refused:
        world.service.connect("c1", params)

    assert (refused.value.status, refused.value.code) == (status, code)
    assert world.connections.get("c1") is None
    assert world.publisher.events == []


def test_unsupported_language_lists_the_supported_ones(world: World) -> None:
    # The session's source language (en) is always on the list: heard untranslated.
    with pytest.raises(PolycastError, match="ca, en, es, fr"):
        world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "de"})


def test_right_join_code_is_admitted(world: World) -> None:
    world.service.connect(
        "c1", {"sessionId": PRIVATE, "targetLanguage": "fr", "joinCode": "open-sesame"}
    )
    assert counts(world, PRIVATE) == (1, {"fr": 1})


def test_full_session_is_refused_with_503() -> None:
    world = make_world(max_listeners=2)
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.connect("c2", {"sessionId": SESSION, "targetLanguage": "fr"})

    with pytest.raises(PolycastError) as refused:
        world.service.connect("c3", {"sessionId": SESSION, "targetLanguage": "es"})

    assert (refused.value.status, refused.value.code) == (503, "SESSION_FULL")
    assert counts(world) == (2, {"es": 1, "fr": 1})


def test_disconnect_is_idempotent_and_counts_never_go_negative(world: World) -> None:
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})

    assert world.service.disconnect("c1") is not None
    assert world.service.disconnect("c1") is None
    assert world.service.disconnect("never-was") is None

    assert counts(world) == (0, {"es": 0})
    (left,) = world.publisher.of_type("ListenerLeft")
    schemas.validate_event("ListenerLeft", left)


def test_ping_answers_pong(world: World) -> None:
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.ping("c1")

    (pong,) = world.sender.messages("c1")
    schemas.validate("messages/pong", pong)


def test_unknown_action_answers_an_error(world: World) -> None:
    world.service.unknown_action("c1", "dance")

    (error,) = world.sender.messages("c1")
    schemas.validate("messages/error", error)
    assert error["code"] == "UNKNOWN_ACTION"


def seg(sequence: int, language: str = "es") -> Segment:
    return Segment(SESSION, sequence, language, "en", f"texto {sequence}", f"text {sequence}", None)


def test_catch_up_resends_exactly_the_later_segments_in_order(world: World) -> None:
    for n in (5, 1, 4, 2, 3):
        world.segments.record(seg(n), ttl_seconds=60)
    world.segments.record(seg(4, "fr"), ttl_seconds=60)
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})

    resent = world.service.catch_up("c1", {"action": "catchUp", "fromSequence": 2})

    assert resent == 3
    received = world.sender.messages("c1")
    segments = [m for m in received if m["type"] == "segment"]
    for message in segments:
        schemas.validate("messages/segment", message)
    assert [(m["sequence"], m["language"]) for m in segments] == [(3, "es"), (4, "es"), (5, "es")]
    ack = received[-1]
    schemas.validate("messages/ack", ack)
    assert ack["resent"] == 3


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "catchUp"}, "MISSING_FIELD"),
        ({"action": "catchUp", "fromSequence": "3"}, "BAD_REQUEST"),
        ({"action": "catchUp", "fromSequence": -1}, "BAD_REQUEST"),
        ({"action": "catchUp", "fromSequence": True}, "BAD_REQUEST"),
    ],
)
def test_catch_up_rejects_bad_bodies(world: World, body: dict[str, Any], code: str) -> None:
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})
    with pytest.raises(PolycastError) as bad:
        world.service.act("c1", "catchUp", body)
    assert bad.value.code == code


def test_catch_up_error_names_the_missing_field(world: World) -> None:
    with pytest.raises(MissingField, match="fromSequence"):
        world.service.act("c1", "catchUp", {"action": "catchUp"})


def test_join_code_hash_is_salted_and_checked() -> None:
    a = hash_join_code("1234", iterations=1000)
    b = hash_join_code("1234", iterations=1000)

    assert a != b
    assert "1234" not in a
    assert join_code_matches("1234", a)
    assert join_code_matches("1234", b)
    assert not join_code_matches("12345", a)
    assert not join_code_matches("1234", "garbage")
    assert not join_code_matches("1234", "md5$1$00$00")


def test_disconnect_after_a_410_prune_does_not_count_out_twice(world: World) -> None:
    from polycast.services.broadcaster import Broadcaster

    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.connect("c2", {"sessionId": SESSION, "targetLanguage": "es"})
    connection = world.connections.get("c1")
    assert connection is not None
    broadcaster = Broadcaster(
        connections=world.connections,
        listeners=MemoryListenerRegistry(world.connections, world.sessions),
        sessions=world.sessions,
        segments=world.segments,
        sender=world.sender,
        publisher=world.publisher,
    )

    broadcaster.prune(connection)
    assert world.service.disconnect("c1") is None

    assert counts(world) == (1, {"es": 1})
    assert world.publisher.of_type("ListenerLeft") == []


def test_audio_off_counts_the_listener_captions_only_and_catch_up_sends_no_audio(
    world: World,
) -> None:
    from polycast.domain.models import AudioRef

    world.service.connect("eyes", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.connect("ears", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.act("eyes", "audio", {"on": False})
    world.service.act("eyes", "audio", {"on": False})  # a repeat changes nothing
    (ack, again) = world.sender.messages("eyes")
    schemas.validate("messages/ack", ack)
    assert ack == {"type": "ack", "action": "audio", "on": False} == again
    session = world.sessions.get(SESSION)
    assert session is not None
    assert session.captions_only_counts == {"es": 1}
    assert session.wants_audio("es")  # "ears" still listens

    world.service.disconnect("ears")
    session = world.sessions.get(SESSION)
    assert session is not None
    assert not session.wants_audio("es")

    audio = AudioRef(data_b64="//s=", size=2)
    world.segments.record(Segment(SESSION, 1, "es", "en", "Hola", "Hello", audio), ttl_seconds=60)
    world.service.act("eyes", "catchUp", {"fromSequence": 0})
    segment = world.sender.messages("eyes")[2]
    assert segment["type"] == "segment"
    assert segment["audio"] is None

    world.service.act("eyes", "audio", {"on": True})
    session = world.sessions.get(SESSION)
    assert session is not None
    assert session.captions_only_counts == {"es": 0}


def test_audio_action_is_checked_against_its_schema(world: World) -> None:
    world.service.connect("c1", {"sessionId": SESSION, "targetLanguage": "es"})
    with pytest.raises(MissingField):
        world.service.act("c1", "audio", {})
    with pytest.raises(PolycastError):
        world.service.act("c1", "audio", {"on": "no"})
    assert [m["type"] for m in world.sender.messages("c1")] == ["error", "error"]


def test_switching_language_moves_the_captions_only_count(world: World) -> None:
    world.service.connect("eyes", {"sessionId": SESSION, "targetLanguage": "es"})
    world.service.act("eyes", "audio", {"on": False})
    world.service.act("eyes", "switchLanguage", {"targetLanguage": "fr"})
    session = world.sessions.get(SESSION)
    assert session is not None
    assert {k: v for k, v in session.captions_only_counts.items() if v} == {"fr": 1}
    assert not session.wants_audio("fr")
