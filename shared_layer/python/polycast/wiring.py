"""The one definition of Polycast's wiring.

The CDK app (``infra/``) and the local runtime (``polycast_kit.local``) both build from
these values: tables, stream, bus, rules, queues, functions, event sources and
WebSocket routes. A test holds the synthesized template against them, so local and
deployed wiring cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from polycast import names, tables

SOURCE = "polycast"
BUS_NAME = "polycast"
# The names others derive from the wiring (env vars, listener actions, route keys, the
# metrics namespace) are spelled in polycast.names; read them from here.
Env = names.Env
Action = names.Action
LISTENER_ACTIONS = names.LISTENER_ACTIONS
SpeakerAction, SPEAKER_ACTIONS = names.SpeakerAction, names.SPEAKER_ACTIONS
SPEAKER_ROLE = names.SPEAKER_ROLE
CONNECT_ROUTE, DISCONNECT_ROUTE = names.CONNECT_ROUTE, names.DISCONNECT_ROUTE
DEFAULT_ROUTE = names.DEFAULT_ROUTE
METRICS_NAMESPACE = names.METRICS_NAMESPACE
# The bus's archive (infra: Broadcasting; locally created beside the bus): what
# `polycast session export` and `session show` replay once the Segments buffer is gone.
ARCHIVE_LOCAL_NAME = "polycast-archive"
# The state's tables are defined in polycast.tables; read them from here.
Key = tables.Key
Index = tables.Index
Table = tables.Table
SESSIONS, CONNECTIONS = tables.SESSIONS, tables.CONNECTIONS
CACHED_TRANSLATIONS, SEGMENTS = tables.CACHED_TRANSLATIONS, tables.SEGMENTS
IDEMPOTENCY, TABLES = tables.IDEMPOTENCY, tables.TABLES


@dataclass(frozen=True)
class Queue:
    logical_id: str
    local_name: str
    purpose: str


ON_FAILURE_QUEUE = Queue(
    "TranscriptFailures",
    "polycast-transcript-failures",
    "records the processor gave up on (after retries), with the reason",
)
BROADCAST_QUEUE = Queue(
    "BroadcastEvents",
    "polycast-broadcast-events",
    "local runtime only: the broadcaster rule's SQS target, drained into the broadcaster",
)
SPEAKER_QUEUE = Queue(
    "SpeakerEvents", "polycast-speaker-events", "local runtime only: the speaker rule's target"
)
ANALYTICS_QUEUE = Queue(
    "AnalyticsEvents",
    "polycast-analytics-events",
    "local runtime only: the analytics rule's SQS target, drained into .polycast/events.jsonl",
)

AUDIO_BUCKET_LOCAL_NAME = "polycast-audio"
TRANSCRIPT_STREAM_LOCAL_NAME = "polycast-transcripts"

# Grants a function may hold; infra maps each to the narrowest IAM statement.
Grant = Literal[
    "sessions:read",
    "sessions:write",
    "sessions:scan",
    "connections:read",
    "connections:write",
    "cachedTranslations:read",
    "cachedTranslations:write",
    "segments:read",
    "segments:write",
    "idempotency:read",
    "idempotency:write",
    "audio:read",
    "audio:write",
    "bus:put",
    "translate",
    "polly",
    "websocket:manage",
    "stream:read",
    "stream:write",
    "transcribe:stream",
]


@dataclass(frozen=True)
class Function:
    """A Lambda function: its code folder under ``stream_processors/`` and what it may do."""

    logical_id: str
    code_dir: str
    handler: str
    env_vars: tuple[str, ...]
    grants: tuple[Grant, ...]
    memory_mb: int = 1024
    timeout_seconds: int = 30
    description: str = ""

    @property
    def service_name(self) -> str:
        """Powertools service name (logs, traces, the metrics' ``service`` dimension).

        ``stream_processors/transcript_processor`` → ``transcript-processor``. Handlers
        and the alarms both read it from here, so they cannot disagree.
        """
        return self.code_dir.rstrip("/").rsplit("/", 1)[-1].replace("_", "-")


_COMMON_ENV = (
    Env.SESSIONS_TABLE_NAME,
    Env.CONNECTIONS_TABLE_NAME,
    Env.SEGMENTS_TABLE_NAME,
    Env.EVENT_BUS_NAME,
    Env.AUDIO_BUCKET_NAME,
    Env.POWERTOOLS_SERVICE_NAME,
    Env.POWERTOOLS_METRICS_NAMESPACE,
)

TRANSCRIPT_PROCESSOR = Function(
    "TranscriptProcessor",
    "stream_processors/transcript_processor",
    "handler.lambda_handler",
    env_vars=(
        *_COMMON_ENV,
        Env.CACHED_TRANSLATIONS_TABLE_NAME,
        Env.IDEMPOTENCY_TABLE_NAME,
        Env.CACHE_TTL_SECONDS,
        Env.MAX_CACHE_ENTRIES,
        Env.INLINE_AUDIO_MAX_BYTES,
        Env.POLLY_ENGINE,
        Env.FINAL_CAPTION_FIRST,
        Env.REFERENCE_AUDIO_AUDIENCE,
        Env.TRANSLATE_TPS,
        Env.POLLY_NEURAL_TPS,
        Env.POLLY_STANDARD_TPS,
        Env.RATE_LIMIT_MAX_WAIT_MS,
    ),
    grants=(
        "sessions:read",
        "sessions:write",
        "cachedTranslations:read",
        "cachedTranslations:write",
        "idempotency:read",
        "idempotency:write",
        "audio:read",
        "audio:write",
        "bus:put",
        "translate",
        "polly",
        "stream:read",
    ),
    description="Kinesis transcripts -> translate + synthesize once per language -> SegmentReady",
)
BROADCASTER = Function(
    "Broadcaster",
    "stream_processors/broadcaster",
    "handler.lambda_handler",
    env_vars=(
        *_COMMON_ENV,
        Env.API_GATEWAY_ENDPOINT,
        Env.MAX_CONCURRENT_BROADCASTS,
        Env.AUDIENCE_SLICE_SIZE,
        Env.INLINE_AUDIO_MAX_BYTES,
        Env.PRUNE_GRACE_SECONDS,
    ),
    grants=(
        "sessions:read",
        "sessions:write",
        "connections:read",
        "connections:write",
        "segments:read",
        "segments:write",
        "audio:read",
        "bus:put",
        "websocket:manage",
    ),
    description="SegmentReady / SessionEnded -> PostToConnection to every listener of a language",
)
CONNECTION_HANDLER = Function(
    "ConnectionHandler",
    "stream_processors/connections",
    "handler.lambda_handler",
    env_vars=(*_COMMON_ENV, Env.API_GATEWAY_ENDPOINT, Env.MAX_LISTENERS_PER_SESSION),
    grants=(
        "sessions:read",
        "sessions:write",
        "connections:read",
        "connections:write",
        "segments:read",
        "audio:read",
        "bus:put",
        "websocket:manage",
    ),
    memory_mb=512,
    timeout_seconds=10,
    description="WebSocket $connect / $disconnect and the listener actions",
)
SESSION_SWEEPER = Function(
    "SessionSweeper",
    "stream_processors/session_sweeper",
    "handler.lambda_handler",
    env_vars=(
        Env.SESSIONS_TABLE_NAME,
        Env.EVENT_BUS_NAME,
        Env.SESSION_IDLE_SECONDS,
        Env.SESSION_MAX_SECONDS,
        Env.POWERTOOLS_SERVICE_NAME,
        Env.POWERTOOLS_METRICS_NAMESPACE,
    ),
    # Scan for stale sessions, a conditional UpdateItem to end each, SessionEnded.
    grants=("sessions:scan", "sessions:write", "bus:put"),
    memory_mb=256,
    timeout_seconds=60,
    description="Every minute: end sessions idle past SESSION_IDLE_SECONDS or older than "
    "SESSION_MAX_SECONDS (SessionEnded idle / maxDuration)",
)
# The only function that writes records or signs Transcribe URLs (the connection
# handler admits the speaker, checking its key).
SPEAKER = Function(
    "Speaker",
    "stream_processors/speaker",
    "handler.lambda_handler",
    env_vars=(
        *(Env.SESSIONS_TABLE_NAME, Env.CONNECTIONS_TABLE_NAME, Env.TRANSCRIPT_STREAM_NAME),
        *(Env.API_GATEWAY_ENDPOINT, Env.TRANSCRIBE_ENDPOINT, Env.POWERTOOLS_SERVICE_NAME),
        Env.POWERTOOLS_METRICS_NAMESPACE,
    ),
    grants=(
        *("sessions:read", "sessions:write", "connections:read", "stream:write"),
        *("transcribe:stream", "websocket:manage"),
    ),
    memory_mb=512,
    timeout_seconds=10,
    description="Speaker actions -> Kinesis records; SessionEnded -> the speaker",
)
FUNCTIONS: tuple[Function, ...] = (
    *(TRANSCRIPT_PROCESSOR, BROADCASTER, CONNECTION_HANDLER, SESSION_SWEEPER, SPEAKER),
)


@dataclass(frozen=True)
class Schedule:
    """An EventBridge schedule invoking a function (default bus, ``rate(...)``).

    The local runtime calls the function every ``local_every_seconds`` instead
    (shorter, so a short idle time set for a test takes effect quickly).
    """

    logical_id: str
    function: Function
    expression: str
    local_every_seconds: float
    description: str = ""


SESSION_SWEEP_SCHEDULE = Schedule(
    "SessionSweepSchedule",
    SESSION_SWEEPER,
    "rate(1 minute)",
    local_every_seconds=2.0,
    description="ends idle and overlong sessions",
)
SCHEDULES: tuple[Schedule, ...] = (SESSION_SWEEP_SCHEDULE,)


@dataclass(frozen=True)
class KinesisSource:
    """The event source mapping from the transcript stream to the processor."""

    function: Function = TRANSCRIPT_PROCESSOR
    batch_size: int = 100
    # No batching window: a sentence goes to the processor as soon as it is read
    # (docs/performance.md, latency-budget).
    max_batching_window_seconds: int = 0
    parallelization_factor: int = 1
    bisect_batch_on_error: bool = True
    retry_attempts: int = 3
    max_record_age_seconds: int = 3600
    report_batch_item_failures: bool = True
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST"
    on_failure: Queue = ON_FAILURE_QUEUE


TRANSCRIPT_SOURCE = KinesisSource()


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule on the polycast bus."""

    logical_id: str
    description: str
    detail_types: tuple[str, ...]
    target_function: Function | None = None
    local_queue: Queue | None = None

    @property
    def event_pattern(self) -> dict[str, Any]:
        pattern: dict[str, Any] = {"source": [SOURCE]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        return pattern


# BroadcastSlice: a broadcaster splitting a large audience hands each slice to
# another broadcaster invocation through the bus.
BROADCAST_RULE = Rule(
    "BroadcastRule",
    "segments, audience slices and session control to the broadcaster",
    (
        "SegmentReady",
        "BroadcastSlice",
        "PartialReady",
        "SessionEnded",
        "SessionPaused",
        "SessionResumed",
    ),
    target_function=BROADCASTER,
    local_queue=BROADCAST_QUEUE,
)
EVENT_TYPES: tuple[str, ...] = (
    "SegmentReady",
    "BroadcastSlice",
    "PartialReady",
    "BroadcastCompleted",
    "SessionStarted",
    "SessionEnded",
    "SessionPaused",
    "SessionResumed",
    "ListenerJoined",
    "ListenerLeft",
    "TranscriptRejected",
)
# Events whose detail carries transcript text (translated and source sentences).
TEXT_EVENT_TYPES: tuple[str, ...] = ("SegmentReady", "BroadcastSlice", "PartialReady")

# Analytics stores what happened, never what was said: every event type except those
# carrying transcript text. A team that may keep text subscribes its own rule.
ANALYTICS_RULE = Rule(
    "AnalyticsRule",
    "every polycast event without transcript text to the analytics log group",
    tuple(t for t in EVENT_TYPES if t not in TEXT_EVENT_TYPES),
    local_queue=ANALYTICS_QUEUE,
)
# The speaker connection hears its session end (listeners hear it from the broadcaster).
SPEAKER_RULE = Rule(
    "SpeakerRule",
    "session ends to the speaker function, which tells the speaker connection",
    ("SessionEnded",),
    target_function=SPEAKER,
    local_queue=SPEAKER_QUEUE,
)
RULES: tuple[Rule, ...] = (BROADCAST_RULE, ANALYTICS_RULE, SPEAKER_RULE)


@dataclass(frozen=True)
class Route:
    route_key: str
    function: Function = CONNECTION_HANDLER


ROUTES: tuple[Route, ...] = (
    Route(CONNECT_ROUTE),
    Route(DISCONNECT_ROUTE),
    Route(DEFAULT_ROUTE),
    *(Route(action) for action in LISTENER_ACTIONS),
    *(Route(action, SPEAKER) for action in SPEAKER_ACTIONS),  # only the speaker writes
)
ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# The listener page's session check (the $connect validation, no side effects), an
# HTTP API route to the connection handler. The local gateway serves it on its port.
SESSION_CHECK_ROUTE = Route("GET /sessions/{sessionId}")


@dataclass(frozen=True)
class Wiring:
    tables: tuple[Table, ...] = TABLES
    functions: tuple[Function, ...] = FUNCTIONS
    kinesis_source: KinesisSource = TRANSCRIPT_SOURCE
    rules: tuple[Rule, ...] = RULES
    routes: tuple[Route, ...] = ROUTES
    schedules: tuple[Schedule, ...] = SCHEDULES
    queues: tuple[Queue, ...] = field(default=(ON_FAILURE_QUEUE,))


WIRING = Wiring()
