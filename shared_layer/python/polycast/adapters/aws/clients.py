"""boto3 clients, built once per container with explicit timeouts and retries.

A Lambda has 30 s: no call may hang for botocore's default 60 s read timeout.
Retries use botocore's "standard" mode (exponential backoff with jitter on
throttling and 5xx); adapters map what is still failing to TransientError.
``AWS_ENDPOINT_URL`` (the local emulator) is honoured by boto3 itself; an
explicit ``endpoint_url`` from Settings wins.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from polycast.config import Settings

# Per service: (connect timeout, read timeout, total attempts).
_PROFILES: dict[str, tuple[float, float, int]] = {
    "dynamodb": (1.0, 3.0, 3),
    "translate": (2.0, 5.0, 3),
    # Polly: a long sentence takes seconds; throttling is handled by the adapter
    # (standard-voice fallback), so botocore retries only twice.
    "polly": (2.0, 10.0, 2),
    "events": (1.0, 3.0, 3),
    "s3": (2.0, 5.0, 3),
}
_DEFAULT_PROFILE = (2.0, 5.0, 3)


def client_config(service: str, *, pool: int = 50) -> Config:
    connect, read, attempts = _PROFILES.get(service, _DEFAULT_PROFILE)
    return Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"max_attempts": attempts, "mode": "standard"},
        max_pool_connections=pool,
    )


def client(service: str, settings: Settings, *, pool: int = 50) -> Any:
    """A boto3 client with this service's timeouts; the pool sized for parallel calls."""
    kw: dict[str, Any] = {
        "region_name": settings.region,
        "config": client_config(service, pool=pool),
    }
    if settings.aws_endpoint_url:
        kw["endpoint_url"] = settings.aws_endpoint_url
    return boto3.session.Session().client(service, **kw)  # type: ignore[call-overload]
