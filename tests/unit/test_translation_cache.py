"""Two-tier translation cache: LRU in memory, one batch read of the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from polycast.domain.cache_keys import audio_key, normalize_text, translation_key
from polycast.errors import TransientError
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_use_normalized_text_and_differ_per_pair() -> None:
    assert normalize_text("  Hello \n  world\t") == "Hello world"
    assert translation_key("Hello  world", "en", "es") == translation_key(
        " Hello world ", "en", "es"
    )
    assert translation_key("Hello", "en", "es") != translation_key("Hello", "en", "fr")
    assert translation_key("Hello", "en", "es") != translation_key("hello", "en", "es")
    assert translation_key("Café", "en", "es") == translation_key("Cafe\u0301", "en", "es")


def test_audio_key_depends_on_ssml_voice_engine_and_format() -> None:
    base = audio_key("<speak>x</speak>", "Lucia", "neural", "mp3")
    assert base.startswith("audio/neural/Lucia/")
    assert base.endswith(".mp3")
    assert base == audio_key("<speak>x</speak>", "Lucia", "neural", "mp3")
    assert (
        len(
            {
                base,
                audio_key("<speak>y</speak>", "Lucia", "neural", "mp3"),
                audio_key("<speak>x</speak>", "Lea", "neural", "mp3"),
                audio_key("<speak>x</speak>", "Lucia", "standard", "mp3"),
                audio_key("<speak>x</speak>", "Lucia", "neural", "ogg"),
            }
        )
        == 5
    )


def test_misses_read_the_store_once_for_all_languages_then_memory_answers() -> None:
    store = MemoryTranslationCacheStore()
    cache = TranslationCache(store, max_entries=100)
    first = cache.lookup("Hello", "en", ["es", "fr", "de"])
    assert first.found == {}
    assert first.misses == 3
    assert len(store.get_calls) == 1
    assert len(store.get_calls[0]) == 3

    cache.store_translations("Hello", "en", {"es": "Hola", "fr": "Bonjour"})
    assert len(store.put_calls) == 1
    assert store.ttls[translation_key("Hello", "en", "es")] == 3600

    second = cache.lookup("Hello", "en", ["es", "fr"])
    assert second.found == {"es": "Hola", "fr": "Bonjour"}
    assert (second.memory_hits, second.store_hits, second.misses) == (2, 0, 0)
    assert len(store.get_calls) == 1  # memory answered: no I/O
    assert cache.hits == 2
    assert cache.misses == 3
    assert cache.hit_rate == 2 / 5


def test_store_hits_warm_the_memory_tier() -> None:
    store = MemoryTranslationCacheStore()
    store.put_many({translation_key("Hi", "en", "es"): "Hola"}, ttl_seconds=60)
    cache = TranslationCache(store)
    got = cache.lookup("Hi", "en", ["es", "it"])
    assert got.found == {"es": "Hola"}
    assert (got.store_hits, got.misses) == (1, 1)
    again = cache.lookup("Hi", "en", ["es"])
    assert again.memory_hits == 1


def test_lru_evicts_the_least_recently_used_entry() -> None:
    store = MemoryTranslationCacheStore()
    cache = TranslationCache(store, max_entries=2)
    cache.store_translations("a", "en", {"es": "A"})
    cache.store_translations("b", "en", {"es": "B"})
    cache.lookup("a", "en", ["es"])  # touch a: b is now the oldest
    cache.store_translations("c", "en", {"es": "C"})
    assert len(cache) == 2
    store.items.clear()  # only memory can answer now
    assert cache.lookup("a", "en", ["es"]).found == {"es": "A"}
    assert cache.lookup("b", "en", ["es"]).found == {}
    assert cache.lookup("c", "en", ["es"]).found == {"es": "C"}


def test_memory_entries_expire_with_the_ttl() -> None:
    clock = Clock()
    store = MemoryTranslationCacheStore()
    cache = TranslationCache(store, ttl_seconds=60, clock=clock)
    cache.store_translations("a", "en", {"es": "A"})
    store.items.clear()
    clock.now += 61
    assert cache.lookup("a", "en", ["es"]).found == {}


class BrokenStore:
    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        raise TransientError("throttled")

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None:
        raise TransientError("throttled")


def test_a_failing_store_is_a_miss_not_a_failure() -> None:
    cache = TranslationCache(BrokenStore())
    got = cache.lookup("a", "en", ["es"])
    assert got.misses == 1
    cache.store_translations("a", "en", {"es": "A"})  # does not raise
    assert cache.lookup("a", "en", ["es"]).found == {"es": "A"}
