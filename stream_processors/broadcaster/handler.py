"""Broadcaster Lambda: one EventBridge event (SegmentReady, BroadcastSlice, PartialReady or
SessionEnded) → listeners; an audience over AUDIENCE_SLICE_SIZE is split into BroadcastSlice events.

Thin: the fan-out lives in ``polycast.services.broadcaster``; this file adds the
Powertools plumbing (JSON logs correlated by sessionId, EMF metrics, tracing).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import utils as logging_utils
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from polycast import wiring
from polycast.composition import broadcaster_dependencies
from polycast.config import Settings, metrics_namespace
from polycast.edge import PerContainer
from polycast.errors import BadRequest
from polycast.services.broadcaster import Broadcaster
from polycast.tracing import lambda_tracer

SERVICE = wiring.BROADCASTER.service_name
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=metrics_namespace(), service=SERVICE)
tracer = lambda_tracer(SERVICE)  # X-Ray deployed; nothing imported when tracing is off
logging_utils.copy_config_to_registered_loggers(
    source_logger=logger, include={"polycast.services.broadcaster"}
)

broadcaster: PerContainer[Broadcaster] = PerContainer(
    lambda: broadcaster_dependencies(Settings.from_env())
)


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bridge = EventBridgeEvent(event)
    detail_type = str(bridge.get("detail-type") or "")
    detail = bridge.detail if isinstance(bridge.get("detail"), dict) else {}
    session_id = detail.get("sessionId")
    if isinstance(session_id, str):
        logger.set_correlation_id(session_id)
    try:
        result = broadcaster().handle(detail_type, detail)
    except BadRequest as exc:
        # Retrying a malformed event cannot help: log the reason and drop it.
        logger.error("event rejected", extra={"code": exc.code, "reason": exc.message})
        return {"status": "rejected", "code": exc.code, "reason": exc.message}

    rate = result.success_rate
    # Live captions are disposable: the success-rate alarm is about segments.
    if rate is not None and detail_type != "PartialReady":
        metrics.add_metric(name="BroadcastSuccessRate", unit=MetricUnit.Percent, value=rate)
    return {
        "status": "duplicate" if result.duplicate else "split" if result.slices else "ok",
        "slices": result.slices,
        "delivered": result.delivered,
        "gone": result.gone,
        "failed": result.failed,
        "skipped": result.skipped,
        "durationMs": round(result.duration_ms, 3),
        "broadcastSuccessRate": rate,
    }
