"""The names the wiring gives things, each spelled once and derived everywhere else:
environment variables, listener actions, WebSocket route keys, the metrics namespace.

``polycast.wiring`` re-exports them (read them as ``wiring.Env``, ``wiring.Action``):
``config.Settings`` reads each setting's variable from here, the CDK app and the local
runtime set them, the handlers and the local gateway route on them.
"""

from __future__ import annotations

from typing import Final

# EMF metrics namespace (the seed's): functions get it from Settings, alarms from here.
METRICS_NAMESPACE = "TranslationPipeline"


class Env:
    """Environment variable names, spelled once: ``config.Settings`` reads them, the CDK
    app and the local runtime set them, each :class:`Function` lists its own."""

    SESSIONS_TABLE_NAME: Final = "SESSIONS_TABLE_NAME"
    CONNECTIONS_TABLE_NAME: Final = "CONNECTIONS_TABLE_NAME"
    CACHED_TRANSLATIONS_TABLE_NAME: Final = "CACHED_TRANSLATIONS_TABLE_NAME"
    SEGMENTS_TABLE_NAME: Final = "SEGMENTS_TABLE_NAME"
    IDEMPOTENCY_TABLE_NAME: Final = "IDEMPOTENCY_TABLE_NAME"
    AUDIO_BUCKET_NAME: Final = "AUDIO_BUCKET_NAME"
    EVENT_BUS_NAME: Final = "EVENT_BUS_NAME"
    TRANSCRIPT_STREAM_NAME: Final = "TRANSCRIPT_STREAM_NAME"
    API_GATEWAY_ENDPOINT: Final = "API_GATEWAY_ENDPOINT"
    MAX_CONCURRENT_BROADCASTS: Final = "MAX_CONCURRENT_BROADCASTS"
    FINAL_CAPTION_FIRST: Final = "FINAL_CAPTION_FIRST"
    CACHE_TTL_SECONDS: Final = "CACHE_TTL_SECONDS"
    MAX_CACHE_ENTRIES: Final = "MAX_CACHE_ENTRIES"
    INLINE_AUDIO_MAX_BYTES: Final = "INLINE_AUDIO_MAX_BYTES"
    AUDIENCE_SLICE_SIZE: Final = "AUDIENCE_SLICE_SIZE"
    PRUNE_GRACE_SECONDS: Final = "PRUNE_GRACE_SECONDS"
    REFERENCE_AUDIO_AUDIENCE: Final = "REFERENCE_AUDIO_AUDIENCE"
    AUDIO_URL_BASE: Final = "AUDIO_URL_BASE"
    TRANSLATE_TPS: Final = "TRANSLATE_TPS"
    POLLY_NEURAL_TPS: Final = "POLLY_NEURAL_TPS"
    POLLY_STANDARD_TPS: Final = "POLLY_STANDARD_TPS"
    RATE_LIMIT_MAX_WAIT_MS: Final = "RATE_LIMIT_MAX_WAIT_MS"
    MAX_LISTENERS_PER_SESSION: Final = "MAX_LISTENERS_PER_SESSION"
    SEGMENT_BUFFER_TTL_SECONDS: Final = "SEGMENT_BUFFER_TTL_SECONDS"
    SESSION_IDLE_SECONDS: Final = "SESSION_IDLE_SECONDS"
    SESSION_MAX_SECONDS: Final = "SESSION_MAX_SECONDS"
    POLLY_ENGINE: Final = "POLLY_ENGINE"
    POLYCAST_ENGINES: Final = "POLYCAST_ENGINES"
    # The speaker's recognition endpoint: empty = Amazon Transcribe in the region; the
    # local runtime sets its own (ws://127.0.0.1:PORT).
    TRANSCRIBE_ENDPOINT: Final = "TRANSCRIBE_ENDPOINT"
    POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
    # Lambda's own (the local runtime sets them too); boto3 and Settings read them.
    AWS_ENDPOINT_URL: Final = "AWS_ENDPOINT_URL"
    AWS_REGION: Final = "AWS_REGION"
    AWS_DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"


class Action:
    """Listener actions: WebSocket route keys (``$request.body.action``), each with its
    JSON Schema ``schemas/actions/<name>.json``, checked on arrival."""

    PING: Final = "ping"
    CATCH_UP: Final = "catchUp"
    SWITCH_LANGUAGE: Final = "switchLanguage"
    PAUSE: Final = "pause"
    RESUME: Final = "resume"
    AUDIO: Final = "audio"


LISTENER_ACTIONS: tuple[str, ...] = tuple(v for k, v in vars(Action).items() if k.isupper())


class SpeakerAction:
    """The session speaker's actions: route keys to the speaker function, each with its
    JSON Schema ``schemas/actions/<name>.json``. Distinct from the listener actions, so
    route selection on ``action`` sends them to the one function allowed to write."""

    TRANSCRIBE_URL: Final = "transcribeUrl"
    TRANSCRIPT: Final = "transcript"
    PARTIAL: Final = "partial"


SPEAKER_ACTIONS: tuple[str, ...] = tuple(v for k, v in vars(SpeakerAction).items() if k.isupper())
# ``role`` query parameter of a speaker's $connect (listeners send none).
SPEAKER_ROLE = "speaker"

# WebSocket route keys beside the actions (API Gateway's own).
CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_ROUTE = "$default"
