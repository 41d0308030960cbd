"""In-memory ListenerRegistry: the DynamoDB transaction's semantics, on the memory stores.

DynamoDB changes a connection item and its session's counts in ONE
TransactWriteItems (:mod:`polycast.adapters.aws.listeners`). Here the same change
holds both stores' locks, so it is as atomic against every other call on them, and
every condition of the transaction is checked the same way:

- admit: the connection must be new (else: a retry, nothing changes), the session
  active and, with a cap, below it;
- remove: the connection is forgotten; the counts drop only while both are above
  zero (never below);
- switch: only from the language the caller read (else: None, a concurrent switch
  won); already in the new language is a retry; a drifted old count at zero counts
  the listener into the new language only.

``tests/contract/test_listener_registry.py`` holds this and the DynamoDB registry
to one suite.
"""

from __future__ import annotations

from dataclasses import replace

from polycast.domain.models import Connection, Session
from polycast.errors import SessionEnded, SessionFull, SessionNotFound
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.sessions import MemorySessionStore


class MemoryListenerRegistry:
    def __init__(self, connections: MemoryConnectionStore, sessions: MemorySessionStore) -> None:
        self.connections = connections
        self.sessions = sessions

    def admit(self, connection: Connection, *, max_listeners: int = 0) -> Session:
        session_id = connection.session_id
        with self.sessions._lock, self.connections._lock:
            session = self._active(session_id)
            if connection.connection_id in self.connections._items:
                return session  # a retry of this admit
            if max_listeners > 0 and session.listener_count >= max_listeners:
                raise SessionFull(f"session {session_id} is full ({max_listeners} listeners)")
            counts = dict(session.language_counts)
            counts[connection.language] = counts.get(connection.language, 0) + 1
            session = replace(
                session, listener_count=session.listener_count + 1, language_counts=counts
            )
            self.sessions.sessions[session_id] = session
            self.connections._items[connection.connection_id] = connection
            return session

    def remove(self, connection_id: str) -> tuple[Connection, Session | None] | None:
        with self.sessions._lock, self.connections._lock:
            removed = self.connections._items.pop(connection_id, None)
            if removed is None:
                return None
            session = self.sessions.sessions.get(removed.session_id)
            if session is None:
                return removed, None
            counts = dict(session.language_counts)
            if counts.get(removed.language, 0) > 0 and session.listener_count > 0:
                counts[removed.language] -= 1
                session = replace(
                    session,
                    listener_count=session.listener_count - 1,
                    language_counts=counts,
                    captions_only_counts=_moved(session, removed, removed.language, None),
                )
                self.sessions.sessions[removed.session_id] = session
            return removed, session

    def switch(self, connection: Connection, new: str) -> Session | None:
        session_id = connection.session_id
        with self.sessions._lock, self.connections._lock:
            current = self.connections._items.get(connection.connection_id)
            if current is None:
                return None  # gone
            if current.language == new:
                return self._active(session_id)  # a retry: already there
            if current.language != connection.language:
                return None  # a concurrent switch took it elsewhere
            session = self._active(session_id)
            counts = dict(session.language_counts)
            if counts.get(current.language, 0) > 0:
                counts[current.language] -= 1
            counts[new] = counts.get(new, 0) + 1
            session = replace(
                session,
                language_counts=counts,
                captions_only_counts=_moved(session, current, current.language, new),
            )
            self.sessions.sessions[session_id] = session
            self.connections._items[connection.connection_id] = replace(current, language=new)
            return session

    def set_audio(self, connection_id: str, on: bool) -> Session | None:
        with self.sessions._lock, self.connections._lock:
            current = self.connections._items.get(connection_id)
            if current is None:
                return None
            session = self.sessions.sessions.get(current.session_id)
            if current.audio == on:
                return session
            self.connections._items[connection_id] = replace(current, audio=on)
            if session is None:
                return None
            captions_only = dict(session.captions_only_counts)
            have = captions_only.get(current.language, 0)
            captions_only[current.language] = have + 1 if not on else max(0, have - 1)
            session = replace(session, captions_only_counts=captions_only)
            self.sessions.sessions[current.session_id] = session
            return session

    def _active(self, session_id: str) -> Session:
        """The session, or the refusal DynamoDB's condition would give (locks held)."""
        session = self.sessions.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no session {session_id}")
        if session.status == "ended":
            raise SessionEnded(f"session {session_id} has ended")
        return session


def _moved(session: Session, connection: Connection, old: str, new: str | None) -> dict[str, int]:
    """The captions-only counts after ``connection`` leaves ``old`` (for ``new``)."""
    counts = dict(session.captions_only_counts)
    if connection.audio:
        return counts
    counts[old] = counts.get(old, 0) - 1  # as DynamoDB's ADD: no floor here
    if new is not None:
        counts[new] = counts.get(new, 0) + 1
    return counts
