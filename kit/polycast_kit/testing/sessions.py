"""In-memory SessionStore with the same atomic semantics as the DynamoDB one.

``tests/contract/test_session_store.py`` runs the same tests against both. The
listener counts are changed by :class:`~polycast_kit.testing.listeners.MemoryListenerRegistry`
(under this store's lock), as DynamoDB's registry changes them in a transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from polycast.domain.glossary import Glossary, GlossaryRef
from polycast.domain.models import Session
from polycast.errors import SessionEnded, SessionNotFound


class MemorySessionStore:
    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.sessions: dict[str, Session] = {}
        self.reads = 0
        self.touches = 0
        self.glossaries: dict[str, Glossary] = {}
        self.glossary_reads = 0
        self.clock = clock
        self._lock = threading.Lock()

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            self.reads += 1
            return self.sessions.get(session_id)

    def create(
        self,
        session_id: str,
        source_language: str,
        *,
        languages: tuple[str, ...] = (),
        join_code_hash: str | None = None,
    ) -> bool:
        with self._lock:
            if session_id in self.sessions:
                return False
            now = int(self.clock())
            self.sessions[session_id] = Session(
                session_id,
                source_language,
                status="created",
                join_code_hash=join_code_hash,
                created_at=now,
                last_activity_at=now,
                languages=tuple(languages),
            )
            return True

    def start(
        self, session_id: str, source_language: str, *, join_code_hash: str | None = None
    ) -> bool:
        with self._lock:
            existing = self.sessions.get(session_id)
            if existing is not None and existing.status == "created":
                now = int(self.clock())
                self.sessions[session_id] = replace(existing, status="active", last_activity_at=now)
                return True
            if existing is not None:
                return False
            now = int(self.clock())
            self.sessions[session_id] = Session(
                session_id,
                source_language,
                join_code_hash=join_code_hash,
                created_at=now,
                last_activity_at=now,
            )
            return True

    def end(self, session_id: str, *, reason: str) -> bool:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session.status == "ended":
                return False
            self.sessions[session_id] = replace(
                session, status="ended", ended_at=int(self.clock()), end_reason=reason[:256]
            )
            return True

    def set_tone(self, session_id: str, *, formality: str | None, profanity: bool) -> None:
        with self._lock:
            session = self._open(session_id)
            self.sessions[session_id] = replace(session, formality=formality, profanity=profanity)

    def put_glossary(self, session_id: str, glossary: Glossary) -> GlossaryRef:
        ref = glossary.ref(session_id)
        with self._lock:
            session = self._open(session_id)
            self.glossaries[session_id] = glossary
            self.sessions[session_id] = replace(session, glossary=ref)
        return ref

    def get_glossary(self, session_id: str) -> Glossary | None:
        with self._lock:
            self.glossary_reads += 1
            return self.glossaries.get(session_id)

    def _open(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no session {session_id}")
        if session.status == "ended":
            raise SessionEnded(f"session {session_id} has ended")
        return session

    def next_sequence(self, session_id: str) -> int:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"no session {session_id}")
            session = replace(session, last_sequence=session.last_sequence + 1)
            self.sessions[session_id] = session
            return session.last_sequence

    def set_paused(self, session_id: str, paused: bool) -> bool:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"no session {session_id}")
            if session.status == "ended":
                raise SessionEnded(f"session {session_id} has ended")
            changed = session.paused != paused
            self.sessions[session_id] = replace(
                session, paused=paused, last_activity_at=int(self.clock())
            )
            return changed

    def touch(self, session_id: str) -> None:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is not None and session.status == "active":  # as the conditional write
                self.touches += 1
                self.sessions[session_id] = replace(session, last_activity_at=int(self.clock()))

    def stale_sessions(self, *, idle_before: int, started_before: int) -> Iterator[Session]:
        with self._lock:
            found = [s for s in self.sessions.values() if _stale(s, idle_before, started_before)]
        # What DynamoDB's scan projects: the sweeper needs no more.
        for session in found:
            yield Session(
                session.session_id,
                session.source_language,
                status=session.status,
                created_at=session.created_at,
                last_activity_at=session.last_activity_at,
            )

    def end_stale(
        self, session_id: str, *, reason: str, idle_before: int, started_before: int
    ) -> bool:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or not _stale(session, idle_before, started_before):
                return False
            self.sessions[session_id] = replace(session, status="ended")
            return True

    def set_listeners(self, session_id: str, counts: dict[str, int]) -> None:
        """Test setup: listeners per language, as the connection handlers would count them."""
        with self._lock:
            session = self.sessions.get(session_id) or Session(session_id, "en")
            self.sessions[session_id] = replace(
                session, language_counts=dict(counts), listener_count=sum(counts.values())
            )


def _stale(session: Session, idle_before: int, started_before: int) -> bool:
    if session.status != "active":
        return False
    last = session.last_activity_at or session.created_at
    return last < idle_before or session.created_at < started_before
