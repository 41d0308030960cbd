"""In-memory TranslationCacheStore (the DynamoDB tier's stand-in)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence


class MemoryTranslationCacheStore:
    """Counts batch reads and writes, so tests can assert "one batch request"."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.ttls: dict[str, int] = {}
        self.get_calls: list[list[str]] = []
        self.put_calls: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        with self._lock:
            self.get_calls.append(list(keys))
            return {k: self.items[k] for k in keys if k in self.items}

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None:
        with self._lock:
            self.put_calls.append(dict(items))
            for key, value in items.items():
                self.items[key] = value
                self.ttls[key] = ttl_seconds
