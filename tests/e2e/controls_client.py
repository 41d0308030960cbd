"""A WebSocket listener that sends actions, and the Sessions-table reads the controls'
end-to-end tests make (``test_local_controls.py``)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import websockets
from local_e2e_support import RunningRuntime, start_session

from polycast import schemas

WAIT = 60.0


class Client:
    """One WebSocket listener: every message kept (and validated), actions sent."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, runtime: RunningRuntime, session_id: str, language: str) -> Client:
        url = f"{runtime.ws_url}/?sessionId={session_id}&targetLanguage={language}"
        return cls(await websockets.connect(url, max_size=None))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                schemas.validate(f"messages/{message['type']}", message)
                self.messages.append(message)
                self._arrived.set()
        except websockets.exceptions.ConnectionClosed:
            pass

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def wait_for(
        self, accept: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.messages[seen:]:
                if accept(message):
                    return message
            seen = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0 or self._reader.done():
                raise AssertionError(f"no matching message; got {self.kinds()}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(left, 1.0))
            except TimeoutError:
                pass

    async def answer(self, action: dict[str, Any] | str) -> dict[str, Any]:
        """Send an action and return its answer (the next ack, pong or error)."""
        seen = len(self.messages)
        await self.send(action)
        return await self.wait_for(
            lambda m: m in self.messages[seen:] and m["type"] in ("ack", "pong", "error")
        )

    async def segment(self, sequence: int) -> dict[str, Any]:
        return await self.wait_for(lambda m: m["type"] == "segment" and m["sequence"] == sequence)

    def sequences(self) -> list[int]:
        return sorted({m["sequence"] for m in self.messages if m["type"] == "segment"})

    def kinds(self) -> list[str]:
        return [f"{m['type']}:{m.get('sequence', m.get('code', ''))}" for m in self.messages]

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


def transcript(session_id: str, sequence: int, text: str) -> dict[str, Any]:
    return {
        "type": "transcript",
        "sessionId": session_id,
        "sequence": sequence,
        "sourceLanguage": "en",
        "transcriptText": text,
    }


def new_session(runtime: RunningRuntime, name: str) -> str:
    session_id = f"e2e-{name}-{secrets.token_hex(3)}"
    start_session(runtime, session_id)
    return session_id


def session_item(runtime: RunningRuntime, session_id: str) -> dict[str, Any]:
    item: dict[str, Any] = runtime.client("dynamodb").get_item(
        TableName="polycast-sessions", Key={"sessionId": {"S": session_id}}, ConsistentRead=True
    )["Item"]
    return item


def counts(runtime: RunningRuntime, session_id: str) -> tuple[int, dict[str, int]]:
    item = session_item(runtime, session_id)
    per_language = {
        lang: int(v["N"]) for lang, v in (item.get("languageCounts", {}).get("M") or {}).items()
    }
    return int(item["listenerCount"]["N"]), {k: v for k, v in per_language.items() if v}


async def until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)
