"""A DynamoDB call botocore gives up on (a timeout, a refused connection) reaches the
services as a TransientError, as a 5xx does, never as botocore's own exception.

Raw, it slipped past the broadcaster's handling of a failed "delivered" mark: the
invocation failed after its fan-out and the retried event fanned out again. Here
the client is real and points at a loopback port nothing listens on.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from polycast.adapters.aws.connections import DynamoConnectionStore
from polycast.adapters.aws.listeners import DynamoListenerRegistry
from polycast.adapters.aws.segments import DynamoSegmentLog
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.domain.models import Connection, Segment
from polycast.errors import TransientError


@pytest.fixture(scope="module")
def unreachable() -> Any:
    with socket.socket() as probe:  # a port bound, then released: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - not a secret
        config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}),
    )


SEGMENT = Segment("golden-eagle-427", 1, "es", "en", "Hola", "Hello", None, {})
CONNECTION = Connection("c-1", "golden-eagle-427", "es", connected_at=1)


def calls(client: Any) -> dict[str, Callable[[], object]]:
    segments = DynamoSegmentLog(client, "polycast-segments")
    connections = DynamoConnectionStore(client, "polycast-connections")
    sessions = DynamoSessionStore(client, "polycast-sessions")
    registry = DynamoListenerRegistry(
        client, connections_table="polycast-connections", sessions_table="polycast-sessions"
    )
    return {
        "segments.record": lambda: segments.record(SEGMENT, ttl_seconds=60),
        "segments.mark_delivered": lambda: segments.mark_delivered(SEGMENT),
        "segments.is_delivered": lambda: segments.is_delivered("golden-eagle-427", "es", 1),
        "segments.since": lambda: segments.since("golden-eagle-427", "es", 0),
        "connections.put": lambda: connections.put(CONNECTION),
        "connections.get": lambda: connections.get("c-1"),
        "connections.delete": lambda: connections.delete("c-1"),
        "connections.set_paused": lambda: connections.set_paused("c-1", True),
        "connections.listeners": lambda: list(connections.listeners("golden-eagle-427", "es")),
        "sessions.get": lambda: sessions.get("golden-eagle-427"),
        "sessions.next_sequence": lambda: sessions.next_sequence("golden-eagle-427"),
        "registry.set_audio": lambda: registry.set_audio("c-1", False),
    }


@pytest.mark.parametrize("name", sorted(calls(None)))
def test_an_unreachable_table_is_a_transient_error(unreachable: Any, name: str) -> None:
    with pytest.raises(TransientError, match="DynamoDB .*: EndpointConnectionError"):
        calls(unreachable)[name]()
