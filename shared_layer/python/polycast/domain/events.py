"""EventBridge event details (``schemas/events``): builders and the one parser we need.

Every detail carries ``sessionId`` and, where it applies, ``sequence`` and
``language``, so subscribers can order and join them (EventBridge does not order).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from polycast.domain.models import AudioRef, LiveCaption, Segment


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def audio_json(audio: AudioRef | None) -> dict[str, Any] | None:
    if audio is None:
        return None
    if audio.data_b64 is not None:
        return {"format": audio.format, "encoding": "base64", "data": audio.data_b64}
    if audio.bucket and audio.key:
        return {
            "format": audio.format,
            "bucket": audio.bucket,
            "key": audio.key,
            "size": audio.size,
        }
    raise ValueError("audio has neither inline data nor an S3 reference")


def audio_from_json(data: Mapping[str, Any] | None) -> AudioRef | None:
    if not data:
        return None
    if "data" in data:
        return AudioRef(format=data.get("format", "mp3"), data_b64=data["data"])
    return AudioRef(
        format=data.get("format", "mp3"),
        bucket=data["bucket"],
        key=data["key"],
        size=int(data.get("size", 0)),
    )


def segment_ready(segment: Segment) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "sessionId": segment.session_id,
        "sequence": segment.sequence,
        "language": segment.language,
        "sourceLanguage": segment.source_language,
        "text": segment.text,
        "sourceText": segment.source_text,
        "audio": audio_json(segment.audio),
        "timings": dict(segment.timings),
        "emittedAt": now_iso(),
    }
    if segment.hints_replaced:
        detail["hintsReplaced"] = list(segment.hints_replaced)
    if segment.spoken_at:
        detail["spokenAt"] = segment.spoken_at
    if segment.start_ms is not None:
        detail["startMs"] = segment.start_ms
    if segment.end_ms is not None:
        detail["endMs"] = segment.end_ms
    return detail


def broadcast_slice(segment: Segment, index: int, count: int) -> dict[str, Any]:
    """A SegmentReady detail for one slice of a large audience (``BroadcastSlice``)."""
    return {**segment_ready(segment), "slice": {"index": index, "count": count}}


def segment_from_detail(detail: Mapping[str, Any]) -> Segment:
    return Segment(
        session_id=detail["sessionId"],
        sequence=int(detail["sequence"]),
        language=detail["language"],
        source_language=detail["sourceLanguage"],
        text=detail["text"],
        source_text=detail["sourceText"],
        audio=audio_from_json(detail.get("audio")),
        timings={k: float(v) for k, v in (detail.get("timings") or {}).items()},
        hints_replaced=tuple(detail.get("hintsReplaced") or ()),
        spoken_at=detail.get("spokenAt"),
        start_ms=detail.get("startMs"),
        end_ms=detail.get("endMs"),
    )


def partial_ready(caption: LiveCaption) -> dict[str, Any]:
    return {
        "sessionId": caption.session_id,
        "sequence": caption.sequence,
        "language": caption.language,
        "sourceLanguage": caption.source_language,
        "text": caption.text,
        "revision": caption.revision,
        **({"final": True} if caption.final else {}),
        "emittedAt": now_iso(),
    }


def caption_from_detail(detail: Mapping[str, Any]) -> LiveCaption:
    return LiveCaption(
        session_id=detail["sessionId"],
        sequence=int(detail["sequence"]),
        language=detail["language"],
        source_language=str(detail.get("sourceLanguage") or ""),
        text=str(detail["text"]),
        revision=int(detail["revision"]),
        final=detail.get("final") is True,
    )


def broadcast_completed(
    *,
    session_id: str,
    sequence: int,
    language: str,
    delivered: int,
    gone: int,
    failed: int,
    duration_ms: float,
    skipped: int = 0,
    slice: tuple[int, int] | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "sessionId": session_id,
        "sequence": sequence,
        "language": language,
        "delivered": delivered,
        "gone": gone,
        "failed": failed,
        "skipped": skipped,
        "durationMs": round(duration_ms, 3),
    }
    if slice is not None:
        detail["slice"] = {"index": slice[0], "count": slice[1]}
    return detail


def session_started(session_id: str, source_language: str) -> dict[str, Any]:
    return {"sessionId": session_id, "sourceLanguage": source_language, "startedAt": now_iso()}


def session_ended(session_id: str, reason: str) -> dict[str, Any]:
    return {"sessionId": session_id, "reason": reason, "endedAt": now_iso()}


def session_paused(session_id: str, reason: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"sessionId": session_id, "pausedAt": now_iso()}
    if reason:
        detail["reason"] = reason
    return detail


def session_resumed(session_id: str) -> dict[str, Any]:
    return {"sessionId": session_id, "resumedAt": now_iso()}


def listener_joined(
    session_id: str, language: str, listener_count: int, language_count: int
) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "language": language,
        "listenerCount": listener_count,
        "languageCount": language_count,
    }


def listener_left(
    session_id: str,
    language: str,
    listener_count: int,
    language_count: int,
    reason: str = "disconnected",
) -> dict[str, Any]:
    return {
        **listener_joined(session_id, language, listener_count, language_count),
        "reason": reason,
    }


def transcript_rejected(
    *,
    code: str,
    reason: str,
    session_id: str | None = None,
    sequence: int | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "reason": reason}
    if session_id is not None:
        detail["sessionId"] = session_id
    if sequence is not None:
        detail["sequence"] = sequence
    if record_id is not None:
        detail["recordId"] = record_id
    return detail
