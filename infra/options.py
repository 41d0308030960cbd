"""Deployment choices, read once from CDK context (``cdk.json`` or ``-c key=value``).

Everything here is decided at synth time; the wiring itself (tables, functions,
rules, routes) is not configurable per deployment and lives in ``polycast.wiring``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``stream_processors/``, ``shared_layer/`` and ``schemas/`` hang off it."""

PREFIX = "polycast:"

# What the deployed listener page offers when ``polycast:languages`` is not set: widely
# spoken targets Amazon Translate and Polly both serve (Galician, which the local
# engines reach, is not an Amazon Translate language).
DEFAULT_LISTENER_LANGUAGES = ("es", "fr", "de", "it", "pt", "ca", "ro", "ja", "zh")


class ContextReader(Protocol):
    def try_get_context(self, key: str) -> Any: ...


def _bool(raw: Any, key: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false", "1", "0", "yes", "no"):
        return raw.lower() in ("true", "1", "yes")
    raise ValueError(f"context {key} must be true or false, got {raw!r}")


def _int_or_none(raw: Any, key: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"context {key} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"context {key} must be at least 1, got {value}")
    return value


def _str_list(raw: Any, key: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.startswith("[") else [s for s in raw.split(",") if s]
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ValueError(f"context {key} must be a list of strings, got {raw!r}")
    return tuple(raw)


def _languages(raw: Any, key: str) -> tuple[str, ...]:
    """Language codes, each one Amazon Translate accepts (the deployed engines)."""
    from polycast.domain.languages import SUPPORTED_LANGUAGES, check_language
    from polycast.errors import UnsupportedLanguage

    codes = _str_list(raw, key)
    if not codes:
        raise ValueError(f"context {key} must name at least one language")
    try:
        return tuple(dict.fromkeys(check_language(c, SUPPORTED_LANGUAGES) for c in codes))
    except UnsupportedLanguage as exc:
        raise ValueError(f"context {key}: {exc}") from None


@dataclass(frozen=True)
class DeployOptions:
    """What may differ between deployments of the same pipeline."""

    # None: on-demand capacity (pay per GB, scales itself); a number: provisioned shards.
    shard_count: int | None = None
    # Also deliver every bus event through Firehose into an S3 data lake bucket.
    analytics_firehose: bool = False
    # An e-mail address subscribed to the alarm topic (confirm the subscription once).
    alarm_email: str | None = None
    log_retention_days: int = 30
    archive_retention_days: int = 30
    # Origins allowed to GET audio objects (listener pages fetch S3 references).
    listener_origins: tuple[str, ...] = ("*",)
    # API Gateway needs an account-wide CloudWatch role before a stage may write access
    # logs. Set false when another stack already manages that account setting.
    api_gateway_account_role: bool = True
    # Per-stage throttling of WebSocket routes (requests per second and burst).
    websocket_rate_limit: int = 500
    websocket_burst_limit: int = 1000
    # Ship the layer as the source folder, without pip-installed dependencies: for tests
    # and quick synths only (the CLI refuses ``aws:cdk:bundling-stacks`` from users).
    skip_layer_bundling: bool = False
    # The listener page's language picker (config.json ``languages``) and the speakers'
    # language (``sourceLanguage``: marks the original sentences' ``lang``).
    listener_languages: tuple[str, ...] = DEFAULT_LISTENER_LANGUAGES
    source_language: str = "en"
    # The processor reads the stream through an enhanced fan-out consumer (pushed,
    # ~70 ms) instead of Lambda's once-a-second polling; costs a consumer-shard hour.
    enhanced_fan_out: bool = False
    # Each synthesized language's final caption goes out right after translation, ahead
    # of its audio (one more WebSocket message per listener per sentence); false sends
    # the caption with its audio only.
    final_caption_first: bool = True

    @classmethod
    def from_context(cls, node: ContextReader) -> DeployOptions:
        d = cls()

        def get(name: str) -> Any:
            return node.try_get_context(PREFIX + name)

        email = get("alarmEmail")
        origins = get("listenerOrigins")
        languages = get("languages")
        source = get("sourceLanguage")
        return cls(
            shard_count=_int_or_none(get("shardCount"), PREFIX + "shardCount"),
            analytics_firehose=_bool(get("analyticsFirehose") or False, "analyticsFirehose"),
            alarm_email=str(email) if email else None,
            log_retention_days=_int_or_none(get("logRetentionDays"), "logRetentionDays")
            or d.log_retention_days,
            archive_retention_days=_int_or_none(get("archiveRetentionDays"), "archiveRetentionDays")
            or d.archive_retention_days,
            listener_origins=_str_list(origins, "listenerOrigins")
            if origins is not None
            else d.listener_origins,
            api_gateway_account_role=_bool(
                get("apiGatewayAccountRole")
                if get("apiGatewayAccountRole") is not None
                else d.api_gateway_account_role,
                "apiGatewayAccountRole",
            ),
            websocket_rate_limit=_int_or_none(get("websocketRateLimit"), "websocketRateLimit")
            or d.websocket_rate_limit,
            websocket_burst_limit=_int_or_none(get("websocketBurstLimit"), "websocketBurstLimit")
            or d.websocket_burst_limit,
            skip_layer_bundling=_bool(get("skipLayerBundling") or False, "skipLayerBundling"),
            listener_languages=_languages(languages, PREFIX + "languages")
            if languages is not None
            else d.listener_languages,
            source_language=_languages([source], PREFIX + "sourceLanguage")[0]
            if source
            else d.source_language,
            enhanced_fan_out=_bool(get("enhancedFanOut") or False, "enhancedFanOut"),
            final_caption_first=_bool(
                get("finalCaptionFirst")
                if get("finalCaptionFirst") is not None
                else d.final_caption_first,
                "finalCaptionFirst",
            ),
        )
