"""``polycast listen --join-code`` against a real WebSocket server that refuses the
upgrade as the gateway does (401 JOIN_CODE_REQUIRED, 403 JOIN_CODE_INVALID, with a
``{"code","message"}`` body) unless the connect's ``joinCode`` matches. The code is
sent the way the listener page sends it and never printed."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from polycast_kit.cli import listen as listen_cmd

CODE = "harbor-7"
SESSION = "quiet-otter-202"


class ProtectedServer:
    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def check(self, connection: ServerConnection, request: Request) -> Response | None:
        query = parse_qs(urlsplit(request.path).query)
        self.queries.append(query)
        given = query.get("joinCode", [""])[0]
        if not given:
            body = {"code": "JOIN_CODE_REQUIRED", "message": "this session needs a join code"}
            status = HTTPStatus.UNAUTHORIZED
        elif given != CODE:
            body, status = (
                {"code": "JOIN_CODE_INVALID", "message": "wrong join code"},
                (HTTPStatus.FORBIDDEN),
            )
        else:
            return None
        response = connection.respond(status, json.dumps(body))
        response.headers["Content-Type"] = "application/json"
        return response

    async def handler(self, connection: ServerConnection) -> None:
        frames: list[dict[str, Any]] = [
            {
                "type": "segment",
                "sessionId": SESSION,
                "sequence": 1,
                "language": "es",
                "text": "Hola a todos.",
                "sourceText": "Hello everyone.",
                "audio": None,
            },
            {"type": "sessionEnded", "sessionId": SESSION},
        ]
        for frame in frames:
            await connection.send(json.dumps(frame))
        await connection.wait_closed()

    def run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = self._loop.create_future()
            async with serve(self.handler, "127.0.0.1", 0, process_request=self.check) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self._ready.set()
                await self._stop

        asyncio.run(main())

    def start(self) -> None:
        threading.Thread(target=self.run, daemon=True).start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)


@pytest.fixture
def server() -> Iterator[ProtectedServer]:
    running = ProtectedServer()
    running.start()
    yield running
    running.stop()


def run_listen(
    server: ProtectedServer, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    listen_cmd.register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "listen",
            "--url",
            f"ws://127.0.0.1:{server.port}",
            "--session",
            SESSION,
            "--language",
            "es",
            "--timeout",
            "20",
            *extra,
        ]
    )
    out = io.StringIO()
    code = args.run(args, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def test_the_join_code_opens_a_protected_session(
    server: ProtectedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(listen_cmd.JOIN_CODE_ENV, raising=False)
    code, out, err = run_listen(server, "--join-code", CODE, capsys=capsys)
    assert code == 0, err
    assert "#1    Hola a todos." in out
    assert "session ended" in out
    assert server.queries[-1]["joinCode"] == [CODE]
    assert CODE not in out + err


def test_the_code_may_come_from_the_environment(
    server: ProtectedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(listen_cmd.JOIN_CODE_ENV, CODE)
    code, out, err = run_listen(server, capsys=capsys)
    assert code == 0, err
    assert "#1    Hola a todos." in out


def test_a_missing_or_wrong_code_is_one_clear_line_and_not_retried(
    server: ProtectedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(listen_cmd.JOIN_CODE_ENV, raising=False)
    code, _, err = run_listen(server, capsys=capsys)
    assert code == 1
    assert err.strip() == (
        "polycast listen: connection refused: 401 JOIN_CODE_REQUIRED this session needs a "
        f"join code (pass --join-code CODE, or set {listen_cmd.JOIN_CODE_ENV})"
    )
    code, _, err = run_listen(server, "--join-code", "guess", capsys=capsys)
    assert code == 1
    assert "403 JOIN_CODE_INVALID wrong join code (check the code with the organizer)" in err
    assert "guess" not in err
    assert len(server.queries) == 2  # neither refusal was retried
