"""Record parsing and validation: every bad input gets a code and a reason."""

from __future__ import annotations

import json

import pytest

from polycast.domain.models import SessionEnd, SessionStart, Transcript
from polycast.domain.records import parse_direct_invoke, parse_record, record_session_id
from polycast.errors import (
    BadRequest,
    InvalidRecord,
    MissingField,
    TranscriptTooLong,
    UnsupportedLanguage,
)

GOOD = {
    "type": "transcript",
    "sessionId": "golden-eagle-427",
    "sequence": 12,
    "sourceLanguage": "en",
    "transcriptText": "Hello everyone, this is important news.",
    "emotionDynamics": {
        "emotion": "happy",
        "intensity": 0.8,
        "rateWpm": 150,
        "volumeLevel": "normal",
    },
    "timestamp": "2026-11-29T14:00:00Z",
}


def test_design_example_parses() -> None:
    record = parse_record(json.dumps(GOOD).encode())
    assert isinstance(record, Transcript)
    assert record.sequence == 12
    assert record.emotion.emotion == "happy"
    assert record.emotion.intensity == 0.8


def test_record_without_type_is_a_transcript_with_defaults() -> None:
    record = parse_record({"sessionId": "s-1", "sourceLanguage": "en", "transcriptText": "Hi."})
    assert isinstance(record, Transcript)
    assert record.sequence is None
    assert (record.emotion.emotion, record.emotion.intensity) == ("neutral", 0.5)
    assert (record.emotion.rate_wpm, record.emotion.volume_level) == (150, "normal")


def test_session_control_records() -> None:
    start = parse_record({"type": "sessionStarted", "sessionId": "a-b-1", "sourceLanguage": "en"})
    assert start == SessionStart("a-b-1", "en", None)
    end = parse_record({"type": "sessionEnded", "sessionId": "a-b-1"})
    assert isinstance(end, SessionEnd)
    assert end.reason == "ended by speaker"


@pytest.mark.parametrize(
    ("raw", "error", "code"),
    [
        (b"not json", InvalidRecord, "INVALID_RECORD"),
        (b"\xff\xfe", InvalidRecord, "INVALID_RECORD"),
        (b"[1, 2]", InvalidRecord, "INVALID_RECORD"),
        (
            b'{"sessionId": "a-b-1", "sourceLanguage": "en", "transcriptText": "\\ud800 hi"}',
            InvalidRecord,
            "INVALID_RECORD",
        ),
        ({**GOOD, "type": "mystery"}, InvalidRecord, "INVALID_RECORD"),
        ({**GOOD, "sequence": "twelve"}, InvalidRecord, "INVALID_RECORD"),
        ({**GOOD, "sequence": -1}, InvalidRecord, "INVALID_RECORD"),
        ({**GOOD, "sourceLanguage": "xx"}, UnsupportedLanguage, "UNSUPPORTED_LANGUAGE"),
        ({**GOOD, "sourceLanguage": "English"}, UnsupportedLanguage, "UNSUPPORTED_LANGUAGE"),
        ({**GOOD, "transcriptText": ""}, InvalidRecord, "INVALID_RECORD"),
        ({**GOOD, "transcriptText": "   "}, InvalidRecord, "INVALID_RECORD"),
        ({**GOOD, "transcriptText": "a" * 10_001}, TranscriptTooLong, "TRANSCRIPT_TOO_LONG"),
        ({**GOOD, "transcriptText": "\U0001f600" * 2600}, TranscriptTooLong, "TRANSCRIPT_TOO_LONG"),
        ({"sessionId": "s", "transcriptText": "x"}, MissingField, "MISSING_FIELD"),
        ({"type": "sessionEnded"}, MissingField, "MISSING_FIELD"),
    ],
)
def test_bad_records_get_a_code(raw: object, error: type[BadRequest], code: str) -> None:
    with pytest.raises(error) as caught:
        parse_record(raw)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_reasons_never_quote_the_transcript() -> None:
    secret = "my secret sentence"
    with pytest.raises(BadRequest) as caught:
        parse_record({**GOOD, "transcriptText": secret, "sequence": "seven"})
    assert secret not in str(caught.value)


def test_direct_invoke_names_the_missing_field() -> None:
    event = {k: v for k, v in GOOD.items() if k != "transcriptText"}
    with pytest.raises(MissingField) as caught:
        parse_direct_invoke(event)
    assert caught.value.field == "transcriptText"
    assert "transcriptText" in str(caught.value)


def test_record_session_id_is_best_effort() -> None:
    assert record_session_id(b"nope") is None
    assert record_session_id(json.dumps({"sessionId": "x-y-1"})) == "x-y-1"
