"""Domain errors. Each carries a stable ``code`` that reaches clients and events."""

from __future__ import annotations


class PolycastError(Exception):
    """Base class: ``code`` is machine-readable, ``str(err)`` is for humans."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class BadRequest(PolycastError):
    """Input that will never succeed: not retried, reported with its reason."""

    code = "BAD_REQUEST"
    status = 400


class MissingField(BadRequest):
    code = "MISSING_FIELD"

    def __init__(self, field: str) -> None:
        super().__init__(f"missing required field: {field}")
        self.field = field


class InvalidRecord(BadRequest):
    code = "INVALID_RECORD"


class UnsupportedLanguage(BadRequest):
    code = "UNSUPPORTED_LANGUAGE"


class TranscriptTooLong(BadRequest):
    code = "TRANSCRIPT_TOO_LONG"


class SessionNotFound(PolycastError):
    code = "SESSION_NOT_FOUND"
    status = 404


class SessionEnded(PolycastError):
    code = "SESSION_ENDED"
    status = 404


class SessionFull(PolycastError):
    code = "SESSION_FULL"
    status = 503


class JoinCodeRequired(PolycastError):
    code = "JOIN_CODE_REQUIRED"
    status = 401


class JoinCodeInvalid(PolycastError):
    code = "JOIN_CODE_INVALID"
    status = 403


class SpeakerKeyRequired(PolycastError):
    code = "SPEAKER_KEY_REQUIRED"
    status = 401


class SpeakerKeyInvalid(PolycastError):
    code = "SPEAKER_KEY_INVALID"
    status = 403


class SpeakerConnected(PolycastError):
    """The session has a live speaker connection already (one per session)."""

    code = "SPEAKER_CONNECTED"
    status = 409


class NotSpeaker(PolycastError):
    """A speaker action from a connection that is not (or no longer) the speaker."""

    code = "FORBIDDEN"
    status = 403


class TransientError(PolycastError):
    """Throttling, 5xx, timeouts: worth retrying."""

    code = "TRANSIENT"
    status = 503


class Throttled(TransientError):
    code = "THROTTLED"


class ConnectionGone(PolycastError):
    """The listener's connection no longer exists (API Gateway answers 410)."""

    code = "GONE"
    status = 410
