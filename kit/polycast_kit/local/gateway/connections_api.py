"""The ``@connections`` management API, so boto3's ``apigatewaymanagementapi`` client
works unchanged (SigV4 is not checked).

``POST`` sends, ``GET`` describes, ``DELETE`` closes; an unknown or closed id answers
410 GoneException. Served at ``/@connections/{id}`` and ``/{stage}/@connections/{id}``
(an endpoint URL with a stage in it).
"""

from __future__ import annotations

from aiohttp import WSCloseCode, web

from polycast_kit.local.gateway.connection import GatewayConnection, now_ms
from polycast_kit.local.gateway.events import iso_time
from polycast_kit.local.gateway.websocket_api import MAX_MESSAGE_BYTES, WebSocketApi, send

PATHS = ("/@connections/{connection_id}", "/{stage}/@connections/{connection_id}")


def gone() -> web.Response:
    return web.json_response(
        {"message": None}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
    )


class ConnectionsApi:
    """The management API over the WebSocket API's live connections."""

    def __init__(self, websocket: WebSocketApi) -> None:
        self.websocket = websocket

    def routes(self) -> list[web.RouteDef]:
        routes: list[web.RouteDef] = []
        for path in PATHS:
            routes += [
                web.post(path, self.post),
                web.get(path, self.get, allow_head=False),
                web.delete(path, self.delete),
            ]
        return routes

    def _live(self, request: web.Request) -> GatewayConnection | None:
        connection = self.websocket.connections.get(request.match_info["connection_id"])
        if connection is None or connection.closed:
            return None
        return connection

    async def post(self, request: web.Request) -> web.StreamResponse:
        connection = self._live(request)
        if connection is None:
            return gone()
        data = await request.read()
        if len(data) > MAX_MESSAGE_BYTES:
            return web.json_response(
                {"message": f"Message too long; max {MAX_MESSAGE_BYTES} bytes"},
                status=413,
                headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
            )
        async with connection.lock:
            if connection.closed:
                return gone()
            connection.last_active_at = now_ms()
            if connection.ws is None:
                connection.pending.append(data)  # $connect is still running
                return web.Response(status=200)
            try:
                await send(connection.ws, data)
            except (ConnectionError, RuntimeError):
                return gone()
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.StreamResponse:
        connection = self._live(request)
        if connection is None:
            return gone()
        return web.json_response(
            {
                "connectedAt": iso_time(connection.connected_at),
                "lastActiveAt": iso_time(connection.last_active_at),
                "identity": {
                    "sourceIp": connection.source_ip,
                    "userAgent": connection.user_agent,
                },
            }
        )

    async def delete(self, request: web.Request) -> web.StreamResponse:
        connection = self._live(request)
        if connection is None:
            return gone()
        connection.closed = True
        if connection.ws is not None and not connection.ws.closed:
            await connection.ws.close(code=WSCloseCode.OK, message=b"closed by server")
        return web.Response(status=204)
