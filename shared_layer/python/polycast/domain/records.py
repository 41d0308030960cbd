"""Parse and validate what producers put on the stream (``schemas/records``).

Bad input becomes a :class:`polycast.errors.BadRequest` with a stable code and a
reason that never quotes the transcript text (reasons travel in events and logs).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import ValidationError

from polycast.domain.emotion_hints import read_emotion
from polycast.domain.languages import check_language
from polycast.domain.models import (
    Partial,
    Record,
    SessionEnd,
    SessionPause,
    SessionResume,
    SessionStart,
    Transcript,
)
from polycast.errors import (
    BadRequest,
    InvalidRecord,
    MissingField,
    TranscriptTooLong,
    UnsupportedLanguage,
)
from polycast.schemas import validator

# One TranslateText request (10,000 UTF-8 bytes), so a transcript is translated with
# its whole context. Polly's 3,000 billed characters per request do not limit the
# record: the orchestrator synthesizes longer text in runs of whole sentences.
MAX_TRANSCRIPT_BYTES = 10_000
MAX_TRANSCRIPT_CHARS = MAX_TRANSCRIPT_BYTES  # a character is at least one byte
MAX_RECORD_BYTES = 64 * 1024

RECORD_TYPES = (
    "transcript",
    "partial",
    "sessionStarted",
    "sessionEnded",
    "sessionPaused",
    "sessionResumed",
)

# The seed's direct-invoke event: these fields are required, in this order.
DIRECT_INVOKE_REQUIRED = ("sessionId", "sourceLanguage", "transcriptText")


def _field(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "record"


# How each schema rule reads in a refusal: ``where`` is the field, ``value`` the rule's
# own setting (a type, a limit), never the offending value.
_REASONS: dict[str, Callable[[str, Any], str]] = {
    "type": lambda where, value: f"{where} must be of type {value}",
    "enum": lambda where, value: f"{where} must be one of {', '.join(map(str, value))}",
    "minimum": lambda where, value: f"{where} must be >= {value}",
    "maximum": lambda where, value: f"{where} must be <= {value}",
    "minLength": lambda where, value: (
        f"{where} must not be empty" if value == 1 else f"{where} is too short"
    ),
    "maxLength": lambda where, value: f"{where} is longer than {value} characters",
    "pattern": lambda where, value: f"{where} is malformed",
    "additionalProperties": lambda where, value: f"{where} has unexpected properties",
}


def _reason(error: ValidationError) -> str:
    """Describe a schema error without echoing the offending value."""
    where = _field(error)
    reason = _REASONS.get(str(error.validator))
    if reason is None:
        return f"{where} is invalid ({error.validator})"
    return reason(where, error.validator_value)


def _raise_for(error: ValidationError) -> None:
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, Mapping) else {}
        missing = [f for f in error.validator_value if f not in present]
        raise MissingField(missing[0] if missing else _field(error))
    path = list(error.absolute_path)
    if path == ["transcriptText"] and error.validator == "maxLength":
        raise TranscriptTooLong(f"transcriptText is longer than {MAX_TRANSCRIPT_CHARS} characters")
    if path and path[0] == "sourceLanguage":
        raise UnsupportedLanguage(f"sourceLanguage is not a language code ({error.validator})")
    raise InvalidRecord(_reason(error))


def _load(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, bytes):
        if len(raw) > MAX_RECORD_BYTES:
            raise InvalidRecord(f"record is larger than {MAX_RECORD_BYTES} bytes")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRecord("record is not UTF-8") from exc
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidRecord("record is not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRecord("record must be a JSON object")
    try:  # JSON escapes can smuggle in lone surrogates, which nothing downstream can encode
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRecord("record holds text that is not valid Unicode") from exc
    return data


def _check(name: str, data: Mapping[str, Any]) -> None:
    errors = sorted(validator(name).iter_errors(data), key=lambda e: (len(e.path), e.path))
    # Missing fields first: they are the clearest thing to tell a producer.
    errors.sort(key=lambda e: e.validator != "required")
    if errors:
        _raise_for(errors[0])


def _transcript(data: Mapping[str, Any]) -> Transcript:
    text = data.get("transcriptText")
    if isinstance(text, str):
        if not text.strip():
            raise InvalidRecord("transcriptText must not be empty")
        if len(text.encode("utf-8")) > MAX_TRANSCRIPT_BYTES:
            raise TranscriptTooLong(f"transcriptText is longer than {MAX_TRANSCRIPT_BYTES} bytes")
    # Emotion hints are advisory: checked (and replaced) on their own, never rejected.
    _check("records/transcript", {k: v for k, v in data.items() if k != "emotionDynamics"})
    check_language(data["sourceLanguage"])
    emotion, replaced = read_emotion(data.get("emotionDynamics"))
    return Transcript(
        session_id=data["sessionId"],
        source_language=data["sourceLanguage"],
        text=data["transcriptText"],
        emotion=emotion,
        sequence=data.get("sequence"),
        timestamp=data.get("timestamp"),
        hints_replaced=replaced,
        start_ms=data.get("startMs"),
        end_ms=data.get("endMs"),
    )


def _partial(data: Mapping[str, Any]) -> Partial:
    text = data["text"]
    stable = data.get("stableText") or ""
    if not text.startswith(stable):
        # A recognizer's stable part is a prefix of its hypothesis; anything else is
        # a producer bug, and a live caption is disposable: keep the text, trust none.
        stable = ""
    return Partial(
        session_id=data["sessionId"],
        source_language=data["sourceLanguage"],
        sequence=int(data["sequence"]),
        text=text,
        stable_text=stable,
    )


def parse_record(raw: bytes | str | Mapping[str, Any]) -> Record:
    """One stream record → a :data:`Record` (transcript or session control); else BadRequest."""
    data = _load(raw)
    kind = data.get("type", "transcript")
    if kind == "transcript":
        return _transcript(data)
    if kind == "partial":
        _check("records/partial", data)
        check_language(data["sourceLanguage"])
        return _partial(data)
    if kind == "sessionStarted":
        _check("records/sessionStarted", data)
        check_language(data["sourceLanguage"])
        return SessionStart(data["sessionId"], data["sourceLanguage"], data.get("joinCode"))
    if kind == "sessionEnded":
        _check("records/sessionEnded", data)
        return SessionEnd(data["sessionId"], data.get("reason") or "ended by speaker")
    if kind == "sessionPaused":
        _check("records/sessionPaused", data)
        return SessionPause(data["sessionId"], data.get("reason") or None)
    if kind == "sessionResumed":
        _check("records/sessionResumed", data)
        return SessionResume(data["sessionId"])
    if not isinstance(kind, str):
        raise InvalidRecord("type must be a string")
    raise InvalidRecord(f"unknown record type; expected one of {', '.join(RECORD_TYPES)}")


def parse_direct_invoke(event: Mapping[str, Any]) -> Transcript:
    """The seed's direct-invoke event; MissingField names the first missing field."""
    if not isinstance(event, Mapping):
        raise BadRequest("event must be a JSON object")
    for name in DIRECT_INVOKE_REQUIRED:
        if event.get(name) in (None, ""):
            raise MissingField(name)
    data = {k: v for k, v in event.items() if k != "type"}
    return _transcript(data)


def record_session_id(raw: bytes | str | Mapping[str, Any]) -> str | None:
    """Best-effort session id of a (possibly bad) record, for grouping and rejections."""
    try:
        data = _load(raw)
    except BadRequest:
        return None
    value = data.get("sessionId")
    return value if isinstance(value, str) and len(value) <= 128 else None
