"""Composition root: the one place that picks adapters for each function.

Each handler calls its ``*_dependencies(settings)`` once per container and keeps
the result, so boto3 clients and pools survive warm starts.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import boto3
from botocore.config import Config

from polycast.config import Settings
from polycast.domain.languages import SUPPORTED_LANGUAGES
from polycast.services.broadcaster import Broadcaster
from polycast.services.connections import ConnectionService


def aws_client(settings: Settings, service: str, *, config: Config | None = None) -> Any:
    """A boto3 client for ``service``, on the emulator when ``AWS_ENDPOINT_URL`` says so."""
    kw: dict[str, Any] = {"region_name": settings.region}
    if settings.aws_endpoint_url:
        kw["endpoint_url"] = settings.aws_endpoint_url
    if config is not None:
        kw["config"] = config
    return boto3.session.Session().client(service, **kw)  # type: ignore[call-overload]


def management_client(settings: Settings, *, pool: int) -> Any:
    """API Gateway Management API client on ``API_GATEWAY_ENDPOINT``.

    botocore's own retries are off: the broadcaster retries throttling itself
    (100 ms, 200 ms) and must see a 410 at once. The pool matches the fan-out.
    """
    if not settings.api_gateway_endpoint:
        raise ValueError("API_GATEWAY_ENDPOINT is not set")
    config = Config(
        max_pool_connections=max(10, pool),
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=settings.api_gateway_endpoint,
        region_name=settings.region,
        config=config,
    )


def supported_target_languages(settings: Settings) -> Collection[str]:
    """What listeners may ask for: Translate's list, or what local Apertium reaches."""
    if settings.engines == "local":
        try:
            from polycast.adapters import local as local_engines

            discovered = local_engines.supported_languages()  # type: ignore[attr-defined]
        except (ImportError, AttributeError):
            return SUPPORTED_LANGUAGES
        return frozenset(discovered)
    return SUPPORTED_LANGUAGES


def _shared_adapters(settings: Settings, *, pool: int) -> dict[str, Any]:
    """Stores and publishers both WebSocket-side functions use."""
    from polycast.adapters.aws.audio import S3AudioStore
    from polycast.adapters.aws.connections import DynamoConnectionStore
    from polycast.adapters.aws.events import EventBridgePublisher
    from polycast.adapters.aws.segments import DynamoSegmentLog
    from polycast.adapters.aws.sender import ApiGatewaySender
    from polycast.adapters.aws.sessions import DynamoSessionStore

    ddb = aws_client(settings, "dynamodb", config=Config(max_pool_connections=max(10, pool)))
    return {
        "sessions": DynamoSessionStore(ddb, settings.sessions_table),
        "connections": DynamoConnectionStore(ddb, settings.connections_table),
        "segments": DynamoSegmentLog(ddb, settings.segments_table),
        "sender": ApiGatewaySender(management_client(settings, pool=pool)),
        "publisher": EventBridgePublisher(aws_client(settings, "events"), settings.event_bus_name),
        "audio": S3AudioStore(aws_client(settings, "s3"), settings.audio_bucket),
    }


def broadcaster_dependencies(settings: Settings) -> Broadcaster:
    pool = settings.max_concurrent_broadcasts
    return Broadcaster(
        **_shared_adapters(settings, pool=pool),
        max_concurrent=pool,
        segment_ttl_seconds=settings.segment_buffer_ttl_seconds,
    )


def connection_dependencies(settings: Settings) -> ConnectionService:
    return ConnectionService(
        **_shared_adapters(settings, pool=10),
        supported_languages=supported_target_languages(settings),
        max_listeners_per_session=settings.max_listeners_per_session,
    )
