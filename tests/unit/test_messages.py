"""Listener messages: sizes, parts, and their schemas."""

from __future__ import annotations

import base64
import json
import os

import pytest

from polycast.domain import events
from polycast.domain.messages import (
    API_GATEWAY_MESSAGE_LIMIT,
    ack_message,
    encode,
    error_message,
    partial_message,
    segment_messages,
    session_ended_message,
    session_paused_message,
    session_resumed_message,
)
from polycast.domain.models import AudioRef, LiveCaption, Segment
from polycast.domain.session_ids import is_session_id, new_session_id
from polycast.schemas import names, validate, validate_event


def _segment(audio: AudioRef | None) -> Segment:
    return Segment("golden-eagle-427", 3, "es", "en", "Hola", "Hello", audio, {"totalMs": 12.0})


def test_small_audio_is_one_message() -> None:
    data = base64.b64encode(b"\xff\xfb" + b"\x00" * 1000).decode()
    (message,) = segment_messages(_segment(AudioRef(data_b64=data)))
    validate("messages/segment", message)
    assert message["audio"]["data"] == data
    assert "part" not in message


def test_large_audio_is_split_into_parts_that_reassemble() -> None:
    raw = os.urandom(300_000)
    parts = segment_messages(_segment(AudioRef(data_b64=base64.b64encode(raw).decode())))
    assert len(parts) > 2
    for message in parts:
        validate("messages/segment", message)
        assert len(encode(message)) < API_GATEWAY_MESSAGE_LIMIT
    assert [m["part"] for m in parts] == list(range(1, len(parts) + 1))
    assert {m["parts"] for m in parts} == {len(parts)}
    assert b"".join(base64.b64decode(m["audio"]["data"]) for m in parts) == raw


def test_reference_and_missing_audio() -> None:
    (by_ref,) = segment_messages(_segment(AudioRef(bucket="b", key="k")), audio_url="https://x/y")
    validate("messages/segment", by_ref)
    assert by_ref["audio"] == {"format": "mp3", "url": "https://x/y"}
    (none,) = segment_messages(_segment(None))
    validate("messages/segment", none)
    assert none["audio"] is None
    with pytest.raises(ValueError, match="audio_url"):
        segment_messages(_segment(AudioRef(bucket="b", key="k")))


def test_other_messages_validate() -> None:
    validate("messages/sessionEnded", session_ended_message("a-b-1", "ended by speaker"))
    validate("messages/error", error_message("UNKNOWN_ACTION", "no such action"))
    validate("messages/sessionPaused", session_paused_message("a-b-1", "coffee break"))
    validate("messages/sessionPaused", session_paused_message("a-b-1"))
    validate("messages/sessionResumed", session_resumed_message("a-b-1"))
    validate("messages/sessionEnded", session_ended_message("a-b-1", "idle"))
    for action in ("catchUp", "switchLanguage", "pause", "resume"):
        validate("messages/ack", ack_message(action, paused=False))


def test_segment_ready_round_trips_and_validates() -> None:
    for audio in (None, AudioRef(data_b64="AAAA"), AudioRef(bucket="b", key="k", size=9)):
        detail = events.segment_ready(_segment(audio))
        validate_event("SegmentReady", detail)
        assert events.segment_from_detail(json.loads(json.dumps(detail))) == _segment(audio)


def test_every_event_builder_validates() -> None:
    validate_event("SessionStarted", events.session_started("a-b-1", "en"))
    validate_event("SessionEnded", events.session_ended("a-b-1", "idle"))
    validate_event("ListenerJoined", events.listener_joined("a-b-1", "es", 3, 2))
    validate_event("ListenerLeft", events.listener_left("a-b-1", "es", 2, 1, "gone"))
    validate_event(
        "TranscriptRejected", events.transcript_rejected(code="INVALID_RECORD", reason="x")
    )
    validate_event(
        "BroadcastCompleted",
        events.broadcast_completed(
            session_id="a-b-1",
            sequence=1,
            language="es",
            delivered=3,
            gone=1,
            failed=0,
            duration_ms=12.5,
            slice=(0, 2),
        ),
    )
    validate_event("BroadcastSlice", events.broadcast_slice(_segment(None), 1, 3))
    validate_event("SessionPaused", events.session_paused("a-b-1", "coffee break"))
    validate_event("SessionPaused", events.session_paused("a-b-1"))
    validate_event("SessionResumed", events.session_resumed("a-b-1"))
    caption = LiveCaption("a-b-1", 4, "es", "en", "Nuestro próximo orador,", 4)
    validate_event("PartialReady", events.partial_ready(caption))
    assert events.caption_from_detail(events.partial_ready(caption)) == caption
    assert len(names("events")) == 11


def test_partial_message_matches_its_schema_and_carries_text_only() -> None:
    caption = LiveCaption("golden-eagle-427", 13, "es", "en", "Nuestro próximo", 3)
    message = partial_message(caption)
    validate("messages/partial", message)
    assert message == {
        "type": "partial",
        "sessionId": "golden-eagle-427",
        "sequence": 13,
        "language": "es",
        "text": "Nuestro próximo",
    }


def test_session_ids_are_human_readable() -> None:
    ids = {new_session_id() for _ in range(50)}
    assert len(ids) > 40
    for sid in ids:
        assert is_session_id(sid)
        adjective, noun, number = sid.split("-")
        assert adjective.isalpha()
        assert noun.isalpha()
        assert 100 <= int(number) <= 999


def test_session_waiting_matches_its_schema() -> None:
    from polycast.domain.messages import session_waiting_message

    message = session_waiting_message("a-b-1", "en")
    validate("messages/sessionWaiting", message)
    assert message["message"] == "waiting for the speaker"
