"""Issue 8's DynamoDB writes on moto tables built from the wiring: the connection's
language move in the index, pause flags, activity and TTL, and the sweeper's filtered
scan and conditional end. (The listener cap and the counted language switch are the
ListenerRegistry's: tests/contract/test_listener_registry.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast.adapters.aws.connections import DynamoConnectionStore
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.domain.models import Connection
from polycast.services.session_sweeper import SessionSweeper
from polycast_kit.local.resources import create_resources, local_settings
from polycast_kit.testing.events import MemoryEventPublisher

SESSION = "golden-eagle-427"


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        create_resources(local_settings())
        yield boto3.client("dynamodb", region_name="us-east-1")


def item(ddb: Any, session_id: str = SESSION) -> dict[str, Any]:
    found: dict[str, Any] = ddb.get_item(
        TableName="polycast-sessions", Key={"sessionId": {"S": session_id}}
    )["Item"]
    return found


def test_a_connection_moves_between_languages_in_the_index(ddb: Any) -> None:
    connections = DynamoConnectionStore(ddb, "polycast-connections")
    connections.put(Connection("c1", SESSION, "es", int(time.time())))

    assert connections.move("c1", old="fr", new="gl") is None  # not in fr: nothing changes
    moved = connections.move("c1", old="es", new="fr")
    assert moved is not None
    assert moved.language == "fr"
    assert [c.connection_id for page in connections.listeners(SESSION, "fr") for c in page] == [
        "c1"
    ]
    assert list(connections.listeners(SESSION, "es")) == []
    assert connections.move("ghost", old="es", new="fr") is None

    paused = connections.set_paused("c1", True)
    assert paused is not None
    assert paused.paused
    got = connections.get("c1")
    assert got is not None
    assert got.paused
    assert connections.set_paused("ghost", True) is None


def test_pause_and_activity_push_back_the_ttl(ddb: Any) -> None:
    sessions = DynamoSessionStore(ddb, "polycast-sessions", ttl_seconds=3600)
    sessions.start(SESSION, "en")
    ddb.update_item(
        TableName="polycast-sessions",
        Key={"sessionId": {"S": SESSION}},
        UpdateExpression="SET lastActivityAt = :old, expiresAt = :old",
        ExpressionAttributeValues={":old": {"N": "1000"}},
    )
    assert sessions.set_paused(SESSION, True) is True
    assert sessions.set_paused(SESSION, True) is False  # already paused
    session = sessions.get(SESSION)
    assert session is not None
    assert session.paused
    assert int(item(ddb)["expiresAt"]["N"]) >= int(time.time()) + 3500

    ddb.update_item(
        TableName="polycast-sessions",
        Key={"sessionId": {"S": SESSION}},
        UpdateExpression="SET lastActivityAt = :old",
        ExpressionAttributeValues={":old": {"N": "1000"}},
    )
    sessions.touch(SESSION)
    assert int(item(ddb)["lastActivityAt"]["N"]) >= int(time.time()) - 5


def test_the_sweeper_scans_only_stale_active_sessions_and_ends_them(ddb: Any) -> None:
    sessions = DynamoSessionStore(ddb, "polycast-sessions")
    for session_id in ("quiet-room-1", "busy-room-2", "done-room-3"):
        sessions.start(session_id, "en")
    sessions.end("done-room-3", reason="ended by speaker")
    now = int(time.time())
    ddb.update_item(
        TableName="polycast-sessions",
        Key={"sessionId": {"S": "quiet-room-1"}},
        UpdateExpression="SET lastActivityAt = :old",
        ExpressionAttributeValues={":old": {"N": str(now - 4000)}},
    )
    publisher = MemoryEventPublisher()
    sweeper = SessionSweeper(
        sessions=sessions, publisher=publisher, idle_seconds=1800, max_seconds=4 * 3600
    )

    stale = list(sessions.stale_sessions(idle_before=now - 1799, started_before=now - 14399))
    assert [s.session_id for s in stale] == ["quiet-room-1"]
    result = sweeper.sweep()

    assert result.ended == {"quiet-room-1": "idle"}
    assert [d["reason"] for d in publisher.of_type("SessionEnded")] == ["idle"]
    ended = item(ddb, "quiet-room-1")
    assert (ended["status"]["S"], ended["endReason"]["S"]) == ("ended", "idle")
    assert int(ended["expiresAt"]["N"]) > now
    assert (
        sessions.end_stale(
            "busy-room-2", reason="idle", idle_before=now - 1799, started_before=now - 14399
        )
        is False
    )
