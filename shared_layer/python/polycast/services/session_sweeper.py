"""Ends sessions nobody ends: idle too long, or running past the maximum duration.

A speaker app that crashes never sends ``sessionEnded``; its listeners would wait
forever and its item would keep counting. Once a minute (an EventBridge schedule
in AWS, a timer in the local runtime) the sweeper asks the SessionStore for active
sessions with no record since ``idle_seconds`` or started more than
``max_seconds`` ago, ends each with a conditional write (a record that arrived
meanwhile keeps the session alive), and publishes ``SessionEnded`` with reason
``idle`` or ``maxDuration``: the broadcaster tells every listener why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from polycast.domain import events
from polycast.domain.models import Session
from polycast.errors import PolycastError
from polycast.ports import EventPublisher, SessionStore

log = logging.getLogger(__name__)

IDLE = "idle"
MAX_DURATION = "maxDuration"


@dataclass
class SweepResult:
    ended: dict[str, str] = field(default_factory=dict)  # session id → reason
    kept: int = 0  # stale when read, alive (or already ended) when the write came
    failed: int = 0

    def to_json(self) -> dict[str, object]:
        reasons = list(self.ended.values())
        return {
            "ended": len(self.ended),
            "idle": reasons.count(IDLE),
            "maxDuration": reasons.count(MAX_DURATION),
            "kept": self.kept,
            "failed": self.failed,
        }


class SessionSweeper:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        publisher: EventPublisher,
        idle_seconds: int,
        max_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock

    def reason(self, session: Session, now: int) -> str | None:
        """Why ``session`` should end now; the maximum duration wins over idleness."""
        if self.max_seconds > 0 and now - session.created_at >= self.max_seconds:
            return MAX_DURATION
        last = session.last_activity_at or session.created_at
        if self.idle_seconds > 0 and now - last >= self.idle_seconds:
            return IDLE
        return None

    def sweep(self) -> SweepResult:
        """One pass; a failing session is counted and the others still end."""
        now = int(self.clock())
        never = 0  # a limit of 0 turns that end off: no session is older than epoch 0
        idle_before = now - self.idle_seconds + 1 if self.idle_seconds > 0 else never
        started_before = now - self.max_seconds + 1 if self.max_seconds > 0 else never
        result = SweepResult()
        for session in self.sessions.stale_sessions(
            idle_before=idle_before, started_before=started_before
        ):
            reason = self.reason(session, now)
            if reason is None:
                continue
            try:
                ended = self.sessions.end_stale(
                    session.session_id,
                    reason=reason,
                    idle_before=idle_before,
                    started_before=started_before,
                )
                if not ended:
                    result.kept += 1
                    continue
                published = self.publisher.publish(
                    [("SessionEnded", events.session_ended(session.session_id, reason))]
                )
                if published.failed:
                    raise PolycastError("event bus refused SessionEnded")
            except PolycastError as exc:
                result.failed += 1
                log.warning(
                    "sweeping a session failed",
                    extra={"sessionId": session.session_id, "error": exc.code},
                )
                continue
            result.ended[session.session_id] = reason
            log.info("session ended", extra={"sessionId": session.session_id, "reason": reason})
        return result
