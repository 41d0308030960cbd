"""In-memory TranslationCacheStore (the DynamoDB tier's stand-in)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence


class MemoryTranslationCacheStore:
    """Counts batch reads and writes, so tests can assert "one batch request".

    Like the table (whose TTL deletes lazily, so its reads drop expired items), an
    item past its ``ttl_seconds`` is not a hit.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.items: dict[str, str] = {}
        self.ttls: dict[str, int] = {}
        self.expires_at: dict[str, int] = {}
        self.get_calls: list[list[str]] = []
        self.put_calls: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        with self._lock:
            self.get_calls.append(list(keys))
            now = int(self.clock())
            return {
                k: self.items[k]
                for k in keys
                if k in self.items and self.expires_at.get(k, now) >= now
            }

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None:
        with self._lock:
            self.put_calls.append(dict(items))
            expires_at = int(self.clock()) + ttl_seconds
            for key, value in items.items():
                self.items[key] = value
                self.ttls[key] = ttl_seconds
                self.expires_at[key] = expires_at
