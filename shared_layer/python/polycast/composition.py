"""Composition root: the one place that builds the services and picks their adapters.

Two halves:

- ``build_*(settings, ports)`` make each function's services from the ports they are
  given. Every tuning figure comes from :class:`Settings`, so whatever runs the
  services — a Lambda container, the developer kit's bench and fault harness on its
  in-memory fakes — gets them as deployed.
- ``*_dependencies(settings)`` build the AWS adapters (boto3 on DynamoDB, S3,
  EventBridge, API Gateway) and call the builders. Each handler calls its own once
  per container and keeps the result, so boto3 clients and pools survive warm starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from polycast.config import Settings
from polycast.engines import engine_provider, supported_target_languages
from polycast.ports import (
    AudioStore,
    ConnectionStore,
    EventPublisher,
    ListenerRegistry,
    SegmentLog,
    Sender,
    SessionStore,
    Synthesizer,
    TranslationCacheStore,
    Translator,
)
from polycast.services.broadcaster import Broadcaster
from polycast.services.connections import ConnectionService
from polycast.services.orchestrator import Orchestrator
from polycast.services.processor import TranscriptProcessor
from polycast.services.rate_governor import RateGovernor, ServiceLimits
from polycast.services.session_sweeper import SessionSweeper
from polycast.services.speaker import SpeakerGate, SpeakerService
from polycast.services.translation_cache import TranslationCache

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from polycast.domain.stream import StreamRecord


def audio_url_base(settings: Settings) -> str:
    """Where listeners fetch referenced audio: ``AUDIO_URL_BASE``, or presigned S3.

    Locally the gateway that answers ``@connections`` (``API_GATEWAY_ENDPOINT``) also
    serves ``/audio/{key}`` from the bucket (docs/local.md), so that is the default there.
    """
    if settings.audio_url_base:
        return settings.audio_url_base
    if settings.engines == "local" and settings.api_gateway_endpoint.startswith("http://"):
        return settings.api_gateway_endpoint.rstrip("/") + "/audio/"
    return ""


def service_limits(settings: Settings) -> ServiceLimits:
    """One rate governor per service for this container (docs/performance.md)."""
    return ServiceLimits(
        {
            "translate": RateGovernor(settings.translate_tps),
            "neural": RateGovernor(settings.polly_neural_tps),
            "standard": RateGovernor(settings.polly_standard_tps),
        },
        max_wait=settings.rate_limit_max_wait_ms / 1000,
    )


def activity_every_seconds(settings: Settings) -> int:
    """How often a talking session refreshes its activity: once a minute, or more
    often when the idle time is short, so a talking session never looks idle."""
    idle = settings.session_idle_seconds
    return 60 if idle <= 0 else max(1, min(60, idle // 4))


# ---- builders: the services from the ports they are given ------------------------------


@dataclass(frozen=True)
class ListenerPorts:
    """What the WebSocket side (connection handlers, broadcaster) works on."""

    sessions: SessionStore
    connections: ConnectionStore
    listeners: ListenerRegistry
    segments: SegmentLog
    sender: Sender
    publisher: EventPublisher
    audio: AudioStore | None = None


def build_broadcaster(
    settings: Settings,
    ports: ListenerPorts,
) -> Broadcaster:
    return Broadcaster(
        connections=ports.connections,
        listeners=ports.listeners,
        sessions=ports.sessions,
        segments=ports.segments,
        sender=ports.sender,
        publisher=ports.publisher,
        audio=ports.audio,
        max_concurrent=settings.max_concurrent_broadcasts,
        segment_ttl_seconds=settings.segment_buffer_ttl_seconds,
        audience_slice_size=settings.audience_slice_size,
        prune_grace_seconds=settings.prune_grace_seconds,
    )


def build_connection_service(settings: Settings, ports: ListenerPorts) -> ConnectionService:
    return ConnectionService(
        sessions=ports.sessions,
        connections=ports.connections,
        listeners=ports.listeners,
        segments=ports.segments,
        sender=ports.sender,
        publisher=ports.publisher,
        audio=ports.audio,
        supported_languages=supported_target_languages(settings),
        max_listeners_per_session=settings.max_listeners_per_session,
    )


def build_session_sweeper(
    settings: Settings, sessions: SessionStore, publisher: EventPublisher
) -> SessionSweeper:
    return SessionSweeper(
        sessions=sessions,
        publisher=publisher,
        idle_seconds=settings.session_idle_seconds,
        max_seconds=settings.session_max_seconds,
    )


@dataclass(frozen=True)
class ProcessorPorts:
    """What the transcript processor works on. ``fallback_synthesizers`` are tried in
    order when ``synthesizer`` is throttled (Polly neural, then standard)."""

    sessions: SessionStore
    translator: Translator
    synthesizer: Synthesizer
    translation_cache: TranslationCacheStore
    audio: AudioStore
    publisher: EventPublisher
    idempotency_store: Callable[[], BasePersistenceLayer]
    fallback_synthesizers: Sequence[Synthesizer] = ()


def kinesis_edge() -> tuple[Callable[[Any], bool], Callable[[Any], list[StreamRecord]]]:
    """The processor handler's edge (``is_kinesis_event``, ``stream_records``: base64 and
    KPL aggregates), so handlers reach adapters only through the composition root."""
    from polycast.adapters.aws.kinesis_records import is_kinesis_event, stream_records

    return is_kinesis_event, stream_records


@dataclass
class ProcessorDeps:
    """What the transcript processor keeps for the container's life."""

    settings: Settings
    processor: TranscriptProcessor
    orchestrator: Orchestrator
    cache: TranslationCache
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        self.processor.close()
        self.orchestrator.close()
        for close in self.closers:
            close()


# The deployed processor's pools: one thread per language of a transcript, and one
# per session of a Kinesis batch (a batch of 100 records can hold 100 sessions).
LANGUAGE_WORKERS = 32
PARALLEL_SESSIONS = 64


def build_processor(
    settings: Settings,
    ports: ProcessorPorts,
    *,
    limits: ServiceLimits | None = None,
    max_language_workers: int = LANGUAGE_WORKERS,
    max_parallel_sessions: int = PARALLEL_SESSIONS,
) -> ProcessorDeps:
    """``limits``: the rate governors (None: unlimited, as for local engines)."""
    cache = TranslationCache(
        ports.translation_cache,
        max_entries=settings.max_cache_entries,
        ttl_seconds=settings.cache_ttl_seconds,
    )
    orchestrator = Orchestrator(
        sessions=ports.sessions,
        translator=ports.translator,
        synthesizer=ports.synthesizer,
        cache=cache,
        audio=ports.audio,
        publisher=ports.publisher,
        audio_bucket=settings.audio_bucket,
        inline_audio_max_bytes=settings.inline_audio_max_bytes,
        max_workers=max_language_workers,
        fallback_synthesizers=ports.fallback_synthesizers,
        limits=limits,
        reference_audio_audience=settings.reference_audio_audience,
        final_caption_first=bool(settings.final_caption_first),
    )
    processor = TranscriptProcessor(
        orchestrator=orchestrator,
        sessions=ports.sessions,
        publisher=ports.publisher,
        idempotency_store=ports.idempotency_store,
        # Start/end keys must outlive the longest session; sequences the stream's retries.
        idempotency_ttl_seconds=settings.session_max_seconds + 3600,
        max_parallel_sessions=max_parallel_sessions,
        activity_every_seconds=activity_every_seconds(settings),
    )
    return ProcessorDeps(settings, processor, orchestrator, cache)


# ---- AWS: the adapters each deployed function uses --------------------------------------


def _listener_ports(settings: Settings, *, pool: int) -> ListenerPorts:
    """DynamoDB, API Gateway, EventBridge and S3 for the WebSocket-side functions."""
    from polycast.adapters.aws import clients
    from polycast.adapters.aws.audio import S3AudioStore
    from polycast.adapters.aws.connections import DynamoConnectionStore
    from polycast.adapters.aws.events import EventBridgePublisher
    from polycast.adapters.aws.listeners import DynamoListenerRegistry
    from polycast.adapters.aws.segments import DynamoSegmentLog
    from polycast.adapters.aws.sender import ApiGatewaySender
    from polycast.adapters.aws.sessions import DynamoSessionStore

    ddb = clients.client("dynamodb", settings, pool=max(10, pool))
    return ListenerPorts(
        sessions=DynamoSessionStore(ddb, settings.sessions_table),
        connections=DynamoConnectionStore(ddb, settings.connections_table),
        listeners=DynamoListenerRegistry(
            ddb,
            connections_table=settings.connections_table,
            sessions_table=settings.sessions_table,
        ),
        segments=DynamoSegmentLog(ddb, settings.segments_table),
        sender=ApiGatewaySender(clients.management_client(settings, pool=pool)),
        publisher=EventBridgePublisher(clients.client("events", settings), settings.event_bus_name),
        audio=S3AudioStore(
            clients.client("s3", settings), settings.audio_bucket, url_base=audio_url_base(settings)
        ),
    )


def broadcaster_dependencies(settings: Settings) -> Broadcaster:
    return build_broadcaster(
        settings, _listener_ports(settings, pool=settings.max_concurrent_broadcasts)
    )


def connection_dependencies(settings: Settings) -> ConnectionService:
    # A Lambda container takes one invocation at a time; the local gateway runs up to
    # 32 route invocations at once on one container's clients, and a pool smaller
    # than that opens (and drops) a new connection per call under a burst of joins.
    return build_connection_service(settings, _listener_ports(settings, pool=32))


def speaker_gate_dependencies(settings: Settings) -> SpeakerGate:
    """The connection handler's speaker half: key check and the one-speaker rule."""
    from polycast.adapters.aws import clients
    from polycast.adapters.aws.speakers import ApiGatewayPresence, DynamoSpeakerStore

    return SpeakerGate(
        speakers=DynamoSpeakerStore(
            clients.client("dynamodb", settings),
            sessions_table=settings.sessions_table,
            connections_table=settings.connections_table,
        ),
        presence=ApiGatewayPresence(clients.management_client(settings, pool=2)),
    )


def speaker_dependencies(settings: Settings) -> SpeakerService:
    """The speaker function: its state, the stream, the URL signer, the connection."""
    import boto3

    from polycast.adapters.aws import clients
    from polycast.adapters.aws.record_writer import KinesisRecordWriter
    from polycast.adapters.aws.sender import ApiGatewaySender
    from polycast.adapters.aws.speakers import CredentialsSigner, DynamoSpeakerStore

    return SpeakerService(
        speakers=DynamoSpeakerStore(
            clients.client("dynamodb", settings),
            sessions_table=settings.sessions_table,
            connections_table=settings.connections_table,
        ),
        records=KinesisRecordWriter(
            clients.client("kinesis", settings), settings.transcript_stream
        ),
        signer=CredentialsSigner(
            boto3.session.Session(), settings.region, endpoint=settings.transcribe_endpoint
        ),
        sender=ApiGatewaySender(clients.management_client(settings, pool=2)),
    )


def session_sweeper_dependencies(settings: Settings) -> SessionSweeper:
    """Sessions table and the bus: the sweeper needs nothing else."""
    from polycast.adapters.aws import clients
    from polycast.adapters.aws.events import EventBridgePublisher
    from polycast.adapters.aws.sessions import DynamoSessionStore

    return build_session_sweeper(
        settings,
        DynamoSessionStore(clients.client("dynamodb", settings), settings.sessions_table),
        EventBridgePublisher(clients.client("events", settings), settings.event_bus_name),
    )


def processor_dependencies(
    settings: Settings,
    *,
    translator: Translator | None = None,
    synthesizer: Synthesizer | None = None,
    idempotency_store: Callable[[], BasePersistenceLayer] | None = None,
    max_language_workers: int = LANGUAGE_WORKERS,
) -> ProcessorDeps:
    """Stores on DynamoDB/S3/EventBridge; engines by ``POLYCAST_ENGINES``.

    ``aws``: Amazon Translate and Polly (``POLLY_ENGINE``); any other name: the engines
    registered under it (``register_engines``; the local runtime's Apertium and
    espeak-ng). Tests pass ``translator``/``synthesizer`` fakes (moto has no Translate,
    and its Polly returns eight NUL bytes).
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from polycast.adapters.aws import clients
    from polycast.adapters.aws.audio import S3AudioStore
    from polycast.adapters.aws.events import EventBridgePublisher
    from polycast.adapters.aws.sessions import DynamoSessionStore
    from polycast.adapters.aws.translation_cache import DynamoTranslationCacheStore

    pool = max(10, max_language_workers * 2)
    ddb = clients.client("dynamodb", settings, pool=pool)
    closers: list[Callable[[], None]] = []
    fallbacks: list[Synthesizer] = []
    if translator is None or synthesizer is None:
        if settings.engines != "aws":
            engines = engine_provider(settings).build()
            closers.append(engines.close)
            translator = translator or engines.translator
            synthesizer = synthesizer or engines.synthesizer
        else:
            from polycast.adapters.aws.polly import PollySynthesizer
            from polycast.adapters.aws.translate import AmazonTranslator

            translator = translator or AmazonTranslator(
                clients.client("translate", settings, pool=pool)
            )
            polly = clients.client("polly", settings, pool=pool)
            if synthesizer is None:
                synthesizer = PollySynthesizer(polly, engine=settings.polly_engine)
                if settings.polly_engine == "neural":  # degrade to standard under pressure
                    fallbacks.append(PollySynthesizer(polly, engine="standard"))

    def dynamo_idempotency() -> BasePersistenceLayer:
        return DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=ddb)

    ports = ProcessorPorts(
        sessions=DynamoSessionStore(
            ddb, settings.sessions_table, ttl_seconds=settings.session_max_seconds + 24 * 3600
        ),
        translator=translator,
        synthesizer=synthesizer,
        fallback_synthesizers=fallbacks,
        translation_cache=DynamoTranslationCacheStore(ddb, settings.cached_translations_table),
        audio=S3AudioStore(clients.client("s3", settings, pool=pool), settings.audio_bucket),
        publisher=EventBridgePublisher(clients.client("events", settings), settings.event_bus_name),
        idempotency_store=idempotency_store or dynamo_idempotency,
    )
    deps = build_processor(
        settings,
        ports,
        limits=service_limits(settings) if settings.engines == "aws" else None,
        max_language_workers=max_language_workers,
    )
    deps.closers.extend(closers)
    return deps
