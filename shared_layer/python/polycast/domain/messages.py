"""Messages to listeners (``schemas/messages``), sized for API Gateway.

API Gateway WebSocket messages are at most 128 KB; inline audio that would not fit
is split into parts. Each part's ``audio.data`` is the base64 of one slice of the
MP3, so a client decodes each part and concatenates the bytes in ``part`` order.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from polycast.domain.events import now_iso
from polycast.domain.models import LiveCaption, Segment

API_GATEWAY_MESSAGE_LIMIT = 128 * 1024
DEFAULT_MAX_MESSAGE_BYTES = 120_000  # headroom under the limit for the envelope


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, separators=(",", ":")).encode("utf-8"))


def segment_messages(
    segment: Segment,
    *,
    audio_url: str | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> list[dict[str, Any]]:
    """The message(s) that carry one segment to a listener."""
    base: dict[str, Any] = {
        "type": "segment",
        "sessionId": segment.session_id,
        "sequence": segment.sequence,
        "language": segment.language,
        "text": segment.text,
        "sourceText": segment.source_text,
    }
    audio = segment.audio
    if audio_url is not None:
        fmt = audio.format if audio else "mp3"
        return [{**base, "audio": {"format": fmt, "url": audio_url}}]
    if audio is None:
        return [{**base, "audio": None}]
    if audio.data_b64 is None:
        raise ValueError("audio stored by reference needs an audio_url")
    whole = {
        **base,
        "audio": {"format": audio.format, "encoding": "base64", "data": audio.data_b64},
    }
    if _size(whole) <= max_message_bytes:
        return [whole]
    raw = base64.b64decode(audio.data_b64)
    overhead = _size(
        {
            **base,
            "audio": {"format": audio.format, "encoding": "base64", "data": ""},
            "part": 99999,
            "parts": 99999,
        }
    )
    room = max_message_bytes - overhead
    if room < 1024:
        raise ValueError("segment text leaves no room for audio in one message")
    chunk = (room // 4) * 3  # raw bytes whose base64 fits the room
    slices = [raw[i : i + chunk] for i in range(0, len(raw), chunk)]
    return [
        {
            **base,
            "audio": {
                "format": audio.format,
                "encoding": "base64",
                "data": base64.b64encode(piece).decode("ascii"),
            },
            "part": n,
            "parts": len(slices),
        }
        for n, piece in enumerate(slices, start=1)
    ]


def partial_message(caption: LiveCaption) -> dict[str, Any]:
    """The live caption of the sentence being spoken (text only)."""
    return {
        "type": "partial",
        "sessionId": caption.session_id,
        "sequence": caption.sequence,
        "language": caption.language,
        "text": caption.text,
    }


def session_ended_message(session_id: str, reason: str) -> dict[str, Any]:
    return {"type": "sessionEnded", "sessionId": session_id, "reason": reason}


def session_paused_message(session_id: str, reason: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "sessionPaused", "sessionId": session_id}
    if reason:
        message["reason"] = reason
    return message


def session_waiting_message(session_id: str, source_language: str) -> dict[str, Any]:
    """A created session that has not started: the listener waits for the speaker."""
    return {
        "type": "sessionWaiting",
        "sessionId": session_id,
        "sourceLanguage": source_language,
        "message": "waiting for the speaker",
    }


def session_resumed_message(session_id: str) -> dict[str, Any]:
    return {"type": "sessionResumed", "sessionId": session_id}


def error_message(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def pong_message() -> dict[str, Any]:
    return {"type": "pong", "time": now_iso()}


def ack_message(action: str, **fields: Any) -> dict[str, Any]:
    return {"type": "ack", "action": action, **fields}


def encode(message: dict[str, Any]) -> bytes:
    """The bytes of one text frame."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
