"""Choosing the ListenerRegistry for a pair of stores.

DynamoDB stores change a connection and its counts in one transaction (see
``polycast.adapters.aws.connections.DynamoListenerRegistry``). Any other pair (the
in-memory fakes, hand-written test stores) gets :class:`StoreListenerRegistry`,
which makes the two writes under one lock: exact within one process, which is all
a fake needs.
"""

from __future__ import annotations

import threading

from polycast.domain.models import Connection, Session
from polycast.ports import ConnectionStore, ListenerRegistry, SessionStore


def listener_registry(connections: ConnectionStore, sessions: SessionStore) -> ListenerRegistry:
    """The store's own transactional registry when it offers one, else the locked pair."""
    offer = getattr(connections, "listener_registry", None)
    if callable(offer):
        registry: ListenerRegistry | None = offer(sessions)
        if registry is not None:
            return registry
    return StoreListenerRegistry(connections, sessions)


class StoreListenerRegistry:
    """The two writes in sequence under one lock (in-process stores only)."""

    def __init__(self, connections: ConnectionStore, sessions: SessionStore) -> None:
        self.connections = connections
        self.sessions = sessions
        self._lock = threading.Lock()

    def admit(self, connection: Connection, *, max_listeners: int = 0) -> Session:
        with self._lock:
            if self.connections.get(connection.connection_id) is not None:
                current = self.sessions.get(connection.session_id)
                if current is not None:
                    return current
            session = self.sessions.add_listener(
                connection.session_id, connection.language, max_listeners=max_listeners
            )
            self.connections.put(connection)
            return session

    def remove(self, connection_id: str) -> tuple[Connection, Session | None] | None:
        with self._lock:
            removed = self.connections.delete(connection_id)
            if removed is None:
                return None
            return removed, self.sessions.remove_listener(removed.session_id, removed.language)

    def switch(self, connection: Connection, new: str) -> Session | None:
        with self._lock:
            current = self.connections.get(connection.connection_id)
            if current is None:
                return None
            if current.language == new:
                return self.sessions.get(connection.session_id)
            if current.language != connection.language:
                return None
            session = self.sessions.move_listener(connection.session_id, current.language, new)
            self.connections.move(connection.connection_id, old=current.language, new=new)
            return session
