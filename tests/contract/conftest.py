"""One suite per port, run against the in-memory fake and the AWS adapter on moto.

Each test module parametrizes its fixture over ``memory`` and ``aws``: the same
test, the same assertions, so a fake cannot drift from the adapter it stands in
for (Percival & Gregory's way of keeping fakes honest). The AWS side runs inside
``moto.mock_aws`` with the resources ``polycast.wiring`` defines, created by the
local runtime's own ``create_resources``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast.adapters.aws.audio import S3AudioStore
from polycast.adapters.aws.connections import DynamoConnectionStore
from polycast.adapters.aws.listeners import DynamoListenerRegistry
from polycast.adapters.aws.segments import DynamoSegmentLog
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.adapters.aws.translation_cache import DynamoTranslationCacheStore
from polycast.config import Settings
from polycast.ports import (
    AudioStore,
    ConnectionStore,
    ListenerRegistry,
    SegmentLog,
    SessionStore,
    TranslationCacheStore,
)
from polycast_kit.local.resources import LocalResources, create_resources, local_settings
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore

BACKENDS = ("memory", "aws")
PAGE_SIZE = 2  # small, so listing listeners takes several pages on both


@dataclass
class Aws:
    """moto with the wiring's resources, and clients on it."""

    settings: Settings
    resources: LocalResources

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(service, region_name=self.settings.region)  # type: ignore[call-overload]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    settings = local_settings()
    with mock_aws():
        yield Aws(settings, create_resources(settings))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``memory`` or ``aws``; a port's fixture builds its store from it."""
    name: str = request.param
    return name


@dataclass
class Stores:
    """Every store port of one backend, over the same tables (or the same memory).

    ``backdate`` is arrangement only (DynamoDB stamps times itself): it moves a
    session's activity and start into the past; every assertion goes through a port.
    """

    sessions: SessionStore
    connections: ConnectionStore
    listeners: ListenerRegistry
    segments: SegmentLog
    translation_cache: TranslationCacheStore
    audio: AudioStore
    backdate: Callable[[str, int, int], None]


def memory_stores(settings: Settings) -> Stores:
    sessions = MemorySessionStore()
    connections = MemoryConnectionStore(page_size=PAGE_SIZE)

    def backdate(session_id: str, idle_for: int, started_ago: int) -> None:
        now = int(time.time())
        found = sessions.sessions[session_id]
        sessions.sessions[session_id] = replace(
            found, last_activity_at=now - idle_for, created_at=now - started_ago
        )

    return Stores(
        sessions=sessions,
        connections=connections,
        listeners=MemoryListenerRegistry(connections, sessions),
        segments=MemorySegmentLog(),
        translation_cache=MemoryTranslationCacheStore(),
        audio=MemoryAudioStore(settings.audio_bucket),
        backdate=backdate,
    )


def aws_stores(aws: Aws) -> Stores:
    settings = aws.settings
    ddb = aws.client("dynamodb")

    def backdate(session_id: str, idle_for: int, started_ago: int) -> None:
        now = int(time.time())
        ddb.update_item(
            TableName=settings.sessions_table,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET lastActivityAt = :a, createdAt = :c",
            ExpressionAttributeValues={
                ":a": {"N": str(now - idle_for)},
                ":c": {"N": str(now - started_ago)},
            },
        )

    return Stores(
        sessions=DynamoSessionStore(ddb, settings.sessions_table),
        connections=DynamoConnectionStore(ddb, settings.connections_table, page_size=PAGE_SIZE),
        listeners=DynamoListenerRegistry(
            ddb,
            connections_table=settings.connections_table,
            sessions_table=settings.sessions_table,
        ),
        segments=DynamoSegmentLog(ddb, settings.segments_table),
        translation_cache=DynamoTranslationCacheStore(ddb, settings.cached_translations_table),
        audio=S3AudioStore(aws.client("s3"), settings.audio_bucket),
        backdate=backdate,
    )


@pytest.fixture
def stores(backend: str, request: pytest.FixtureRequest) -> Stores:
    if backend == "memory":
        return memory_stores(local_settings())
    aws: Aws = request.getfixturevalue("aws")
    return aws_stores(aws)
