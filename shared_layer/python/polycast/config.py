"""Configuration: one typed object, read from the environment once per container.

Each setting names its environment variable (from :class:`polycast.wiring.Env`, where
every name is spelled once) in its field's metadata; :meth:`Settings.from_env` and
:meth:`Settings.as_env` are both derived from that, so they cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from dataclasses import field as _field
from typing import Any, Literal

from polycast import wiring
from polycast.wiring import Env

Engines = Literal["aws", "local"]


def _env(name: str, default: Any, *, exported: bool = True) -> Any:
    """A setting read from ``name``; ``exported`` ones are what a function is given."""
    return _field(default=default, metadata={"env": name, "exported": exported})


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

    sessions_table: str = _env(Env.SESSIONS_TABLE_NAME, "polycast-sessions")
    connections_table: str = _env(Env.CONNECTIONS_TABLE_NAME, "polycast-connections")
    cached_translations_table: str = _env(
        Env.CACHED_TRANSLATIONS_TABLE_NAME, "polycast-cached-translations"
    )
    segments_table: str = _env(Env.SEGMENTS_TABLE_NAME, "polycast-segments")
    idempotency_table: str = _env(Env.IDEMPOTENCY_TABLE_NAME, "polycast-idempotency")
    audio_bucket: str = _env(Env.AUDIO_BUCKET_NAME, "polycast-audio")
    event_bus_name: str = _env(Env.EVENT_BUS_NAME, "polycast")
    transcript_stream: str = _env(Env.TRANSCRIPT_STREAM_NAME, "polycast-transcripts")
    api_gateway_endpoint: str = _env(Env.API_GATEWAY_ENDPOINT, "")
    max_concurrent_broadcasts: int = _env(Env.MAX_CONCURRENT_BROADCASTS, 100)
    cache_ttl_seconds: int = _env(Env.CACHE_TTL_SECONDS, 3600)
    max_cache_entries: int = _env(Env.MAX_CACHE_ENTRIES, 10000)
    # Audio above this many bytes travels by S3 reference, not inline (claim check).
    inline_audio_max_bytes: int = _env(Env.INLINE_AUDIO_MAX_BYTES, 64 * 1024)
    # A 410 from a connection younger than this is not pruned: API Gateway answers 410
    # to posts while $connect is still running. The local gateway holds such posts
    # until the upgrade, so it runs with 0.
    prune_grace_seconds: int = _env(Env.PRUNE_GRACE_SECONDS, 10)
    # An audience above this many listeners is split across broadcaster invocations.
    audience_slice_size: int = _env(Env.AUDIENCE_SLICE_SIZE, 2000)
    # A language with at least this many listeners always gets audio by reference:
    # one object fetched by many is cheaper than many large messages.
    reference_audio_audience: int = _env(Env.REFERENCE_AUDIO_AUDIENCE, 1000)
    # Where listeners fetch referenced audio: "" = presigned S3 URLs; the local
    # runtime sets its gateway's ``/audio/`` path.
    audio_url_base: str = _env(Env.AUDIO_URL_BASE, "")
    # Rate governor (requests per second per container; 0 = unlimited). Polly neural
    # allows about 8 TPS per account, standard 80: divide by the processor's concurrency.
    translate_tps: int = _env(Env.TRANSLATE_TPS, 20)
    polly_neural_tps: int = _env(Env.POLLY_NEURAL_TPS, 8)
    polly_standard_tps: int = _env(Env.POLLY_STANDARD_TPS, 80)
    # How long a request may wait for the governor before the pipeline degrades.
    rate_limit_max_wait_ms: int = _env(Env.RATE_LIMIT_MAX_WAIT_MS, 500)
    # 0 means unlimited.
    max_listeners_per_session: int = _env(Env.MAX_LISTENERS_PER_SESSION, 500)
    # How long the catch-up buffer keeps a segment.
    segment_buffer_ttl_seconds: int = _env(Env.SEGMENT_BUFFER_TTL_SECONDS, 3600)
    session_idle_seconds: int = _env(Env.SESSION_IDLE_SECONDS, 1800)
    session_max_seconds: int = _env(Env.SESSION_MAX_SECONDS, 4 * 3600)
    polly_engine: str = _env(Env.POLLY_ENGINE, "neural")
    # 1: a language about to be synthesized gets its final caption first (a ``partial``
    # right after translation, ~0.35 s before the audio with Polly), at one more
    # message per listener per sentence; 0: the caption comes with its audio.
    final_caption_first: int = _env(Env.FINAL_CAPTION_FIRST, 1)
    # The speaker's recognition endpoint: "" = Amazon Transcribe in the region.
    transcribe_endpoint: str = _env(Env.TRANSCRIBE_ENDPOINT, "")
    engines: Engines = _env(Env.POLYCAST_ENGINES, "aws")  # noqa: RUF009 (a str, immutable)
    metrics_namespace: str = _env(Env.POWERTOOLS_METRICS_NAMESPACE, wiring.METRICS_NAMESPACE)
    # Lambda's own (and boto3's): read, never handed to a function.
    aws_endpoint_url: str | None = _env(Env.AWS_ENDPOINT_URL, None, exported=False)
    region: str = _env(Env.AWS_REGION, "us-east-1", exported=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            default = f.default if f.default is not MISSING else None
            name = f.metadata["env"]
            if isinstance(default, int):
                values[f.name] = _int(env, name, default)
            else:
                values[f.name] = env.get(name, default)
        if values["engines"] not in ("aws", "local"):
            raise ValueError(
                f"{Env.POLYCAST_ENGINES} must be 'aws' or 'local', got {values['engines']!r}"
            )
        values["aws_endpoint_url"] = values["aws_endpoint_url"] or None
        values["region"] = env.get(Env.AWS_REGION) or env.get(Env.AWS_DEFAULT_REGION, cls.region)
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        """The environment a function gets, as the CDK app and the local runtime set it."""
        return {
            f.metadata["env"]: str(getattr(self, f.name))
            for f in fields(self)
            if f.metadata["exported"]
        }


def metrics_namespace(env: Mapping[str, str] | None = None) -> str:
    """The EMF namespace, for handlers that need it before their settings are built."""
    env = os.environ if env is None else env
    return env.get(Env.POWERTOOLS_METRICS_NAMESPACE) or wiring.METRICS_NAMESPACE
