"""A standalone local Transcribe-streaming endpoint on its own thread (tests, benchmarks).

The local runtime's gateway mounts :func:`~polycast_kit.transcribe.route.transcribe_route`
on its own port; this serves the same handler alone on a loopback port, and hands
out presigned URLs for it signed by the runtime's signer with the dummy credentials.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

from aiohttp import web
from botocore.credentials import Credentials

from polycast.adapters.aws.transcribe_url import PATH, presign
from polycast_kit.transcribe.presigned import LocalCredentials
from polycast_kit.transcribe.route import (
    IDLE_TIMEOUT_SECONDS,
    Recognizer,
    RecognizerFactory,
    pocketsphinx_factory,
    transcribe_route,
)

# The local runtime's dummy credentials (kit/polycast_kit/local/runtime.py) and region.
LOCAL_CREDENTIALS = LocalCredentials("polycast-local", "polycast-local", "us-east-1")


@dataclass
class RecognizerServer:
    """``with RecognizerServer() as server: server.url()`` — port 0 picks a free one."""

    host: str = "127.0.0.1"
    port: int = 0
    credentials: LocalCredentials = LOCAL_CREDENTIALS
    recognizer_factory: RecognizerFactory = pocketsphinx_factory
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    finished: list[Recognizer] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def url(
        self,
        *,
        sample_rate: int = 16000,
        language_code: str = "en-US",
        expires_in: int = 300,
        stability: str = "high",
    ) -> str:
        creds = Credentials(self.credentials.access_key, self.credentials.secret_key)
        return presign(
            creds,
            self.credentials.region,
            language_code,
            sample_rate,
            expires_in=expires_in,
            endpoint=self.endpoint,
            stability=stability,
        ).url

    def start(self) -> RecognizerServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            loop.close()

        self._thread = threading.Thread(target=serve, name="transcribe-endpoint", daemon=True)
        self._thread.start()
        ready.wait(timeout=30)
        if failure:
            raise RuntimeError(f"the recognizer endpoint did not start: {failure[0]}")
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get(
            PATH,
            transcribe_route(
                self.credentials,
                recognizer_factory=self.recognizer_factory,
                clock=self.clock,
                idle_timeout=self.idle_timeout,
                on_stream_end=self.finished.append,
            ),
        )
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site, "_server").sockets  # noqa: B009 - aiohttp exposes no accessor
        self.port = int(sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            self._loop = None

    def __enter__(self) -> RecognizerServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
