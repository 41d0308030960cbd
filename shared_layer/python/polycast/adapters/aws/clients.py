"""boto3 clients, built once per container: timeouts and THE retry policy.

Every AWS call path retries at exactly one level, and for SDK-level failures that
level is botocore, configured here and nowhere else: ``standard`` retry mode
(throttling codes, 429, 5xx and connection errors; exponential backoff with full
jitter, 1 s base for throttling and 50 ms otherwise — 25 ms for DynamoDB — and a
per-client retry quota that stops retry storms). ``max_attempts`` counts the first
call. Services and adapters do not retry these calls again; what is still failing
surfaces as :class:`polycast.errors.TransientError` (or ``Throttled``) and the
caller's own retry takes over: the Kinesis event source mapping for the processor,
Lambda's asynchronous retries for the broadcaster.

Service-level retries exist only where botocore cannot see a failure, because the
call itself succeeded: PutEvents entries refused inside a 200 (``FailedEntryCount``,
:mod:`.events`), BatchGetItem's ``UnprocessedKeys`` and BatchWriteItem's
``UnprocessedItems`` (:mod:`.translation_cache`) and DynamoDB transactions cancelled
by a conflict (:mod:`.listeners`). docs/architecture.md ("Retries") has the table.

A Lambda has 30 s: no call may hang for botocore's default 60 s read timeout.
``AWS_ENDPOINT_URL`` (the local emulator) is honoured by boto3 itself; an
explicit ``endpoint_url`` from Settings wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import boto3
from botocore.config import Config

from polycast.config import Settings

RETRY_MODE: Literal["standard"] = "standard"


@dataclass(frozen=True)
class CallProfile:
    """Timeouts and total attempts (the first call included) for one AWS service."""

    connect_timeout: float
    read_timeout: float
    max_attempts: int


PROFILES: dict[str, CallProfile] = {
    "dynamodb": CallProfile(1.0, 3.0, 3),
    "translate": CallProfile(2.0, 5.0, 3),
    # Polly: a long sentence takes seconds. Throttling is answered by degrading
    # (neural voice → standard voice → text only, in the orchestrator), so one retry.
    "polly": CallProfile(2.0, 10.0, 2),
    "events": CallProfile(1.0, 3.0, 3),
    "s3": CallProfile(2.0, 5.0, 3),
    # PostToConnection: 429 and 5xx are retried; 410 Gone is not (botocore never
    # retries it), so the broadcaster prunes a gone listener at once.
    "apigatewaymanagementapi": CallProfile(2.0, 5.0, 3),
}
DEFAULT_PROFILE = CallProfile(2.0, 5.0, 3)


def client_config(service: str, *, pool: int = 50) -> Config:
    profile = PROFILES.get(service, DEFAULT_PROFILE)
    return Config(
        connect_timeout=profile.connect_timeout,
        read_timeout=profile.read_timeout,
        # ``total_max_attempts`` counts the first call; botocore's ``max_attempts`` key
        # counts retries only (``max_attempts: 3`` makes four calls).
        retries={"total_max_attempts": profile.max_attempts, "mode": RETRY_MODE},
        max_pool_connections=pool,
    )


def client(
    service: str, settings: Settings, *, pool: int = 50, endpoint_url: str | None = None
) -> Any:
    """A boto3 client with this service's timeouts and retries; the pool sized for
    parallel calls."""
    kw: dict[str, Any] = {
        "region_name": settings.region,
        "config": client_config(service, pool=pool),
    }
    endpoint = endpoint_url or settings.aws_endpoint_url
    if endpoint:
        kw["endpoint_url"] = endpoint
    return boto3.session.Session().client(service, **kw)  # type: ignore[call-overload]


def management_client(settings: Settings, *, pool: int) -> Any:
    """API Gateway Management API client on ``API_GATEWAY_ENDPOINT`` (the WebSocket
    API's callback URL, or the local gateway); the pool matches the fan-out."""
    if not settings.api_gateway_endpoint:
        raise ValueError("API_GATEWAY_ENDPOINT is not set")
    return client(
        "apigatewaymanagementapi",
        settings,
        pool=max(10, pool),
        endpoint_url=settings.api_gateway_endpoint,
    )
