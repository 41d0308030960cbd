"""DynamoListenerRegistry on moto: a request the SDK sends twice counts once.

A retried request whose first attempt applied is the bug the transaction guards
against, so the retry is made real: a botocore ``needs-retry`` hook tells the SDK to
send the same TransactWriteItems again after it succeeded (what a read timeout
does). What every registry must do (caps, refusals, drifted counts, races) is the
contract suite's: tests/contract/test_listener_registry.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast.adapters.aws.connections import DynamoConnectionStore
from polycast.adapters.aws.listeners import DynamoListenerRegistry
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.domain.models import Connection
from polycast_kit.local.resources import create_resources, local_settings

SESSION = "golden-eagle-427"


class World:
    def __init__(self) -> None:
        settings = local_settings()
        create_resources(settings)
        self.ddb: Any = boto3.client("dynamodb", region_name="us-east-1")
        self.sessions = DynamoSessionStore(self.ddb, settings.sessions_table)
        self.connections = DynamoConnectionStore(self.ddb, settings.connections_table)
        self.registry = DynamoListenerRegistry(
            self.ddb,
            connections_table=settings.connections_table,
            sessions_table=settings.sessions_table,
        )
        self.sessions.start(SESSION, "en")
        self.sent = 0

    def counts(self) -> tuple[int, dict[str, int]]:
        session = self.sessions.get(SESSION)
        assert session is not None
        return session.listener_count, {k: v for k, v in session.language_counts.items() if v}

    def stored(self) -> int:
        return sum(len(page) for page in self.connections.listeners(SESSION))

    def resend_once(self) -> None:
        """The next TransactWriteItems is sent twice, as after a read timeout."""
        state = {"armed": True}

        def needs_retry(attempts: int, **_: Any) -> float | None:
            if state["armed"] and attempts == 1:
                state["armed"] = False
                return 0.0
            return None

        self.ddb.meta.events.register_first("needs-retry.dynamodb.TransactWriteItems", needs_retry)

    def count_sends(self) -> None:
        def sent(**_: Any) -> None:
            self.sent += 1

        self.ddb.meta.events.register("before-send.dynamodb.TransactWriteItems", sent)


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def listener(connection_id: str, language: str = "es") -> Connection:
    return Connection(connection_id, SESSION, language, 1_800_000_000)


def test_a_resent_connect_counts_once(world: World) -> None:
    world.count_sends()
    world.resend_once()
    session = world.registry.admit(listener("a"))
    assert world.sent == 2  # the SDK really sent it twice
    assert (session.listener_count, session.language_counts["es"]) == (1, 1)
    # The same connect again (another delivery of $connect): still once.
    world.registry.admit(listener("a"))
    assert world.counts() == (1, {"es": 1})
    assert world.stored() == 1


def test_a_resent_disconnect_counts_once(world: World) -> None:
    world.registry.admit(listener("a"))
    world.registry.admit(listener("b", "fr"))
    world.count_sends()
    world.resend_once()
    world.registry.remove("a")
    assert world.sent == 2
    # moto ignores ClientRequestToken, so the resend fails its condition and this
    # call cannot tell it removed the item (real DynamoDB answers the first
    # attempt's success); either way the count moved once.
    assert world.counts() == (1, {"fr": 1})
    assert world.registry.remove("a") is None  # $disconnect after a 410 prune
    assert world.counts() == (1, {"fr": 1})
    assert world.stored() == 1


def test_a_resent_switch_moves_once(world: World) -> None:
    world.registry.admit(listener("a"))
    world.registry.admit(listener("b"))
    world.count_sends()
    world.resend_once()
    session = world.registry.switch(listener("a", "es"), "fr")
    assert world.sent == 2
    assert session is not None
    assert world.counts() == (2, {"es": 1, "fr": 1})
    # The same switch sent again later: already there, nothing moves.
    assert world.registry.switch(listener("a", "es"), "fr") is not None
    assert world.counts() == (2, {"es": 1, "fr": 1})
    stored = world.connections.get("a")
    assert stored is not None
    assert stored.language == "fr"
    # Back again is a new operation and moves the count back.
    world.registry.switch(listener("a", "fr"), "es")
    assert world.counts() == (2, {"es": 2})
