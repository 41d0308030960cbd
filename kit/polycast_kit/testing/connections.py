"""In-memory ConnectionStore: the Connections table and its GSI, for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

from polycast.domain.models import Connection


class MemoryConnectionStore:
    """Dict-backed; ``listeners`` pages like the GSI query (``page_size`` per page)."""

    def __init__(self, *, page_size: int = 100) -> None:
        self.page_size = page_size
        self._items: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def put(self, connection: Connection) -> None:
        with self._lock:
            self._items[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._items.get(connection_id)

    def delete(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._items.pop(connection_id, None)

    def set_paused(self, connection_id: str, paused: bool) -> Connection | None:
        with self._lock:
            found = self._items.get(connection_id)
            if found is None:
                return None
            self._items[connection_id] = replace(found, paused=paused)
            return self._items[connection_id]

    def move(self, connection_id: str, *, old: str, new: str) -> Connection | None:
        with self._lock:
            found = self._items.get(connection_id)
            if found is None or found.language != old:
                return None
            self._items[connection_id] = replace(found, language=new)
            return self._items[connection_id]

    def listeners(self, session_id: str, language: str | None = None) -> Iterator[list[Connection]]:
        with self._lock:
            matching = [
                c
                for c in self._items.values()
                if c.session_id == session_id and (language is None or c.language == language)
            ]
        # GSI order: by sort key (targetLanguage); stable within a language.
        matching.sort(key=lambda c: c.language)
        for start in range(0, len(matching), self.page_size):
            yield matching[start : start + self.page_size]

    def __len__(self) -> int:
        return len(self._items)
