"""Transcript processor Lambda: Kinesis batches (and the seed's direct invoke) → SegmentReady
(and, for ``partial`` records, PartialReady live captions: ``polycast.services.live_captions``).

Thin: the work lives in ``polycast.services.processor`` and ``.orchestrator``; this
file adds the Powertools plumbing (JSON logs correlated by sessionId, EMF metrics in
the configured namespace — ``TranslationPipeline`` by default — tracing), the edge
(``polycast.adapters.aws.kinesis_records`` through ``composition.kinesis_edge``: base64
and KPL aggregates, read through Powertools' ``KinesisStreamEvent``) and the two
response shapes.

**Kinesis batch** → the partial batch response
``{"batchItemFailures": [{"itemIdentifier": "<parent sequenceNumber>"}]}``.

**Direct invoke** (the seed's event) → ``{"statusCode": 200, "success": true,
"languagesProcessed", "languagesFailed", "cacheHitRate", "broadcastSuccessRate",
"durationMs", "listenerCount", "sessionId", "sequence"}``. Rates are fractions 0–1.
``broadcastSuccessRate`` is the share of SegmentReady events the bus accepted:
delivery to listeners is asynchronous now (the broadcaster reports it in
``BroadcastCompleted`` and its own BroadcastSuccessRate metric).
Bad input → ``{"statusCode": 400, "success": false, "error": {"code": "MISSING_FIELD",
"message": "missing required field: transcriptText"}}``; other refusals use the
error's status (404 SESSION_ENDED, 503 TRANSIENT: worth retrying).

Metrics (EMF) are in percent for rates, one value per
batch for rates and counts, one value per transcript for duration and listeners.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import utils as logging_utils
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from polycast import wiring
from polycast.composition import ProcessorDeps, kinesis_edge, processor_dependencies
from polycast.config import Settings, metrics_namespace
from polycast.edge import PerContainer
from polycast.errors import PolycastError
from polycast.services.orchestrator import Outcome
from polycast.services.processor import BatchResult
from polycast.tracing import lambda_tracer

SERVICE = wiring.TRANSCRIPT_PROCESSOR.service_name
MAX_VALUES_PER_METRIC = 100  # EMF's limit per metric per record

logger = Logger(service=SERVICE)
NAMESPACE = metrics_namespace()
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = lambda_tracer(SERVICE)  # X-Ray deployed; nothing imported when tracing is off
logging_utils.copy_config_to_registered_loggers(
    source_logger=logger,
    include={
        "polycast.services.processor",
        "polycast.services.orchestrator",
        "polycast.services.translation_cache",
    },
)

is_kinesis_event, stream_records = kinesis_edge()
dependencies: PerContainer[ProcessorDeps] = PerContainer(
    lambda: processor_dependencies(Settings.from_env())
)
use_dependencies = dependencies.use  # tests inject fakes for Translate and Polly


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_kinesis_event(event):
        return _batch(KinesisStreamEvent(event), context)
    return _direct(event, context)


def _batch(event: KinesisStreamEvent, context: LambdaContext) -> dict[str, Any]:
    result = dependencies().processor.process_batch(stream_records(event), context)
    _record_metrics(result.outcomes)
    metrics.add_metric(name="RejectedRecords", unit=MetricUnit.Count, value=result.rejected)
    metrics.add_metric(name="RetriedRecords", unit=MetricUnit.Count, value=len(result.failed))
    logger.info("batch processed", extra=_summary(event, result))
    return result.response()


def _direct(event: Any, context: LambdaContext) -> dict[str, Any]:
    session_id = event.get("sessionId") if isinstance(event, Mapping) else None
    if isinstance(session_id, str):
        logger.set_correlation_id(session_id)
    try:
        outcome = dependencies().processor.process_direct(
            event if isinstance(event, Mapping) else {}, context
        )
    except PolycastError as exc:
        logger.warning("direct invoke refused", extra={"code": exc.code})
        metrics.add_metric(name="RejectedRecords", unit=MetricUnit.Count, value=1)
        return {
            "statusCode": exc.status,
            "success": False,
            "error": {"code": exc.code, "message": exc.message},
        }
    _record_metrics([outcome])
    return {
        "statusCode": 200,
        "success": True,
        "sessionId": outcome.session_id,
        "sequence": outcome.sequence,
        "languagesProcessed": outcome.languages_processed,
        "languagesFailed": outcome.languages_failed,
        "cacheHitRate": round(outcome.cache_hit_rate, 4),
        "broadcastSuccessRate": round(outcome.broadcast_success_rate, 4),
        "durationMs": round(outcome.duration_ms, 3),
        "listenerCount": outcome.listener_count,
    }


def _record_metrics(outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    hits = sum(o.cache_hits for o in outcomes)
    lookups = hits + sum(o.cache_misses for o in outcomes)
    if lookups:
        metrics.add_metric(name="CacheHitRate", unit=MetricUnit.Percent, value=100 * hits / lookups)
    published = sum(o.events_published for o in outcomes)
    attempted = published + sum(o.events_failed for o in outcomes)
    if attempted:
        metrics.add_metric(
            name="BroadcastSuccessRate", unit=MetricUnit.Percent, value=100 * published / attempted
        )
    metrics.add_metric(
        name="LanguagesProcessed",
        unit=MetricUnit.Count,
        value=sum(o.languages_processed for o in outcomes),
    )
    metrics.add_metric(
        name="FailedLanguagesCount",
        unit=MetricUnit.Count,
        value=sum(o.languages_failed for o in outcomes),
    )
    replaced = sum(o.hints_replaced for o in outcomes)
    if replaced:
        # Advisory emotion hints that fell back to defaults (docs/emotion-ssml.md).
        metrics.add_metric(name="EmotionHintsReplaced", unit=MetricUnit.Count, value=replaced)
    _record_degradation(outcomes)
    for outcome in outcomes[:MAX_VALUES_PER_METRIC]:
        metrics.add_metric(
            name="ProcessingDuration", unit=MetricUnit.Milliseconds, value=outcome.duration_ms
        )
        metrics.add_metric(
            name="ListenerCount", unit=MetricUnit.Count, value=outcome.listener_count
        )


def _record_degradation(outcomes: list[Outcome]) -> None:
    """``DegradedSegments`` per step (``standard_voice``, ``text_only``): segments that
    kept going under Polly throttling instead of failing (docs/emotion-ssml.md)."""
    steps: dict[str, int] = {}
    for outcome in outcomes:
        for step in outcome.degraded.values():
            steps[step] = steps.get(step, 0) + 1
    for step, count in sorted(steps.items()):
        with single_metric(
            name="DegradedSegments",
            unit=MetricUnit.Count,
            value=count,
            namespace=NAMESPACE,
            default_dimensions={"service": SERVICE},
        ) as metric:
            metric.add_dimension(name="Step", value=step)


def _summary(event: KinesisStreamEvent, result: BatchResult) -> dict[str, Any]:
    """Counts and ids only: never transcript text."""
    return {
        "records": len(event.raw_event.get("Records") or []),
        "sessions": sorted({o.session_id for o in result.outcomes})[:20],
        "transcripts": len(result.outcomes),
        "rejected": result.rejected,
        "replayed": result.replayed,
        "failed": len(result.failed),
    }
