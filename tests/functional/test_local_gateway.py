"""The local gateway on its own, with a tiny route function: binding and restarts,
the session check, the pages, and routes mounted by the runtime.

The runtime-level behaviour (``$connect`` refusals, ``@connections`` through boto3,
the Kinesis path) is in ``test_local_runtime.py``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from aiohttp import web

from polycast import wiring
from polycast_kit.local.gateway import WebSocketGateway, free_port
from tests.functional.raw_websocket import stop_with_a_listener_connected, time_wait_on


def route_function(event: dict[str, Any]) -> dict[str, Any]:
    """Admits every listener with a sessionId; the session check answers like $connect."""
    context = event["requestContext"]
    params = event.get("queryStringParameters") or {}
    if context["routeKey"] == wiring.SESSION_CHECK_ROUTE.route_key:
        session_id = event["pathParameters"]["sessionId"]
        if session_id == "nope":
            body = {"code": "SESSION_NOT_FOUND", "message": "no such session"}
            return {"statusCode": 404, "body": json.dumps(body)}
        return {"statusCode": 200, "body": json.dumps({"ok": True, "sessionId": session_id})}
    if context["routeKey"] == "$connect" and "sessionId" not in params:
        return {"statusCode": 400, "body": json.dumps({"code": "MISSING_FIELD"})}
    return {"statusCode": 200}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[WebSocketGateway]:
    running = WebSocketGateway(route_function, port=0, web_root=tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def fetch(url: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_restarts_at_once_on_the_same_port_after_stopping_with_a_listener(
    tmp_path: Path,
) -> None:
    port = free_port()
    first = WebSocketGateway(route_function, port=port, web_root=tmp_path)
    first.start()
    stop_with_a_listener_connected(first.host, first.port, first.stop)
    assert time_wait_on(port), "the scenario must leave a TIME_WAIT socket on the port"

    second = WebSocketGateway(route_function, port=port, web_root=tmp_path)
    second.start()  # raised EADDRINUSE for about a minute before
    try:
        assert second.port == port
        status, _, _ = fetch(f"{second.http_url}/sessions/s-1")
        assert status == 200
    finally:
        second.stop()


def test_a_second_gateway_on_a_listening_port_is_refused(gateway: WebSocketGateway) -> None:
    second = WebSocketGateway(route_function, port=gateway.port)
    with pytest.raises(OSError) as info:
        second.start()
    assert info.value.errno == errno.EADDRINUSE
    # The first one still serves.
    assert fetch(f"{gateway.http_url}/sessions/s-1")[0] == 200


def test_a_listening_socket_of_another_program_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        gateway = WebSocketGateway(route_function, port=other.getsockname()[1])
        with pytest.raises(OSError) as info:
            gateway.start()
    assert info.value.errno == errno.EADDRINUSE


def test_the_session_check_answers_get_and_head_without_caching(
    gateway: WebSocketGateway,
) -> None:
    status, body, headers = fetch(f"{gateway.http_url}/sessions/s-1?targetLanguage=es")
    assert (status, json.loads(body)) == (200, {"ok": True, "sessionId": "s-1"})
    assert headers["Cache-Control"] == "no-store"
    status, body, headers = fetch(f"{gateway.http_url}/sessions/s-1", method="HEAD")
    assert (status, body, headers["Cache-Control"]) == (200, b"", "no-store")
    status, body, headers = fetch(f"{gateway.http_url}/sessions/nope")
    assert (status, json.loads(body)["code"]) == (404, "SESSION_NOT_FOUND")
    assert headers["Content-Type"].startswith("application/json")
    status, _, headers = fetch(f"{gateway.http_url}/sessions/s-1", method="POST")
    assert status == 405
    assert set(headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert fetch(f"{gateway.http_url}/sessions/s-1/more")[0] == 404


def test_pages_come_from_the_web_folder(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>listener</title>")
    (tmp_path / "app.js").write_text("export const x = 1;")
    gateway = WebSocketGateway(
        route_function, port=0, web_root=tmp_path, config=lambda: {"websocketUrl": "ws://x"}
    )
    gateway.start()
    try:
        status, body, headers = fetch(f"{gateway.http_url}/")
        assert (status, body) == (200, b"<!doctype html><title>listener</title>")
        assert headers["Content-Type"].startswith("text/html")
        status, body, headers = fetch(f"{gateway.http_url}/app.js")
        assert (status, body) == (200, b"export const x = 1;")
        assert "javascript" in headers["Content-Type"]
        assert fetch(f"{gateway.http_url}/app.js", method="HEAD")[0] == 200
        status, body, _ = fetch(f"{gateway.http_url}/config.json")
        assert (status, json.loads(body)) == (200, {"websocketUrl": "ws://x"})
        assert fetch(f"{gateway.http_url}/missing.js")[0] == 404
        assert fetch(f"{gateway.http_url}/%2e%2e/%2e%2e/etc/passwd")[0] == 404
        assert fetch(f"{gateway.http_url}/app.js", method="POST")[0] == 405
        assert fetch(f"{gateway.http_url}/audio/audio/s-1/es/1.mp3")[0] == 404  # no reader
    finally:
        gateway.stop()


def test_without_a_page_a_placeholder_is_served(gateway: WebSocketGateway) -> None:
    status, body, headers = fetch(f"{gateway.http_url}/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"/config.json" in body


def test_audio_is_read_through_the_reader(tmp_path: Path) -> None:
    store = {"audio/s-1/es/1.mp3": b"ID3mp3"}
    gateway = WebSocketGateway(route_function, port=0, web_root=tmp_path, read_audio=store.get)
    gateway.start()
    try:
        status, body, headers = fetch(f"{gateway.http_url}/audio/audio/s-1/es/1.mp3")
        assert (status, body, headers["Content-Type"]) == (200, b"ID3mp3", "audio/mpeg")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert fetch(f"{gateway.http_url}/audio/audio/s-1/es/2.mp3")[0] == 404
        assert fetch(f"{gateway.http_url}/audio/audio/../s-1/es/1.mp3")[0] == 404
    finally:
        gateway.stop()


def test_the_connections_api_answers_gone_for_unknown_ids_with_or_without_a_stage(
    gateway: WebSocketGateway,
) -> None:
    for path in ("/@connections/bm90LWEtY29ubmVjdGlvbg%3D", "/local/@connections/abc"):
        for method in ("POST", "GET", "DELETE"):
            status, _, headers = fetch(gateway.http_url + path, method=method)
            assert (status, headers["x-amzn-ErrorType"]) == (410, "GoneException"), path


def test_the_runtime_mounts_routes_and_sub_applications_beside_the_gateway(
    tmp_path: Path,
) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": request.match_info["name"]})

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data.upper())
        return ws

    speaker = web.Application()
    speaker.router.add_get("/{name}", hello)
    (tmp_path / "index.html").write_text("page")
    gateway = WebSocketGateway(
        route_function,
        port=0,
        web_root=tmp_path,
        extra_routes=[web.get("/hello/{name}", hello), web.get("/echo", echo)],
        sub_apps={"/speaker": speaker},
    )
    gateway.start()
    try:
        assert fetch(f"{gateway.http_url}/hello/you")[1] == b'{"hello": "you"}'
        assert fetch(f"{gateway.http_url}/speaker/status")[1] == b'{"hello": "status"}'
        assert fetch(f"{gateway.http_url}/")[1] == b"page"  # the page is still there

        async def talk() -> str:
            async with websockets.connect(f"{gateway.websocket_url}/echo") as ws:
                await ws.send("abc")
                return str(await asyncio.wait_for(ws.recv(), 10))

        assert asyncio.run(talk()) == "ABC"
    finally:
        gateway.stop()


def test_no_compression_is_negotiated_as_on_api_gateway(gateway: WebSocketGateway) -> None:
    """API Gateway's WebSocket APIs negotiate no permessage-deflate, so neither does the
    gateway: a client that offers it (websockets does by default) gets plain frames."""

    async def offered_and_answered() -> tuple[str | None, str | None]:
        url = f"{gateway.websocket_url}/?sessionId=plain-frames-1"
        async with websockets.connect(url, open_timeout=10) as ws:
            assert ws.request is not None
            assert ws.response is not None
            return (
                ws.request.headers.get("Sec-WebSocket-Extensions"),
                ws.response.headers.get("Sec-WebSocket-Extensions"),
            )

    offered, answered = asyncio.run(offered_and_answered())
    assert offered is not None
    assert "permessage-deflate" in offered
    assert answered is None
