"""TranslationCacheStore: the memory tier and DynamoTranslationCacheStore (moto) keep one
contract."""

from __future__ import annotations

from .conftest import Stores


def test_what_was_put_is_got_in_batches_larger_than_one_request(stores: Stores) -> None:
    cache = stores.translation_cache
    items = {f"key-{n:03d}": f"valor {n}" for n in range(130)}  # > 25 a write, > 100 a read
    cache.put_many(items, ttl_seconds=60)
    assert cache.get_many([*items, "missing"]) == items


def test_missing_keys_are_left_out(stores: Stores) -> None:
    assert stores.translation_cache.get_many(["nothing", "here"]) == {}
    assert stores.translation_cache.get_many([]) == {}


def test_a_later_put_replaces_and_repeated_keys_read_once(stores: Stores) -> None:
    cache = stores.translation_cache
    cache.put_many({"k": "old", "j": "jota"}, ttl_seconds=60)
    cache.put_many({"k": "new"}, ttl_seconds=60)
    assert cache.get_many(["k", "k", "j"]) == {"k": "new", "j": "jota"}


def test_an_expired_item_is_not_a_hit(stores: Stores) -> None:
    """DynamoDB deletes expired items lazily, so reads drop them; so does the fake."""
    cache = stores.translation_cache
    cache.put_many({"stale": "viejo"}, ttl_seconds=-10)
    cache.put_many({"fresh": "nuevo"}, ttl_seconds=60)
    assert cache.get_many(["stale", "fresh"]) == {"fresh": "nuevo"}
