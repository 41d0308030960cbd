"""``WebSocketGateway``: the gateway's aiohttp application on its own event loop thread.

The application is composed from one module per concern — the WebSocket API, the
``@connections`` API, the session check, the pages — on aiohttp's router. A later
feature mounts its own routes or sub-applications beside them (``extra_routes``,
``sub_apps``), served on the same port and loop; the static files stay the fallback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from polycast import wiring
from polycast_kit.local.gateway.connection import GatewayConnection
from polycast_kit.local.gateway.connections_api import ConnectionsApi
from polycast_kit.local.gateway.events import ApiIdentity, WebSocketEvents
from polycast_kit.local.gateway.functions import BlockingCalls, RouteFunction, RouteInvoker
from polycast_kit.local.gateway.pages import AudioReader, Pages
from polycast_kit.local.gateway.session_check import SessionCheck
from polycast_kit.local.gateway.websocket_api import (
    MAX_MESSAGE_BYTES,
    WebSocketApi,
    is_websocket_upgrade,
)

log = logging.getLogger("polycast.local.gateway")

ROUTE_KEYS: tuple[str, ...] = tuple(route.route_key for route in wiring.ROUTES)


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
    ) -> None:
        self.host = host
        self.port = port
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
        self.pages = Pages(self._blocking, web_root=web_root, config=config, read_audio=read_audio)
        self.extra_routes = list(extra_routes)
        self.sub_apps = dict(sub_apps or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

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

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES * 2)
        # "/" is both the WebSocket API's URL and the listener page.
        app.router.add_get("/", self._root)
        app.add_routes(self.connections_api.routes())
        app.add_routes(self.session_check.routes())
        app.add_routes(self.pages.routes())
        app.add_routes(self.extra_routes)
        for prefix, sub_app in self.sub_apps.items():
            app.add_subapp(prefix, sub_app)
        app.add_routes(self.pages.static_routes())
        return app

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
        self._runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await self._runner.setup()
        # SO_REUSEADDR: a restart binds over the last run's TIME_WAIT sockets at once,
        # while a socket that still listens on the port is refused (EADDRINUSE), as
        # before. Never SO_REUSEPORT, which would let two gateways share the port.
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True, reuse_port=False)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            raise
        sockets = getattr(site, "_server").sockets  # noqa: B009 - aiohttp exposes no accessor
        self.port = int(sockets[0].getsockname()[1])
        self.identity.domain_name = f"{self.host}:{self.port}"

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
        if self._runner is not None:
            await self._runner.cleanup()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (tests pass it to the runtime)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
