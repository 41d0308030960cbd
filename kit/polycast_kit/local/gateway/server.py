"""``WebSocketGateway``: the gateway's aiohttp application on its own event loop thread.

The application is composed from one module per concern — the WebSocket API, the
``@connections`` API, the session check, the pages — on aiohttp's router. A later
feature mounts its own routes or sub-applications beside them (``extra_routes``,
``sub_apps``), served on the same port and loop; the static files stay the fallback.

With a ``public_host`` (``polycast local --lan``) the gateway listens twice, on one
event loop and one set of connections: the whole application on loopback, and on the
public address a second application with what listeners need (pages, session check,
audio, transcript downloads, the WebSocket API) and nothing else: no ``@connections``
management API (it answers 404 there), no speaker page, no mounted extras.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from polycast import wiring
from polycast_kit.local.gateway.connection import GatewayConnection
from polycast_kit.local.gateway.connections_api import PATHS as CONNECTIONS_PATHS
from polycast_kit.local.gateway.connections_api import ConnectionsApi
from polycast_kit.local.gateway.events import ApiIdentity, WebSocketEvents
from polycast_kit.local.gateway.export import TranscriptExport, TranscriptSource
from polycast_kit.local.gateway.functions import BlockingCalls, RouteFunction, RouteInvoker
from polycast_kit.local.gateway.pages import AudioReader, Pages
from polycast_kit.local.gateway.session_check import SessionCheck
from polycast_kit.local.gateway.websocket_api import (
    MAX_MESSAGE_BYTES,
    WebSocketApi,
    is_websocket_upgrade,
)

# Hundreds of listeners joining at once, and every broadcaster's posts, connect here:
# the accept queue must not overflow (a dropped SYN comes back a second later).
LISTEN_BACKLOG = 1024  # capped by net.core.somaxconn

log = logging.getLogger("polycast.local.gateway")

ROUTE_KEYS: tuple[str, ...] = tuple(route.route_key for route in wiring.ROUTES)
LOOPBACK = "127.0.0.1"
# Pages that need the runtime's own machine: a browser gives a microphone only to a
# secure context (https, or http on loopback).
LOOPBACK_ONLY_PAGES = ("/speaker.html", "/speaker")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == ""


class WebSocketGateway:
    """API Gateway's WebSocket API on ``host:port``, run on its own event loop thread.

    ``extra_routes`` and ``sub_apps`` (prefix → application) are mounted on the same
    port: the way the runtime adds endpoints of its own. Their handlers run on the
    gateway's loop; blocking work goes through ``run_blocking``.
    """

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
        extra_routes: Iterable[web.AbstractRouteDef] = (),
        sub_apps: Mapping[str, web.Application] | None = None,
        public_host: str | None = None,
        transcripts: Callable[[], TranscriptSource | None] = lambda: None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the gateway's own listener must be on loopback, not {host!r}")
        if public_host is not None and is_wildcard(public_host):
            raise ValueError(
                "name one address for the public side (all interfaces would include "
                "loopback, where the management API listens)"
            )
        self.host = host
        self.port = port
        self.public_host = public_host
        self.identity = ApiIdentity(api_id=api_id, stage=stage, domain_name=f"{host}:{port}")
        self._blocking = BlockingCalls()
        function = RouteFunction(invoke_route, self._blocking)
        self.websocket = WebSocketApi(
            function,
            WebSocketEvents(self.identity),
            routes,
            idle_timeout_seconds=idle_timeout_seconds,
            max_lifetime_seconds=max_lifetime_seconds,
        )
        self.connections_api = ConnectionsApi(self.websocket)
        self.session_check = SessionCheck(function, self.identity)
        self.pages = Pages(
            self._blocking,
            web_root=web_root,
            config=config,
            read_audio=read_audio,
            origins=lambda: tuple(dict.fromkeys((self.public_http_url, self.http_url))),
        )
        self.export = TranscriptExport(self._blocking, transcripts)
        self.extra_routes = list(extra_routes)
        self.sub_apps = dict(sub_apps or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runners: list[web.AppRunner] = []
        self._thread: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        """The loopback listener: everything, the management API included."""
        return f"http://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        """Where the broadcaster's ``@connections`` client points: loopback, always."""
        return self.http_url

    @property
    def public_http_url(self) -> str:
        """Where listeners load pages: the public address, or loopback without one."""
        return f"http://{self.public_host or self.host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return "ws" + self.public_http_url.removeprefix("http")

    @property
    def connections(self) -> dict[str, GatewayConnection]:
        return self.websocket.connections

    @property
    def idle_timeout_seconds(self) -> float:
        return self.websocket.idle_timeout_seconds

    @idle_timeout_seconds.setter
    def idle_timeout_seconds(self, seconds: float) -> None:
        self.websocket.idle_timeout_seconds = seconds

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` in the gateway's thread pool (for mounted handlers)."""
        return await self._blocking.run(fn, *args)

    # -- the application ---------------------------------------------------------------

    def application(self, *, public: bool = False) -> web.Application:
        """The whole API (loopback), or with ``public`` what listeners need only."""
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES * 2)
        # "/" is both the WebSocket API's URL and the listener page.
        app.router.add_get("/", self._root)
        if public:
            for path in CONNECTIONS_PATHS:
                app.router.add_route("*", path, self._not_here)
            for path in LOOPBACK_ONLY_PAGES:
                app.router.add_get(path, self._loopback_only_page)
        else:
            app.add_routes(self.connections_api.routes())
        app.add_routes(self.session_check.routes())
        app.add_routes(self.export.routes())  # listeners' downloads: on the public side too
        app.add_routes(self.pages.routes())
        if not public:
            app.add_routes(self.extra_routes)
            for prefix, sub_app in self.sub_apps.items():
                app.add_subapp(prefix, sub_app)
        app.add_routes(self.pages.static_routes())
        return app

    async def _not_here(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound(text="not served on this address")

    async def _loopback_only_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            status=403,
            content_type="text/html",
            text=(
                '<!doctype html><html lang="en"><meta charset="utf-8"><title>Polycast</title>'
                "<h1>The speaker page is on the runtime's machine</h1><p>A browser gives a "
                "page a microphone only on a secure connection. Open "
                f"<code>{self.http_url}/speaker.html</code> on the machine that runs "
                "<code>polycast local</code>.</p></html>"
            ),
        )

    async def _root(self, request: web.Request) -> web.StreamResponse:
        if is_websocket_upgrade(request):
            return await self.websocket.connect(request)
        return await self.pages.index(request)

    # -- lifecycle ---------------------------------------------------------------------

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
        # The public side binds first (it picks the port when 0); loopback then takes
        # the same port number, so one port serves both addresses.
        try:
            if self.public_host is not None:
                self.port = await self._serve(self.application(public=True), self.public_host)
            self.port = await self._serve(self.application(), self.host)
        except BaseException:
            for runner in self._runners:
                await runner.cleanup()
            self._runners.clear()
            raise
        self.identity.domain_name = f"{self.public_host or self.host}:{self.port}"

    async def _serve(self, app: web.Application, host: str) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        # SO_REUSEADDR: a restart binds over the last run's TIME_WAIT sockets at once,
        # while a socket that still listens on the port is refused (EADDRINUSE), as
        # before. Never SO_REUSEPORT, which would let two gateways share the port.
        site = web.TCPSite(
            runner, host, self.port, reuse_address=True, reuse_port=False, backlog=LISTEN_BACKLOG
        )
        await site.start()
        sockets = getattr(site, "_server").sockets  # noqa: B009 - aiohttp exposes no accessor
        return int(sockets[0].getsockname()[1])

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
        self._blocking.shutdown()
        self._loop = None
        self._thread = None

    async def _shutdown(self) -> None:
        await self.websocket.close_all()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (tests pass it to the runtime)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
