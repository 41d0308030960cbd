"""``polycast listen`` against a real WebSocket server that drops the first connection:
it says so, reconnects with catchUp from the last sentence heard, shows the waiting,
pause, resume and end notices; ``--no-reconnect`` exits with the reason instead."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from polycast import schemas
from polycast_kit.cli import listen as listen_cmd


def segment(sequence: int) -> dict[str, Any]:
    return {
        "type": "segment",
        "sessionId": "golden-eagle-427",
        "sequence": sequence,
        "language": "es",
        "text": f"Frase {sequence}.",
        "sourceText": f"Sentence {sequence}.",
        "audio": None,
    }


WAITING = {
    "type": "sessionWaiting",
    "sessionId": "golden-eagle-427",
    "sourceLanguage": "en",
    "message": "waiting for the speaker",
}


def partial(sequence: int, text: str) -> dict[str, Any]:
    return {
        "type": "partial",
        "sessionId": "golden-eagle-427",
        "sequence": sequence,
        "language": "es",
        "text": text,
    }


SECOND_CONNECTION = [
    segment(1),  # resent by the catch-up: shown once
    partial(1, "Frase"),  # its segment is here already: not shown
    partial(2, "Fra"),
    partial(2, "Frase dos,"),
    segment(2),
    partial(2, "Frase dos, tarde"),  # after its segment: not shown
    {"type": "sessionPaused", "sessionId": "golden-eagle-427", "reason": "coffee"},
    {"type": "sessionResumed", "sessionId": "golden-eagle-427"},
    segment(3),
    {"type": "sessionEnded", "sessionId": "golden-eagle-427", "reason": "ended by speaker"},
]


class DroppingServer:
    """First connection: waiting notice, one segment, then closed (1012, restart)."""

    def __init__(self) -> None:
        self.connections = 0
        self.received: list[dict[str, Any]] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def handler(self, connection: ServerConnection) -> None:
        self.connections += 1
        if self.connections == 1:
            for message in (WAITING, segment(1)):
                await connection.send(json.dumps(message))
            await connection.close(1012, "runtime restarting")
            return
        self.received.append(json.loads(await connection.recv()))
        for message in SECOND_CONNECTION:
            await connection.send(json.dumps(message))
        await connection.wait_closed()

    def run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = self._loop.create_future()
            async with serve(self.handler, "127.0.0.1", 0) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self._ready.set()
                await self._stop

        asyncio.run(main())

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set_result, None)


@pytest.fixture
def server() -> Iterator[DroppingServer]:
    running = DroppingServer()
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert running._ready.wait(10), "the test WebSocket server did not start"
    yield running
    running.stop()
    thread.join(10)


def _args(server: DroppingServer, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    listen_cmd.register(sub)
    url = f"ws://127.0.0.1:{server.port}"
    return parser.parse_args(
        [
            "listen",
            "--url",
            url,
            "--session",
            "golden-eagle-427",
            "--language",
            "es",
            "--timeout",
            "20",
            *extra,
        ]
    )


def test_a_closed_connection_is_reported_and_reopened_with_catch_up(
    server: DroppingServer,
) -> None:
    for message in (WAITING, *SECOND_CONNECTION):
        schemas.validate(f"messages/{message['type']}", message)
    out = io.StringIO()
    assert listen_cmd.run(_args(server), out) == 0
    text = out.getvalue()
    assert "waiting for the speaker" in text
    assert "connection closed: closed by the server (1012: runtime restarting)" in text
    assert "reconnecting" in text
    assert server.received == [{"action": "catchUp", "fromSequence": 1}]
    assert [line.split()[0] for line in text.splitlines() if line.startswith("#")] == [
        "#1",
        "#2",
        "#3",
    ]
    assert "paused by the speaker: coffee" in text
    assert "resumed" in text
    assert text.rstrip().endswith("session ended")
    # The live line, provisional ("~"), before its sentence; never a stale one.
    live = [line for line in text.splitlines() if line.startswith("~")]
    assert live == ["~ #2    Fra", "~ #2    Frase dos,"]
    assert text.index("~ #2    Frase dos,") < text.index("#2    Frase 2.")


def test_no_reconnect_says_the_connection_closed_and_exits(server: DroppingServer) -> None:
    out = io.StringIO()
    assert listen_cmd.run(_args(server, "--no-reconnect"), out) == 1
    assert "connection closed: closed by the server (1012" in out.getvalue()
    assert server.connections == 1


def test_a_url_that_is_neither_websocket_nor_page_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser()
    listen_cmd.register(parser.add_subparsers())
    args = parser.parse_args(
        ["listen", "--url", "ftp://example/", "--session", "a-b-1", "--language", "es"]
    )
    assert listen_cmd.run(args) == 2
    err = capsys.readouterr().err
    assert "give the WebSocket URL" in err
    assert len(err.strip().splitlines()) == 1
