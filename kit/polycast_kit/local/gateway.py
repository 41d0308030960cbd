"""A WebSocket gateway on loopback that behaves like API Gateway's WebSocket API.

- ``GET /?sessionId=…&targetLanguage=…`` with ``Upgrade: websocket``: the
  ``$connect`` route runs first; a non-2xx answer refuses the upgrade with that
  status and the handler's body; 2xx upgrades.
- Text frames: route selection on ``$request.body.action`` (unknown or not
  JSON → ``$default``); a route's response body goes back to the client.
- Close (either side, idle timeout, lifetime, DELETE) → ``$disconnect``.
- A client message over 128 KB closes the connection with 1009.
- The ``@connections`` management API on the same port (POST / GET / DELETE),
  410 GoneException for an unknown or closed connection, so boto3's
  ``apigatewaymanagementapi`` client works unchanged (SigV4 is not checked).
- The listener page: ``/`` and static files from ``web/``, ``/config.json``, and
  ``/audio/{key}`` from the local audio bucket.
- The session check ``GET /sessions/{sessionId}?targetLanguage=…[&joinCode=…]`` (GET
  and HEAD): the connection handler's ``$connect`` validation without side effects,
  invoked with an HTTP API (payload 2.0) event; answered with ``Cache-Control:
  no-store``. The query (a join code) is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import mimetypes
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import WSCloseCode, WSMsgType, web

from polycast import wiring

log = logging.getLogger("polycast.local.gateway")

MAX_MESSAGE_BYTES = 128 * 1024
FRAME_BYTES = 32 * 1024
ROUTE_KEYS: tuple[str, ...] = tuple(route.route_key for route in wiring.ROUTES)

RouteInvoker = Callable[[dict[str, Any]], Any]
AudioReader = Callable[[str], bytes | None]

_PLACEHOLDER_PAGE = """<!doctype html><meta charset="utf-8"><title>Polycast</title>
<h1>Polycast listener</h1><p>The listener page is not built yet (web/index.html).</p>
<pre id="log"></pre><script>
const q = new URLSearchParams(location.search);
fetch('/config.json').then(r => r.json()).then(cfg => {
  const ws = new WebSocket(cfg.websocketUrl + '/?' + q.toString());
  ws.onmessage = e => { const m = JSON.parse(e.data);
    document.getElementById('log').textContent += (m.text || m.type) + '\\n'; };
  ws.onclose = e => { document.getElementById('log').textContent += 'closed ' + e.code + '\\n'; };
});
</script>
"""


def new_connection_id() -> str:
    """An id shaped like API Gateway's (``L0SM9cOFvHcCIhw=``): 11 random bytes, base64."""
    raw = base64.b64encode(secrets.token_bytes(11)).decode("ascii")
    # Keep ids path-safe: no '/' or '+' (API Gateway's ids are URL-safe too).
    return raw.replace("/", "A").replace("+", "B")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _request_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass
class GatewayConnection:
    connection_id: str
    source_ip: str
    user_agent: str
    connected_at: int = field(default_factory=_now_ms)
    last_active_at: int = field(default_factory=_now_ms)
    ws: web.WebSocketResponse | None = None
    pending: list[bytes] = field(default_factory=list)
    closed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _gone() -> web.Response:
    return web.json_response(
        {"message": None}, status=410, headers={"x-amzn-ErrorType": "GoneException"}
    )


class WebSocketGateway:
    """API Gateway's WebSocket API on ``host:port``, run on its own event loop thread."""

    def __init__(
        self,
        invoke_route: RouteInvoker,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        web_root: Path | None = None,
        config: Callable[[], Mapping[str, Any]] | None = None,
        read_audio: AudioReader | None = None,
        idle_timeout_seconds: float = 600,
        max_lifetime_seconds: float = 7200,
        stage: str = "local",
        api_id: str = "polycast-local",
        routes: tuple[str, ...] = ROUTE_KEYS,
    ) -> None:
        self.invoke_route = invoke_route
        self.host = host
        self.port = port
        self.web_root = web_root
        self.config = config or (lambda: {})
        self.read_audio = read_audio
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self.stage = stage
        self.api_id = api_id
        self.routes = set(routes)
        self.connections: dict[str, GatewayConnection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="gateway-route")

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve; an ``OSError`` (port in use) is raised here, in the caller."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="websocket-gateway", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            loop.close()
            self._loop = None
            self._thread = None
            raise failure[0]

    async def _start_site(self) -> None:
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES * 2)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=False)
        await site.start()
        sockets = getattr(site, "_server").sockets  # noqa: B009 - aiohttp exposes no accessor
        self.port = int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(timeout=15)
        except Exception:
            log.exception("gateway shutdown")
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop = None
        self._thread = None

    async def _shutdown(self) -> None:
        # All at once, and not waiting long for clients that never answer the close
        # frame: one by one, each could take aiohttp's 10 s close timeout.
        closing = [
            asyncio.ensure_future(
                connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
            )
            for connection in list(self.connections.values())
            if connection.ws is not None and not connection.ws.closed
        ]
        if closing:
            await asyncio.wait(closing, timeout=3)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # -- dispatch --------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        segments = [s for s in path.split("/") if s]
        # Management API: /@connections/{id}, or /{stage}/@connections/{id}.
        if "@connections" in segments:
            rest = segments[segments.index("@connections") + 1 :]
            if len(rest) != 1:
                return web.json_response({"message": "Not Found"}, status=404)
            return await self._manage(request, unquote(rest[0]))
        if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._connect(request)
        if segments and segments[0] == "sessions":
            if request.method not in ("GET", "HEAD"):
                return web.json_response(
                    {"message": "Method Not Allowed"}, status=405, headers={"Allow": "GET, HEAD"}
                )
            if len(segments) != 2:
                return web.json_response({"message": "Not Found"}, status=404)
            return await self._session_check(request, unquote(segments[1]))
        if request.method not in ("GET", "HEAD"):
            return web.json_response({"message": "Method Not Allowed"}, status=405)
        return await self._serve_page(request, unquote(path))

    async def _session_check(self, request: web.Request, session_id: str) -> web.StreamResponse:
        """Would a connect be admitted? The route's function answers; nothing is stored."""
        now = _now_ms()
        query = {k: request.query.getone(k) for k in request.query}
        route_key = wiring.SESSION_CHECK_ROUTE.route_key
        event = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": query or None,
            "pathParameters": {"sessionId": session_id},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": self.api_id,
                "domainName": f"{self.host}:{self.port}",
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.remote or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent", ""),
                },
                "requestId": uuid.uuid4().hex[:16],
                "routeKey": route_key,
                "stage": "$default",
                "time": _request_time(now),
                "timeEpoch": now,
            },
            "isBase64Encoded": False,
        }
        status, body = await self._invoke(event)
        return web.Response(
            status=status,
            text=body or "",
            content_type="application/json" if _is_json(body) else "text/plain",
            headers={"Cache-Control": "no-store"},
        )

    # -- WebSocket API ---------------------------------------------------------------

    def _request_context(
        self, connection: GatewayConnection, route_key: str, event_type: str
    ) -> dict[str, Any]:
        now = _now_ms()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connection.connected_at,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "requestId": uuid.uuid4().hex[:16],
            "domainName": f"{self.host}:{self.port}",
            "connectionId": connection.connection_id,
            "apiId": self.api_id,
        }

    async def _invoke(self, event: dict[str, Any]) -> tuple[int, str | None]:
        """Run a route's function in a thread; returns (status, body) like API Gateway."""
        try:
            result = await self._run_blocking(self.invoke_route, event)
        except Exception as exc:
            log.warning(
                "%s: function error (%s)", event["requestContext"]["routeKey"], type(exc).__name__
            )
            return 500, json.dumps({"message": "Internal server error"})
        if not isinstance(result, Mapping):
            return 200, None
        status = int(result.get("statusCode", 200))
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        return status, body

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        query = {k: request.query.getone(k) for k in request.query}
        connection = GatewayConnection(
            connection_id=new_connection_id(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
        )
        # Registered before $connect runs so posts made meanwhile wait, not fail.
        self.connections[connection.connection_id] = connection
        headers = dict(request.headers)
        event = {
            "headers": headers,
            "multiValueHeaders": {k: request.headers.getall(k) for k in request.headers},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": (
                {k: request.query.getall(k) for k in request.query} or None
            ),
            "requestContext": self._request_context(connection, wiring.CONNECT_ROUTE, "CONNECT"),
            "isBase64Encoded": False,
        }
        status, body = await self._invoke(event)
        if not 200 <= status < 300:
            self.connections.pop(connection.connection_id, None)
            log.info(
                "refused connect for session %r: %d %s",
                query.get("sessionId", "")[:64],
                status,
                _reason(body),
            )
            return web.Response(
                status=status,
                text=body or "",
                content_type="application/json" if _is_json(body) else "text/plain",
            )

        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, autoping=True)
        await ws.prepare(request)
        async with connection.lock:
            connection.ws = ws
            for data in connection.pending:
                await self._send(ws, data)
            connection.pending.clear()
        try:
            await self._receive_loop(connection, ws)
        finally:
            connection.closed = True
            self.connections.pop(connection.connection_id, None)
            if not ws.closed:
                await ws.close()
            disconnect = {
                "headers": headers,
                "multiValueHeaders": event["multiValueHeaders"],
                "requestContext": {
                    **self._request_context(connection, wiring.DISCONNECT_ROUTE, "DISCONNECT"),
                    "disconnectStatusCode": ws.close_code or 1006,
                    "disconnectReason": "",
                },
                "isBase64Encoded": False,
            }
            await self._invoke(disconnect)
        return ws

    async def _receive_loop(self, connection: GatewayConnection, ws: web.WebSocketResponse) -> None:
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
            connection.last_active_at = _now_ms()
            body = (
                msg.data
                if msg.type == WSMsgType.TEXT
                else bytes(msg.data).decode("utf-8", "replace")
            )
            await self._message(connection, ws, body)

    async def _message(
        self, connection: GatewayConnection, ws: web.WebSocketResponse, body: str
    ) -> None:
        route_key = wiring.DEFAULT_ROUTE
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            action = parsed.get("action")
            if isinstance(action, str) and action in self.routes and not action.startswith("$"):
                route_key = action
        if route_key not in self.routes:
            return
        context = self._request_context(connection, route_key, "MESSAGE")
        context["messageId"] = uuid.uuid4().hex[:16]
        event = {"requestContext": context, "body": body, "isBase64Encoded": False}
        status, response = await self._invoke(event)
        if status >= 500 and response is not None:
            response = json.dumps(
                {
                    "message": "Internal server error",
                    "connectionId": connection.connection_id,
                    "requestId": context["requestId"],
                }
            )
        if response is not None:
            async with connection.lock:
                if not ws.closed:
                    await self._send(ws, response.encode("utf-8"))

    @staticmethod
    async def _send(ws: web.WebSocketResponse, data: bytes) -> None:
        try:
            await ws.send_str(data.decode("utf-8"))
        except UnicodeDecodeError:
            await ws.send_bytes(data)

    # -- @connections ----------------------------------------------------------------

    async def _manage(self, request: web.Request, connection_id: str) -> web.StreamResponse:
        connection = self.connections.get(connection_id)
        if connection is None or connection.closed:
            return _gone()
        if request.method == "POST":
            data = await request.read()
            if len(data) > MAX_MESSAGE_BYTES:
                return web.json_response(
                    {"message": f"Message too long; max {MAX_MESSAGE_BYTES} bytes"},
                    status=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            async with connection.lock:
                if connection.closed:
                    return _gone()
                connection.last_active_at = _now_ms()
                if connection.ws is None:
                    connection.pending.append(data)
                else:
                    try:
                        await self._send(connection.ws, data)
                    except (ConnectionError, RuntimeError):
                        return _gone()
            return web.Response(status=200)
        if request.method == "GET":
            return web.json_response(
                {
                    "connectedAt": _iso(connection.connected_at),
                    "lastActiveAt": _iso(connection.last_active_at),
                    "identity": {
                        "sourceIp": connection.source_ip,
                        "userAgent": connection.user_agent,
                    },
                }
            )
        if request.method == "DELETE":
            connection.closed = True
            if connection.ws is not None and not connection.ws.closed:
                await connection.ws.close(code=WSCloseCode.OK, message=b"closed by server")
            return web.Response(status=204)
        return web.json_response({"message": "Method Not Allowed"}, status=405)

    # -- listener page ---------------------------------------------------------------

    async def _serve_page(self, request: web.Request, path: str) -> web.StreamResponse:
        if path == "/config.json":
            return web.json_response(dict(self.config()))
        if path.startswith("/audio/"):
            return await self._serve_audio(path[len("/audio/") :])
        root = self.web_root
        relative = path.lstrip("/") or "index.html"
        if root is not None:
            base = root.resolve()
            target = (base / relative).resolve()
            if target.is_dir():
                target = target / "index.html"
            if target.is_relative_to(base) and target.is_file():
                content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                return web.Response(body=target.read_bytes(), content_type=content_type)
        if relative == "index.html":
            return web.Response(text=_PLACEHOLDER_PAGE, content_type="text/html")
        return web.Response(status=404, text="Not Found")

    async def _serve_audio(self, key: str) -> web.StreamResponse:
        if self.read_audio is None or not key or ".." in key.split("/"):
            return web.Response(status=404, text="Not Found")
        data = await self._run_blocking(self.read_audio, key)
        if data is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=data,
            content_type="audio/mpeg",
            headers={"Cache-Control": "max-age=3600", "Access-Control-Allow-Origin": "*"},
        )


def _is_json(body: str | None) -> bool:
    if not body:
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _reason(body: str | None) -> str:
    """The refusal's code and message, for the log (never the connection id)."""
    if not body:
        return ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:200]
    if isinstance(parsed, dict):
        code = parsed.get("code", "")
        message = parsed.get("message", "")
        return f"{code} {message}".strip()[:200]
    return body[:200]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (tests pass it to the runtime)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
