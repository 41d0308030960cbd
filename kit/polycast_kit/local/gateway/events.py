"""The event shapes API Gateway hands a route's function, built from aiohttp requests.

WebSocket routes get the WebSocket API's shape (``requestContext.routeKey``,
``eventType``, ``connectionId``); the session check gets an HTTP API payload 2.0 event.
Only the fields a handler or Powertools' event source data classes read are filled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from polycast import wiring
from polycast_kit.local.gateway.connection import GatewayConnection, now_ms

ACCOUNT_ID = "123456789012"


@dataclass
class ApiIdentity:
    """Who answers: the API's id, its stage and its domain (known once the port is bound)."""

    api_id: str = "polycast-local"
    stage: str = "local"
    domain_name: str = "127.0.0.1"


def iso_time(ms: int) -> str:
    """``2026-11-29T14:00:00.000Z``, as the ``@connections`` API reports times."""
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def request_time(ms: int) -> str:
    """``29/Nov/2026:14:00:00 +0000``, API Gateway's ``requestTime``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _request_id() -> str:
    return uuid.uuid4().hex[:16]


class WebSocketEvents:
    """Events of the WebSocket API's routes for one API identity."""

    def __init__(self, identity: ApiIdentity) -> None:
        self.identity = identity

    def request_context(
        self, connection: GatewayConnection, route_key: str, event_type: str
    ) -> dict[str, Any]:
        now = now_ms()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": _request_id(),
            "requestTime": request_time(now),
            "messageDirection": "IN",
            "stage": self.identity.stage,
            "connectedAt": connection.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": _request_id(),
            "domainName": self.identity.domain_name,
            "connectionId": connection.connection_id,
            "apiId": self.identity.api_id,
        }

    def connect(self, request: web.Request, connection: GatewayConnection) -> dict[str, Any]:
        query = {k: request.query.getall(k) for k in request.query}
        return {
            "headers": dict(request.headers),
            "multiValueHeaders": {k: request.headers.getall(k) for k in request.headers},
            "queryStringParameters": {k: v[0] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "requestContext": self.request_context(connection, wiring.CONNECT_ROUTE, "CONNECT"),
            "isBase64Encoded": False,
        }

    def disconnect(
        self, connect_event: dict[str, Any], connection: GatewayConnection, status_code: int
    ) -> dict[str, Any]:
        context = self.request_context(connection, wiring.DISCONNECT_ROUTE, "DISCONNECT")
        context.update(disconnectStatusCode=status_code, disconnectReason="")
        return {
            "headers": connect_event["headers"],
            "multiValueHeaders": connect_event["multiValueHeaders"],
            "requestContext": context,
            "isBase64Encoded": False,
        }

    def message(self, connection: GatewayConnection, route_key: str, body: str) -> dict[str, Any]:
        context = self.request_context(connection, route_key, "MESSAGE")
        context["messageId"] = _request_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}


def http_api_event(
    request: web.Request,
    identity: ApiIdentity,
    route_key: str,
    path_parameters: dict[str, str],
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event, as the session check's route receives."""
    now = now_ms()
    query = {k: request.query.getone(k) for k in request.query}
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "queryStringParameters": query or None,
        "pathParameters": path_parameters,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": identity.api_id,
            "domainName": identity.domain_name,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": _request_id(),
            "routeKey": route_key,
            "stage": "$default",
            "time": request_time(now),
            "timeEpoch": now,
        },
        "isBase64Encoded": False,
    }
