"""In-memory SessionStore with the same atomic semantics as the DynamoDB one."""

from __future__ import annotations

import threading
from dataclasses import replace

from polycast.domain.models import Session
from polycast.errors import SessionNotFound


class MemorySessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.reads = 0
        self._lock = threading.Lock()

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            self.reads += 1
            return self.sessions.get(session_id)

    def start(
        self, session_id: str, source_language: str, *, join_code_hash: str | None = None
    ) -> bool:
        with self._lock:
            if session_id in self.sessions:
                return False
            self.sessions[session_id] = Session(
                session_id, source_language, join_code_hash=join_code_hash
            )
            return True

    def end(self, session_id: str, *, reason: str) -> bool:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None or session.status == "ended":
                return False
            self.sessions[session_id] = replace(session, status="ended")
            return True

    def next_sequence(self, session_id: str) -> int:
        with self._lock:
            session = self.sessions.get(session_id) or Session(session_id, "en")
            session = replace(session, last_sequence=session.last_sequence + 1)
            self.sessions[session_id] = session
            return session.last_sequence

    def add_listener(self, session_id: str, language: str) -> Session:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"no session {session_id}")
            counts = dict(session.language_counts)
            counts[language] = counts.get(language, 0) + 1
            session = replace(
                session, listener_count=session.listener_count + 1, language_counts=counts
            )
            self.sessions[session_id] = session
            return session

    def remove_listener(self, session_id: str, language: str) -> Session | None:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None
            counts = dict(session.language_counts)
            if counts.get(language, 0) <= 0 or session.listener_count <= 0:
                return session
            counts[language] -= 1
            session = replace(
                session, listener_count=session.listener_count - 1, language_counts=counts
            )
            self.sessions[session_id] = session
            return session

    def set_listeners(self, session_id: str, counts: dict[str, int]) -> None:
        """Test setup: listeners per language, as the connection handlers would count them."""
        with self._lock:
            session = self.sessions.get(session_id) or Session(session_id, "en")
            self.sessions[session_id] = replace(
                session, language_counts=dict(counts), listener_count=sum(counts.values())
            )
