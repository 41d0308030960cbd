"""Embedded AWS: a moto server on a loopback port, in a thread of this process."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from moto.server import (  # type: ignore[attr-defined]
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger("polycast.local.aws")


class _QuietRequestHandler(MotoRequestHandler):
    """moto logs every request to stderr; the runtime's own lines are what matter."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _SerializedEvents:
    """One EventBridge request at a time.

    moto's ``put_events`` iterates the bus's rules while ``put_rule`` or
    ``delete_rule`` (an ``events tail`` opening or closing its tap) may change
    them from another request thread: "OrderedDict mutated during iteration".
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("AWSEvents."):
            with self.lock:
                return self.app(environ, start_response)
        return self.app(environ, start_response)


class EmbeddedAws:
    """moto's server bound to ``host:port``; port 0 picks a free one.

    Unlike ``ThreadedMotoServer`` the socket is bound in ``start()`` itself, so a
    port already in use raises ``OSError`` there instead of hanging the caller.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # moto keeps its state per process, shared by every server in it.
    _live = 0
    _live_lock = threading.Lock()

    def start(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        from polycast_kit.local.moto_dynamodb import serialize_dynamodb_writes

        # Real DynamoDB is atomic per item and per transaction; moto is not across
        # threads, and the gateway runs connection handlers concurrently.
        serialize_dynamodb_writes()

        with EmbeddedAws._live_lock:
            if EmbeddedAws._live == 0:
                # The first server in the process starts from empty backends.
                moto_api_backend.reset()
        app = _SerializedEvents(DomainDispatcherApplication(create_backend_app))
        # Bind here: werkzeug's own bind prints and calls sys.exit() on a busy port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            self._server = make_server(
                self.host,
                self.port,
                app,
                threaded=True,
                request_handler=_QuietRequestHandler,
                fd=sock.fileno(),
            )
        finally:
            sock.close()  # the server holds its own duplicate of the socket
        self.port = int(self._server.server_address[1])
        with EmbeddedAws._live_lock:
            EmbeddedAws._live += 1
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )
        self._thread.start()
        log.info("moto server on %s", self.endpoint_url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with EmbeddedAws._live_lock:
                EmbeddedAws._live -= 1
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
