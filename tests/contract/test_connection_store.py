"""ConnectionStore: MemoryConnectionStore and DynamoConnectionStore (moto) keep one contract."""

from __future__ import annotations

from polycast.domain.models import Connection

from .conftest import PAGE_SIZE, Stores

SESSION = "golden-eagle-427"


def listener(connection_id: str, language: str = "es", session_id: str = SESSION) -> Connection:
    return Connection(connection_id, session_id, language, 1_800_000_000)


def test_put_get_delete_round_trip(stores: Stores) -> None:
    connections = stores.connections
    paused = Connection("c1", SESSION, "fr", 1_800_000_123, paused=True)
    connections.put(paused)
    connections.put(listener("c2"))
    assert connections.get("c1") == paused
    assert connections.get("ghost") is None
    assert connections.delete("c1") == paused
    assert connections.delete("c1") is None  # already gone: idempotent
    assert connections.get("c1") is None
    assert connections.get("c2") == listener("c2")


def test_set_paused_flips_the_flag(stores: Stores) -> None:
    connections = stores.connections
    connections.put(listener("c1"))
    flipped = connections.set_paused("c1", True)
    assert flipped == Connection("c1", SESSION, "es", 1_800_000_000, paused=True)
    assert connections.get("c1") == flipped
    assert connections.set_paused("c1", False) == listener("c1")
    assert connections.set_paused("ghost", True) is None
    assert connections.get("ghost") is None  # not created


def test_move_only_from_the_language_it_is_in(stores: Stores) -> None:
    connections = stores.connections
    connections.put(listener("c1"))
    assert connections.move("c1", old="fr", new="gl") is None  # not in fr: nothing changes
    assert connections.get("c1") == listener("c1")
    assert connections.move("c1", old="es", new="fr") == listener("c1", "fr")
    assert connections.get("c1") == listener("c1", "fr")
    assert connections.move("ghost", old="es", new="fr") is None
    assert connections.get("ghost") is None


def test_listeners_pages_through_a_session_and_a_language(stores: Stores) -> None:
    connections = stores.connections
    for n in range(5):
        connections.put(listener(f"es-{n}"))
    for n in range(3):
        connections.put(listener(f"fr-{n}", "fr"))
    connections.put(listener("other", session_id="silver-otter-12"))

    spanish = list(connections.listeners(SESSION, "es"))
    everyone = list(connections.listeners(SESSION))

    assert all(0 < len(page) <= PAGE_SIZE for page in spanish + everyone)
    assert len(spanish) >= 3  # five listeners, two a page
    assert sorted(c.connection_id for page in spanish for c in page) == [
        f"es-{n}" for n in range(5)
    ]
    ids = sorted(c.connection_id for page in everyone for c in page)
    assert ids == sorted([*(f"es-{n}" for n in range(5)), *(f"fr-{n}" for n in range(3))])
    assert list(connections.listeners(SESSION, "de")) == []
    assert list(connections.listeners("no-such-session-1")) == []


def test_a_moved_connection_is_listed_under_its_new_language(stores: Stores) -> None:
    connections = stores.connections
    connections.put(listener("c1"))
    connections.move("c1", old="es", new="fr")
    assert [c.connection_id for page in connections.listeners(SESSION, "fr") for c in page] == [
        "c1"
    ]
    assert list(connections.listeners(SESSION, "es")) == []
