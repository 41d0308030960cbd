"""What happened to one transcript: the orchestrator's report, and the seed's
direct-invoke response (``to_json``). Kept whole by the processor's idempotency
records, so a replayed transcript answers as the first run did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What happened to one transcript; also the seed's direct-invoke response."""

    session_id: str
    sequence: int
    listener_count: int = 0
    languages_processed: int = 0
    failed_languages: dict[str, str] = field(default_factory=dict)  # language → error code
    audio_missing: dict[str, str] = field(default_factory=dict)  # language → why no audio
    degraded: dict[str, str] = field(default_factory=dict)  # language → STANDARD_VOICE | TEXT_ONLY
    cache_hits: int = 0
    cache_misses: int = 0
    events_published: int = 0
    events_failed: int = 0
    duration_ms: float = 0.0
    skipped: str | None = None  # why nothing was translated, e.g. "no listeners"
    hints_replaced: int = 0  # emotion hints that fell back to defaults (advisory)

    @property
    def languages_failed(self) -> int:
        return len(self.failed_languages)

    @property
    def cache_hit_rate(self) -> float:
        """Share of languages answered from a cache tier (0 when nothing was looked up)."""
        total = self.cache_hits + self.cache_misses
        return self.cache_hits / total if total else 0.0

    @property
    def broadcast_success_rate(self) -> float:
        """Share of SegmentReady events the bus accepted (delivery itself is async).

        1.0 when there was nothing to publish: nothing failed.
        """
        total = self.events_published + self.events_failed
        return self.events_published / total if total else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "sequence": self.sequence,
            "listenerCount": self.listener_count,
            "languagesProcessed": self.languages_processed,
            "failedLanguages": dict(self.failed_languages),
            "audioMissing": dict(self.audio_missing),
            "degraded": dict(self.degraded),
            "cacheHits": self.cache_hits,
            "cacheMisses": self.cache_misses,
            "eventsPublished": self.events_published,
            "eventsFailed": self.events_failed,
            "durationMs": round(self.duration_ms, 3),
            "skipped": self.skipped,
            "hintsReplaced": self.hints_replaced,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            session_id=data["sessionId"],
            sequence=int(data["sequence"]),
            listener_count=int(data.get("listenerCount", 0)),
            languages_processed=int(data.get("languagesProcessed", 0)),
            failed_languages=dict(data.get("failedLanguages") or {}),
            audio_missing=dict(data.get("audioMissing") or {}),
            degraded=dict(data.get("degraded") or {}),
            cache_hits=int(data.get("cacheHits", 0)),
            cache_misses=int(data.get("cacheMisses", 0)),
            events_published=int(data.get("eventsPublished", 0)),
            events_failed=int(data.get("eventsFailed", 0)),
            duration_ms=float(data.get("durationMs", 0.0)),
            skipped=data.get("skipped"),
            hints_replaced=int(data.get("hintsReplaced", 0)),
        )
