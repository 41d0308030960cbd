"""Configuration: one typed object, read from the environment once per container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal

Engines = Literal["aws", "local"]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything a function or the CLI needs to know about its deployment.

    Names follow the seed (docs/deploy.md); the newer ones sit beside them.
    """

    sessions_table: str = "polycast-sessions"
    connections_table: str = "polycast-connections"
    cached_translations_table: str = "polycast-cached-translations"
    segments_table: str = "polycast-segments"
    idempotency_table: str = "polycast-idempotency"
    audio_bucket: str = "polycast-audio"
    event_bus_name: str = "polycast"
    transcript_stream: str = "polycast-transcripts"
    api_gateway_endpoint: str = ""
    max_concurrent_broadcasts: int = 100
    cache_ttl_seconds: int = 3600
    max_cache_entries: int = 10000
    # Audio above this many bytes travels by S3 reference, not inline (claim check).
    inline_audio_max_bytes: int = 64 * 1024
    # A 410 from a connection younger than this is not pruned: API Gateway answers 410
    # to posts while $connect is still running. The local gateway holds such posts
    # until the upgrade, so it runs with 0.
    prune_grace_seconds: int = 10
    # An audience above this many listeners is split across broadcaster invocations.
    audience_slice_size: int = 2000
    # A language with at least this many listeners always gets audio by reference:
    # one object fetched by many is cheaper than many large messages.
    reference_audio_audience: int = 1000
    # Where listeners fetch referenced audio: "" = presigned S3 URLs; the local
    # runtime sets its gateway's ``/audio/`` path.
    audio_url_base: str = ""
    # Rate governor (requests per second per container; 0 = unlimited). Polly neural
    # allows about 8 TPS per account, standard 80: divide by the processor's concurrency.
    translate_tps: int = 20
    polly_neural_tps: int = 8
    polly_standard_tps: int = 80
    # How long a request may wait for the governor before the pipeline degrades.
    rate_limit_max_wait_ms: int = 500
    # 0 means unlimited.
    max_listeners_per_session: int = 500
    # How long the catch-up buffer keeps a segment.
    segment_buffer_ttl_seconds: int = 3600
    session_idle_seconds: int = 1800
    session_max_seconds: int = 4 * 3600
    polly_engine: str = "neural"
    engines: Engines = "aws"
    aws_endpoint_url: str | None = None
    region: str = "us-east-1"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        engines = env.get("POLYCAST_ENGINES", defaults.engines)
        if engines not in ("aws", "local"):
            raise ValueError(f"POLYCAST_ENGINES must be 'aws' or 'local', got {engines!r}")
        return cls(
            sessions_table=env.get("SESSIONS_TABLE_NAME", defaults.sessions_table),
            connections_table=env.get("CONNECTIONS_TABLE_NAME", defaults.connections_table),
            cached_translations_table=env.get(
                "CACHED_TRANSLATIONS_TABLE_NAME", defaults.cached_translations_table
            ),
            segments_table=env.get("SEGMENTS_TABLE_NAME", defaults.segments_table),
            idempotency_table=env.get("IDEMPOTENCY_TABLE_NAME", defaults.idempotency_table),
            audio_bucket=env.get("AUDIO_BUCKET_NAME", defaults.audio_bucket),
            event_bus_name=env.get("EVENT_BUS_NAME", defaults.event_bus_name),
            transcript_stream=env.get("TRANSCRIPT_STREAM_NAME", defaults.transcript_stream),
            api_gateway_endpoint=env.get("API_GATEWAY_ENDPOINT", defaults.api_gateway_endpoint),
            max_concurrent_broadcasts=_int(
                env, "MAX_CONCURRENT_BROADCASTS", defaults.max_concurrent_broadcasts
            ),
            cache_ttl_seconds=_int(env, "CACHE_TTL_SECONDS", defaults.cache_ttl_seconds),
            max_cache_entries=_int(env, "MAX_CACHE_ENTRIES", defaults.max_cache_entries),
            inline_audio_max_bytes=_int(
                env, "INLINE_AUDIO_MAX_BYTES", defaults.inline_audio_max_bytes
            ),
            audience_slice_size=_int(env, "AUDIENCE_SLICE_SIZE", defaults.audience_slice_size),
            prune_grace_seconds=_int(env, "PRUNE_GRACE_SECONDS", defaults.prune_grace_seconds),
            reference_audio_audience=_int(
                env, "REFERENCE_AUDIO_AUDIENCE", defaults.reference_audio_audience
            ),
            audio_url_base=env.get("AUDIO_URL_BASE", defaults.audio_url_base),
            translate_tps=_int(env, "TRANSLATE_TPS", defaults.translate_tps),
            polly_neural_tps=_int(env, "POLLY_NEURAL_TPS", defaults.polly_neural_tps),
            polly_standard_tps=_int(env, "POLLY_STANDARD_TPS", defaults.polly_standard_tps),
            rate_limit_max_wait_ms=_int(
                env, "RATE_LIMIT_MAX_WAIT_MS", defaults.rate_limit_max_wait_ms
            ),
            max_listeners_per_session=_int(
                env, "MAX_LISTENERS_PER_SESSION", defaults.max_listeners_per_session
            ),
            segment_buffer_ttl_seconds=_int(
                env, "SEGMENT_BUFFER_TTL_SECONDS", defaults.segment_buffer_ttl_seconds
            ),
            session_idle_seconds=_int(env, "SESSION_IDLE_SECONDS", defaults.session_idle_seconds),
            session_max_seconds=_int(env, "SESSION_MAX_SECONDS", defaults.session_max_seconds),
            polly_engine=env.get("POLLY_ENGINE", defaults.polly_engine),
            engines=engines,  # type: ignore[arg-type]
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", defaults.region)),
        )

    def as_env(self) -> dict[str, str]:
        """The environment a function gets, as the CDK app and the local runtime set it."""
        names = {
            "sessions_table": "SESSIONS_TABLE_NAME",
            "connections_table": "CONNECTIONS_TABLE_NAME",
            "cached_translations_table": "CACHED_TRANSLATIONS_TABLE_NAME",
            "segments_table": "SEGMENTS_TABLE_NAME",
            "idempotency_table": "IDEMPOTENCY_TABLE_NAME",
            "audio_bucket": "AUDIO_BUCKET_NAME",
            "event_bus_name": "EVENT_BUS_NAME",
            "transcript_stream": "TRANSCRIPT_STREAM_NAME",
            "api_gateway_endpoint": "API_GATEWAY_ENDPOINT",
            "max_concurrent_broadcasts": "MAX_CONCURRENT_BROADCASTS",
            "cache_ttl_seconds": "CACHE_TTL_SECONDS",
            "max_cache_entries": "MAX_CACHE_ENTRIES",
            "inline_audio_max_bytes": "INLINE_AUDIO_MAX_BYTES",
            "audience_slice_size": "AUDIENCE_SLICE_SIZE",
            "prune_grace_seconds": "PRUNE_GRACE_SECONDS",
            "reference_audio_audience": "REFERENCE_AUDIO_AUDIENCE",
            "audio_url_base": "AUDIO_URL_BASE",
            "translate_tps": "TRANSLATE_TPS",
            "polly_neural_tps": "POLLY_NEURAL_TPS",
            "polly_standard_tps": "POLLY_STANDARD_TPS",
            "rate_limit_max_wait_ms": "RATE_LIMIT_MAX_WAIT_MS",
            "max_listeners_per_session": "MAX_LISTENERS_PER_SESSION",
            "segment_buffer_ttl_seconds": "SEGMENT_BUFFER_TTL_SECONDS",
            "session_idle_seconds": "SESSION_IDLE_SECONDS",
            "session_max_seconds": "SESSION_MAX_SECONDS",
            "polly_engine": "POLLY_ENGINE",
            "engines": "POLYCAST_ENGINES",
        }
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name in names:
                out[names[f.name]] = str(getattr(self, f.name))
        return out
