"""ListenerRegistry: MemoryListenerRegistry and DynamoListenerRegistry (moto) keep one
contract — join, leave and switch change the connection and the counts together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from polycast.domain.models import Connection
from polycast.errors import SessionEnded, SessionFull, SessionNotFound
from polycast_kit.local.moto_dynamodb import serialize_dynamodb_writes

from .conftest import Stores

SESSION = "golden-eagle-427"


@pytest.fixture
def registry(stores: Stores) -> Stores:
    stores.sessions.start(SESSION, "en")
    return stores


def listener(connection_id: str, language: str = "es", session_id: str = SESSION) -> Connection:
    return Connection(connection_id, session_id, language, 1_800_000_000)


def counts(stores: Stores) -> tuple[int, dict[str, int]]:
    session = stores.sessions.get(SESSION)
    assert session is not None
    return session.listener_count, {k: v for k, v in session.language_counts.items() if v}


def stored(stores: Stores) -> dict[str, str]:
    return {
        c.connection_id: c.language for page in stores.connections.listeners(SESSION) for c in page
    }


def test_admit_stores_the_connection_and_counts_it_in(registry: Stores) -> None:
    session = registry.listeners.admit(listener("a"))
    assert (session.listener_count, session.language_counts) == (1, {"es": 1})
    session = registry.listeners.admit(listener("b", "fr"))
    assert (session.listener_count, session.language_counts) == (2, {"es": 1, "fr": 1})
    assert session.active_languages == ["es", "fr"]
    assert registry.connections.get("a") == listener("a")
    assert stored(registry) == {"a": "es", "b": "fr"}


def test_admit_again_is_a_retry_and_counts_nothing(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    again = registry.listeners.admit(listener("a"))
    assert (again.listener_count, again.language_counts) == (1, {"es": 1})
    assert counts(registry) == (1, {"es": 1})


def test_admit_refuses_past_the_cap_an_ended_and_an_unknown_session(registry: Stores) -> None:
    registry.listeners.admit(listener("a"), max_listeners=2)
    registry.listeners.admit(listener("b", "fr"), max_listeners=2)
    with pytest.raises(SessionFull):
        registry.listeners.admit(listener("c"), max_listeners=2)
    registry.listeners.admit(listener("d"))  # 0: no cap
    with pytest.raises(SessionNotFound):
        registry.listeners.admit(listener("e", session_id="no-such-session-1"))
    registry.sessions.end(SESSION, reason="done")
    with pytest.raises(SessionEnded):
        registry.listeners.admit(listener("f"))
    with pytest.raises(SessionEnded):
        registry.listeners.admit(listener("a"))  # a retry of an admit, after the end
    assert counts(registry) == (3, {"es": 2, "fr": 1})
    assert stored(registry) == {"a": "es", "b": "fr", "d": "es"}


def test_remove_counts_out_once(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.listeners.admit(listener("b", "fr"))
    outcome = registry.listeners.remove("a")
    assert outcome is not None
    removed, session = outcome
    assert removed == listener("a")
    assert session is not None
    assert (session.listener_count, session.language_counts["fr"]) == (1, 1)
    assert session.language_counts.get("es", 0) == 0
    assert registry.listeners.remove("a") is None  # $disconnect after a 410 prune
    assert counts(registry) == (1, {"fr": 1})
    assert stored(registry) == {"b": "fr"}


def test_remove_never_counts_below_zero_but_still_forgets_the_connection(
    registry: Stores,
) -> None:
    registry.connections.put(listener("uncounted"))  # drifted: stored, never counted
    outcome = registry.listeners.remove("uncounted")
    assert outcome is not None
    assert outcome[1] is not None
    assert outcome[1].listener_count == 0
    assert counts(registry) == (0, {})
    assert registry.connections.get("uncounted") is None


def test_remove_of_a_connection_whose_session_is_gone(registry: Stores) -> None:
    orphan = listener("orphan", session_id="expired-room-9")
    registry.connections.put(orphan)
    assert registry.listeners.remove("orphan") == (orphan, None)
    assert registry.connections.get("orphan") is None


def test_remove_counts_out_of_an_ended_session_too(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.sessions.end(SESSION, reason="done")
    outcome = registry.listeners.remove("a")
    assert outcome is not None
    assert outcome[1] is not None
    assert (outcome[1].status, outcome[1].listener_count) == ("ended", 0)


def test_switch_moves_the_connection_and_its_count(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.listeners.admit(listener("b"))
    session = registry.listeners.switch(listener("a", "es"), "fr")
    assert session is not None
    assert (session.listener_count, session.language_counts["fr"]) == (2, 1)
    assert counts(registry) == (2, {"es": 1, "fr": 1})
    assert stored(registry) == {"a": "fr", "b": "es"}
    # The same switch again (a retried request): already there, nothing moves.
    assert registry.listeners.switch(listener("a", "es"), "fr") is not None
    assert counts(registry) == (2, {"es": 1, "fr": 1})
    # Back again is a new operation and moves the count back.
    assert registry.listeners.switch(listener("a", "fr"), "es") is not None
    assert counts(registry) == (2, {"es": 2})


def test_switch_to_the_language_it_has_changes_nothing(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    session = registry.listeners.switch(listener("a", "es"), "es")
    assert session is not None
    assert counts(registry) == (1, {"es": 1})


def test_a_switch_lost_to_a_concurrent_one_or_a_gone_connection_moves_nothing(
    registry: Stores,
) -> None:
    registry.listeners.admit(listener("a"))
    registry.listeners.switch(listener("a", "es"), "fr")
    assert registry.listeners.switch(listener("a", "es"), "it") is None
    assert registry.listeners.switch(listener("ghost", "es"), "it") is None
    assert counts(registry) == (1, {"fr": 1})
    assert stored(registry) == {"a": "fr"}


def test_a_switch_from_a_drifted_zero_count_counts_the_new_language_in(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.connections.put(listener("drifted", "ca"))  # stored, never counted
    session = registry.listeners.switch(listener("drifted", "ca"), "gl")
    assert session is not None
    assert counts(registry) == (1, {"es": 1, "gl": 1})
    assert stored(registry) == {"a": "es", "drifted": "gl"}


def test_switch_refuses_on_an_ended_session(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.sessions.end(SESSION, reason="done")
    with pytest.raises(SessionEnded):
        registry.listeners.switch(listener("a", "es"), "fr")
    assert stored(registry) == {"a": "es"}


def test_racing_connects_never_pass_the_cap(registry: Stores) -> None:
    """Twenty connects for five places, eight at a time.

    moto runs each call in the caller's thread and its transactions are not atomic
    across threads (DynamoDB's are): ``serialize_dynamodb_writes`` makes them so.
    """
    serialize_dynamodb_writes()
    admitted: list[str] = []
    full: list[str] = []
    lock = threading.Lock()

    def connect(n: int) -> None:
        try:
            registry.listeners.admit(listener(f"c{n}", ("es", "fr")[n % 2]), max_listeners=5)
        except SessionFull:
            with lock:
                full.append(f"c{n}")
            return
        with lock:
            admitted.append(f"c{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(connect, range(20)))

    total, by_language = counts(registry)
    assert (len(admitted), len(full)) == (5, 15)
    assert total == 5
    assert sum(by_language.values()) == 5
    assert sorted(stored(registry)) == sorted(admitted)


def captions_only(stores: Stores) -> dict[str, int]:
    session = stores.sessions.get(SESSION)
    assert session is not None
    return {k: v for k, v in session.captions_only_counts.items() if v}


def test_audio_off_and_on_moves_the_captions_only_count_once(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.listeners.admit(listener("b"))
    session = registry.listeners.set_audio("a", False)
    assert session is not None
    assert session.captions_only_counts.get("es") == 1
    registry.listeners.set_audio("a", False)  # a retry: nothing changes
    assert captions_only(registry) == {"es": 1}
    stored_a = registry.connections.get("a")
    assert stored_a is not None
    assert stored_a.audio is False
    assert registry.sessions.get(SESSION) is not None
    assert registry.sessions.get(SESSION).wants_audio("es")  # type: ignore[union-attr]
    registry.listeners.set_audio("a", True)
    registry.listeners.set_audio("a", True)
    assert captions_only(registry) == {}
    assert registry.listeners.set_audio("nobody", False) is None


def test_leaving_or_switching_takes_the_captions_only_count_along(registry: Stores) -> None:
    registry.listeners.admit(listener("a"))
    registry.listeners.admit(listener("b"))
    registry.listeners.set_audio("a", False)
    registry.listeners.set_audio("b", False)
    moved = registry.connections.get("a")
    assert moved is not None
    registry.listeners.switch(moved, "fr")
    assert captions_only(registry) == {"es": 1, "fr": 1}
    registry.listeners.remove("b")
    assert captions_only(registry) == {"fr": 1}
    session = registry.sessions.get(SESSION)
    assert session is not None
    assert not session.wants_audio("fr")
