"""In-memory SegmentLog: the per-(session, language) catch-up buffer and dedupe marks."""

from __future__ import annotations

import threading
from typing import Any

from polycast.domain.events import segment_from_detail, segment_ready
from polycast.domain.models import Segment


class MemorySegmentLog:
    """Keeps every segment (no TTL expiry): enough for tests and single-process runs.

    A segment is kept as its ``SegmentReady`` detail, as the table keeps it, so a
    catch-up returns exactly what the table would (inline audio carries no size).
    """

    def __init__(self) -> None:
        self._segments: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._delivered: set[tuple[str, str, int, str]] = set()
        self._lock = threading.Lock()

    def record(self, segment: Segment, *, ttl_seconds: int) -> bool:
        key = (segment.session_id, segment.language, segment.sequence)
        with self._lock:
            if key in self._segments:
                return False
            self._segments[key] = segment_ready(segment)
            return True

    def mark_delivered(
        self, segment: Segment, *, audience_slice: tuple[int, int] | None = None
    ) -> None:
        key = (segment.session_id, segment.language, segment.sequence, _slice(audience_slice))
        with self._lock:
            self._delivered.add(key)

    def is_delivered(
        self,
        session_id: str,
        language: str,
        sequence: int,
        *,
        audience_slice: tuple[int, int] | None = None,
    ) -> bool:
        with self._lock:
            return (session_id, language, sequence, _slice(audience_slice)) in self._delivered

    def since(
        self, session_id: str, language: str, from_sequence: int, *, limit: int = 100
    ) -> list[Segment]:
        with self._lock:
            later = [
                segment_from_detail(detail)
                for (sid, lang, seq), detail in self._segments.items()
                if sid == session_id and lang == language and seq > from_sequence
            ]
        later.sort(key=lambda s: s.sequence)
        return later[:limit]


def _slice(audience_slice: tuple[int, int] | None) -> str:
    """ "" for the whole audience, "index/count" for one slice of it."""
    return "" if audience_slice is None else f"{audience_slice[0]}/{audience_slice[1]}"
