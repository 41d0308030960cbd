"""Connection handler Lambda: the WebSocket routes ``$connect``, ``$disconnect``, the
listener actions (``polycast.wiring.LISTENER_ACTIONS``: ping, catchUp,
switchLanguage, pause, resume, audio) and ``$default``; and the session check
``GET /sessions/{sessionId}`` (an HTTP API event). WebSocket events are read through
Powertools' ``APIGatewayWebSocketEvent``, the session check through
``APIGatewayProxyEventV2``.

A refused ``$connect`` answers its HTTP status with ``{"code", "message"}``, which
the gateway shows the client. Other routes answer the listener through
PostToConnection (no route responses): an ``ack`` or ``pong``, and every error as
``{"type": "error", "code", "message"}`` — never a stack trace, never silence.

The session check runs exactly the ``$connect`` validation with no side effects
(``ConnectionService.admit``) and answers ``200 {"ok": true, "sessionId",
"targetLanguage", "sourceLanguage", "languages", …}`` (schemas/http/sessionCheck.json)
or the refusal's status and ``{"code", "message"}``, with
``Cache-Control: no-store``; the join code is never logged.

``role=speaker`` (on ``$connect`` and on the session check) asks as the session's
speaker instead (``SpeakerGate``: the speaker key, one speaker connection per
session); ``$disconnect`` of a speaker connection frees the session's speaker place.
The speaker's actions go to the speaker function, not here.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import utils as logging_utils
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    APIGatewayWebSocketEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from polycast import wiring
from polycast.composition import connection_dependencies, speaker_gate_dependencies
from polycast.config import Settings
from polycast.edge import PerContainer, action_body
from polycast.errors import PolycastError
from polycast.services.connections import ConnectionService
from polycast.services.speaker import SpeakerGate
from polycast.tracing import lambda_tracer

SERVICE = wiring.CONNECTION_HANDLER.service_name
logger = Logger(service=SERVICE)
tracer = lambda_tracer(SERVICE)  # X-Ray deployed; nothing imported when tracing is off
logging_utils.copy_config_to_registered_loggers(
    source_logger=logger, include={"polycast.services.connections", "polycast.services.speaker"}
)

MAX_BODY_CHARS = 16 * 1024

service: PerContainer[ConnectionService] = PerContainer(
    lambda: connection_dependencies(Settings.from_env())
)
gate: PerContainer[SpeakerGate] = PerContainer(
    lambda: speaker_gate_dependencies(Settings.from_env())
)


def _is_speaker(params: dict[str, Any]) -> bool:
    return params.get("role") == wiring.SPEAKER_ROLE


def _response(status: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"statusCode": status}
    if body is not None:
        out["body"] = json.dumps(body)
    return out


def _connect(connection_id: str, event: APIGatewayWebSocketEvent) -> dict[str, Any]:
    params = event.query_string_parameters or {}
    session_id = params.get("sessionId")
    if isinstance(session_id, str):
        logger.set_correlation_id(session_id[:128])
    try:
        if _is_speaker(params):
            state = gate().connect(connection_id, params)
            return _response(200, {"sessionId": state.session_id, "role": "speaker"})
        connection = service().connect(connection_id, params)
    except PolycastError as exc:
        logger.info("connect refused", extra={"code": exc.code, "status": exc.status})
        return _response(exc.status, {"code": exc.code, "message": exc.message})
    return _response(200, {"sessionId": connection.session_id, "language": connection.language})


SESSION_CHECK_ROUTE = wiring.SESSION_CHECK_ROUTE.route_key


def _session_check(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """The listener page asks why a connect would be refused (browsers cannot see it)."""
    path = event.path_parameters
    query = event.query_string_parameters
    params = {k: v for k, v in query.items() if k in ("targetLanguage", "joinCode")}
    params["sessionId"] = path.get("sessionId", "")
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    speaker = _is_speaker(query)
    if speaker:
        params = {"sessionId": params["sessionId"], "speakerKey": query.get("speakerKey", "")}
    try:
        if speaker:
            state = gate().admit(params)
            body = {"ok": True, "sessionId": state.session_id, "role": "speaker"}
            return {**_response(200, body), "headers": headers}
        session = service().admit(params)
    except PolycastError as exc:
        logger.info("session check refused", extra={"code": exc.code, "status": exc.status})
        return {
            **_response(exc.status, {"code": exc.code, "message": exc.message}),
            "headers": headers,
        }
    # What the join page lists (schemas/http/sessionCheck.json). Only answered once the
    # join code, when the session has one, was given: the languages are not a secret,
    # but a refused check tells nothing beyond its code.
    body = {
        "ok": True,
        "sessionId": session.session_id,
        "targetLanguage": params["targetLanguage"],
        "sourceLanguage": session.source_language,
        "languages": list(session.languages),
        "status": session.status,
        "joinCodeRequired": bool(session.join_code_hash),
    }
    return {**_response(200, body), "headers": headers}


def _action(route_key: str, connection_id: str, event: APIGatewayWebSocketEvent) -> dict[str, Any]:
    """A listener action: the service checks it against its schema and answers it."""
    svc = service()
    try:
        svc.act(connection_id, route_key, action_body(event.body, max_chars=MAX_BODY_CHARS))
    except PolycastError as exc:  # the service has answered the listener already
        logger.info("action refused", extra={"route": route_key, "code": exc.code})
        return _response(exc.status)
    return _response(200)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route_key = event.get("routeKey") or request.get("routeKey", wiring.DEFAULT_ROUTE)
    if route_key == SESSION_CHECK_ROUTE:
        try:
            return _session_check(APIGatewayProxyEventV2(event))
        except PolycastError as exc:
            logger.warning("session check failed", extra={"code": exc.code})
            return _response(exc.status, {"code": exc.code, "message": exc.message})
    socket = APIGatewayWebSocketEvent(event)
    connection_id = str(request.get("connectionId") or "")
    try:
        if route_key == wiring.CONNECT_ROUTE:
            return _connect(connection_id, socket)
        if route_key == wiring.DISCONNECT_ROUTE:
            # A listener's item, or else a speaker's (keyed apart): one read for listeners.
            if service().disconnect(connection_id) is None:
                gate().disconnect(connection_id)
            return _response(200)
        return _action(route_key, connection_id, socket)
    except PolycastError as exc:
        # Transient store errors and the like: the client sees the code, not a trace.
        logger.warning("route failed", extra={"route": route_key, "code": exc.code})
        return _response(exc.status, {"code": exc.code, "message": exc.message})
