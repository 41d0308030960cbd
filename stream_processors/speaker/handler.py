"""Speaker Lambda: the session speaker's WebSocket actions, and its session's end.

- WebSocket routes ``transcribeUrl``, ``transcript``, ``partial``
  (``polycast.wiring.SPEAKER_ACTIONS``), read through Powertools'
  ``APIGatewayWebSocketEvent``: the service checks the body against its schema and
  that the connection is the session's speaker, then signs a Transcribe URL or writes
  a Kinesis record; every answer (``transcribeUrl``, ``ack``, ``error`` naming the
  action and sequence) travels by PostToConnection.
- EventBridge ``SessionEnded`` (the wiring's speaker rule): ``{"type":
  "sessionEnded"}`` to the speaker connection, if one is open.

The only function whose role may write to the stream or sign a Transcribe URL. Logs
carry the session id, route and code, never transcript text or the key.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import utils as logging_utils
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayWebSocketEvent,
    EventBridgeEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from polycast import wiring
from polycast.composition import speaker_dependencies
from polycast.config import Settings
from polycast.edge import PerContainer, action_body
from polycast.errors import PolycastError
from polycast.services.speaker import SpeakerService
from polycast.tracing import lambda_tracer

SERVICE = wiring.SPEAKER.service_name
logger = Logger(service=SERVICE)
tracer = lambda_tracer(SERVICE)  # X-Ray deployed; nothing imported when tracing is off
logging_utils.copy_config_to_registered_loggers(
    source_logger=logger, include={"polycast.services.speaker"}
)

MAX_BODY_CHARS = 32 * 1024
service: PerContainer[SpeakerService] = PerContainer(
    lambda: speaker_dependencies(Settings.from_env())
)


def _session_ended(event: dict[str, Any]) -> dict[str, Any]:
    bridge = EventBridgeEvent(event)
    detail = bridge.detail if isinstance(bridge.get("detail"), dict) else {}
    session_id = detail.get("sessionId")
    if not isinstance(session_id, str):
        return {"status": "rejected", "code": "MISSING_FIELD"}
    logger.set_correlation_id(session_id)
    reason = detail.get("reason")
    told = service().session_ended(session_id, reason if isinstance(reason, str) else None)
    return {"status": "told" if told else "no speaker"}


def _action(route_key: str, connection_id: str, event: APIGatewayWebSocketEvent) -> dict[str, Any]:
    try:
        service().act(connection_id, route_key, action_body(event.body, max_chars=MAX_BODY_CHARS))
    except PolycastError as exc:  # the speaker has its answer already
        logger.info("speaker action refused", extra={"route": route_key, "code": exc.code})
        return {"statusCode": exc.status}
    return {"statusCode": 200}


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == "SessionEnded":
        return _session_ended(event)
    request = event.get("requestContext") or {}
    route_key = str(request.get("routeKey") or wiring.DEFAULT_ROUTE)
    connection_id = str(request.get("connectionId") or "")
    return _action(route_key, connection_id, APIGatewayWebSocketEvent(event))
