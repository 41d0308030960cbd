"""API Gateway's WebSocket API: ``$connect``, route selection, ``$disconnect``.

- An upgrade request runs ``$connect`` first; a non-2xx answer refuses the upgrade
  with that status and the function's body (and logs the reason); 2xx upgrades.
- Text frames: route selection on ``$request.body.action`` (unknown or not JSON →
  ``$default``); a route's response body goes back to the client.
- Close (either side, idle timeout, lifetime, ``DELETE @connections``) → ``$disconnect``.
- A client message over 128 KB closes the connection with 1009.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from polycast import wiring
from polycast_kit.local.gateway.connection import GatewayConnection, now_ms
from polycast_kit.local.gateway.events import WebSocketEvents
from polycast_kit.local.gateway.functions import RouteFunction

log = logging.getLogger("polycast.local.gateway")

MAX_MESSAGE_BYTES = 128 * 1024
FRAME_BYTES = 32 * 1024


def is_websocket_upgrade(request: web.Request) -> bool:
    return request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket"


async def send(ws: web.WebSocketResponse, data: bytes) -> None:
    """A text frame when the data is UTF-8 (every listener message), else binary."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        await ws.send_bytes(data)
        return
    await ws.send_str(text)


class WebSocketApi:
    """The WebSocket API's connections and routes; ``connect`` is an aiohttp handler."""

    def __init__(
        self,
        function: RouteFunction,
        events: WebSocketEvents,
        routes: tuple[str, ...],
        *,
        idle_timeout_seconds: float = 600,
        max_lifetime_seconds: float = 7200,
    ) -> None:
        self.function = function
        self.events = events
        self.routes = set(routes)
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self.connections: dict[str, GatewayConnection] = {}

    async def connect(self, request: web.Request) -> web.StreamResponse:
        connection = GatewayConnection.from_request(request)
        # Registered before $connect runs so posts made meanwhile wait, not fail.
        self.connections[connection.connection_id] = connection
        event = self.events.connect(request, connection)
        answer = await self.function(event)
        if not answer.ok:
            self.connections.pop(connection.connection_id, None)
            session_id = (event["queryStringParameters"] or {}).get("sessionId", "")
            log.info(
                "refused connect for session %r: %d %s",
                session_id[:64],
                answer.status,
                answer.reason(),
            )
            return answer.as_response()

        # API Gateway negotiates no permessage-deflate: neither does the local gateway
        # (compressing each listener's copy of a segment would cost CPU it lacks).
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, autoping=True, compress=False)
        await ws.prepare(request)
        async with connection.lock:
            connection.ws = ws
            for data in connection.pending:
                await send(ws, data)
            connection.pending.clear()
        try:
            await self._receive(connection, ws)
        finally:
            connection.closed = True
            self.connections.pop(connection.connection_id, None)
            if not ws.closed:
                await ws.close()
            await self.function(self.events.disconnect(event, connection, ws.close_code or 1006))
        return ws

    async def close_all(self, timeout: float = 3) -> None:
        """Close every connection at once (1001), not waiting long for silent clients:
        one by one, each could take aiohttp's 10 s close timeout."""
        closing = [
            asyncio.ensure_future(
                connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
            )
            for connection in list(self.connections.values())
            if connection.ws is not None and not connection.ws.closed
        ]
        if closing:
            await asyncio.wait(closing, timeout=timeout)

    async def _receive(self, connection: GatewayConnection, ws: web.WebSocketResponse) -> None:
        while True:
            now = time.time()
            idle_left = self.idle_timeout_seconds - (now - connection.last_active_at / 1000)
            life_left = self.max_lifetime_seconds - (now - connection.connected_at / 1000)
            if idle_left <= 0 or life_left <= 0:
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Going away")
                return
            try:
                msg = await ws.receive(timeout=min(idle_left, life_left))
            except TimeoutError:
                continue
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if msg.type == WSMsgType.ERROR:
                # aiohttp has already closed with 1009 for an oversized message.
                if ws.close_code == WSCloseCode.MESSAGE_TOO_BIG:
                    log.info("closed a connection: message over %d bytes", MAX_MESSAGE_BYTES)
                return
            connection.last_active_at = now_ms()
            body = (
                msg.data
                if msg.type == WSMsgType.TEXT
                else bytes(msg.data).decode("utf-8", "replace")
            )
            await self._message(connection, ws, body)

    def select_route(self, body: str) -> str | None:
        """``$request.body.action`` when it names a route, else ``$default`` (None: no
        route takes the message, as API Gateway drops it)."""
        route_key = wiring.DEFAULT_ROUTE
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            action = parsed.get("action")
            if isinstance(action, str) and action in self.routes and not action.startswith("$"):
                route_key = action
        return route_key if route_key in self.routes else None

    async def _message(
        self, connection: GatewayConnection, ws: web.WebSocketResponse, body: str
    ) -> None:
        route_key = self.select_route(body)
        if route_key is None:
            return
        event = self.events.message(connection, route_key, body)
        answer = await self.function(event)
        response = answer.body
        if answer.status >= 500 and response is not None:
            response = json.dumps(
                {
                    "message": "Internal server error",
                    "connectionId": connection.connection_id,
                    "requestId": event["requestContext"]["requestId"],
                }
            )
        if response is not None:
            async with connection.lock:
                if not ws.closed:
                    await send(ws, response.encode("utf-8"))
