"""Two-tier translation cache: an in-memory LRU in front of the CachedTranslations table.

The LRU lives as long as the Lambda container, so a warm processor answers
repeated sentences with no I/O at all; misses go to the store in ONE batch read
for every language of a segment, never one read per language.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from polycast.domain.cache_keys import translation_key
from polycast.ports import TranslationCacheStore

log = logging.getLogger(__name__)


@dataclass
class CacheLookup:
    """Translations found for one segment, and how they were found."""

    found: dict[str, str]  # target language → translation
    memory_hits: int = 0
    store_hits: int = 0
    misses: int = 0

    @property
    def hits(self) -> int:
        return self.memory_hits + self.store_hits


class TranslationCache:
    """Thread-safe: one instance per container, shared by concurrently processed sessions.

    Memory entries expire after ``ttl_seconds`` like the table's, so a corrected
    translation in the table reaches warm containers too.
    """

    def __init__(
        self,
        store: TranslationCacheStore,
        *,
        max_entries: int = 10_000,
        ttl_seconds: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_entries = max(0, max_entries)
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self.misses = 0
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def lookup(
        self,
        text: str,
        source: str,
        targets: Iterable[str],
        variant: Callable[[str], str] = lambda target: "",
    ) -> CacheLookup:
        """Translations of ``text`` already known, for every target (memory, then one batch).

        ``variant(target)``: the session's settings that change that translation."""
        keys = {
            target: translation_key(text, source, target, variant(target)) for target in targets
        }
        result = CacheLookup(found={})
        missing: dict[str, str] = {}
        now = self._clock()
        with self._lock:
            for target, key in keys.items():
                entry = self._entries.get(key)
                if entry is None or entry[1] <= now:
                    missing[key] = target
                else:
                    self._entries.move_to_end(key)
                    result.found[target] = entry[0]
                    result.memory_hits += 1
        if missing:
            stored = self._read_store(list(missing))
            for key, value in stored.items():
                if key in missing:
                    result.found[missing[key]] = value
                    result.store_hits += 1
            self._remember(stored)
        result.misses = len(keys) - result.hits
        with self._lock:
            self.hits += result.hits
            self.misses += result.misses
        return result

    def store_translations(
        self,
        text: str,
        source: str,
        translations: Mapping[str, str],
        variant: Callable[[str], str] = lambda target: "",
    ) -> None:
        """Remember new translations in both tiers (one batch write)."""
        if not translations:
            return
        items = {
            translation_key(text, source, target, variant(target)): value
            for target, value in translations.items()
        }
        self._remember(items)
        try:
            self.store.put_many(items, ttl_seconds=self.ttl_seconds)
        except Exception as exc:  # a cache write must never fail the segment
            log.warning("translation cache write failed", extra={"error": type(exc).__name__})

    def _read_store(self, keys: list[str]) -> dict[str, str]:
        """A store that cannot answer is a miss, not a failure: we can still translate."""
        try:
            return self.store.get_many(keys)
        except Exception as exc:
            log.warning("translation cache read failed", extra={"error": type(exc).__name__})
            return {}

    def _remember(self, items: Mapping[str, str]) -> None:
        if self.max_entries == 0:
            return
        expires = self._clock() + self.ttl_seconds
        with self._lock:
            for key, value in items.items():
                self._entries[key] = (value, expires)
                self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
