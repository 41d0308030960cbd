"""Embedded AWS: a moto server on a loopback port, in a thread of this process.

``EmbeddedAws.observe`` lets the runtime hear that moto accepted a request
(``PutRecord(s)``, ``PutEvents``): what a poller would otherwise find out on its
next poll, it learns the moment the data is in moto. Only the waiting changes;
the data still goes through moto's own APIs.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.server import (  # type: ignore[attr-defined]
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

LISTEN_BACKLOG = 1024  # capped by net.core.somaxconn

log = logging.getLogger("polycast.local.aws")

KINESIS_PUTS = ("Kinesis_20131202.PutRecord", "Kinesis_20131202.PutRecords")
EVENTS_PUT = ("AWSEvents.PutEvents",)


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


def operation_of(environ: dict[str, Any]) -> str | None:
    """``Prefix.Operation`` of an AWS JSON (``X-Amz-Target``) or RPC v2 CBOR request."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target)
    parts = str(environ.get("PATH_INFO", "")).strip("/").split("/")
    if len(parts) == 4 and parts[0] == "service" and parts[2] == "operation":
        return f"{parts[1]}.{parts[3]}"
    return None


class _CachedDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, with the service lookup remembered per host.

    For every request moto resolves the inferred host ("dynamodb",
    "kinesis.us-east-1.amazonaws.com", ...) to a backend by listing its own package
    folder (``list_of_moto_modules``: ~200 ``isdir`` calls) and then trying every
    URL pattern, all under one lock every request shares. The answer depends on
    the host string alone and the folder does not change while we run, so the
    first answer per host is kept.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        try:
            return self._backends[host]
        except KeyError:
            backend = self._backends[host] = super().get_backend_for_host(host)
            return backend


class RequestObserver:
    """Calls the subscribers of an operation once moto has answered it with a 2xx.

    moto handles a request completely before its WSGI app returns, so a
    subscriber called then finds the effect of the request in moto's state.
    Subscribers must be quick (set an event); they run on moto's request thread.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._subscribers: dict[str, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()

    def subscribe(self, operations: Iterable[str], callback: Callable[[], None]) -> None:
        with self._lock:
            for operation in operations:
                # Copy on write: requests read the lists without the lock.
                self._subscribers[operation] = [*self._subscribers.get(operation, []), callback]

    def unsubscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._subscribers = {
                op: [cb for cb in cbs if cb is not callback]
                for op, cbs in self._subscribers.items()
            }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        operation = operation_of(environ)
        callbacks = self._subscribers.get(operation or "")
        if not callbacks:
            return self.app(environ, start_response)
        statuses: list[str] = []

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if statuses and statuses[-1].startswith("2"):
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("a subscriber of %s failed", operation)
        return body


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
        self.requests: RequestObserver | None = None

    def observe(self, operations: Iterable[str], callback: Callable[[], None]) -> None:
        """Call ``callback`` after moto accepts one of ``operations`` (after ``start``).

        Operations are named as in ``X-Amz-Target``: ``Kinesis_20131202.PutRecords``.
        """
        if self.requests is None:
            raise RuntimeError("the embedded AWS is not started")
        self.requests.subscribe(operations, callback)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # moto keeps its state per process, shared by every server in it.
    _live = 0
    _live_lock = threading.Lock()

    def start(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        from polycast_kit.local.moto_dynamodb import (
            plain_json_dynamodb_answers,
            serialize_dynamodb_writes,
        )
        from polycast_kit.local.moto_events import cache_event_paths
        from polycast_kit.local.moto_names import cache_name_conversions

        # Real DynamoDB is atomic per item and per transaction; moto is not across
        # threads, and the gateway runs connection handlers concurrently.
        serialize_dynamodb_writes()
        # Plain DynamoDB answers skip moto's shape walk (half its DynamoDB CPU).
        plain_json_dynamodb_answers()
        # EventBridge requests run one at a time (below): each must be quick.
        cache_event_paths()
        # moto converts the same few hundred names on every SQS request.
        cache_name_conversions()

        with EmbeddedAws._live_lock:
            if EmbeddedAws._live == 0:
                # The first server in the process starts from empty backends.
                moto_api_backend.reset()
        self.requests = RequestObserver(_SerializedEvents(_CachedDispatcher(create_backend_app)))
        app = self.requests
        # Bind here: werkzeug's own bind prints and calls sys.exit() on a busy port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            # Every function's SDK calls connect here; a burst of new connections
            # (hundreds of listeners joining) must not overflow the accept queue,
            # whose dropped SYNs come back a second later, past a 1 s connect timeout.
            sock.listen(LISTEN_BACKLOG)
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
