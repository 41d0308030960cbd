"""A Transcribe streaming WebSocket client: PCM in, results out — for AWS and local alike.

It speaks the service's own protocol with a presigned URL (no SDK: the
``amazon-transcribe`` package is deprecated), sending ``AudioEvent`` frames of
``chunk_ms`` at real time (``fast`` sends as fast as the socket takes them) while a
second task reads ``TranscriptEvent`` frames, then an empty ``AudioEvent`` to end
the stream and waits for the last finals.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polycast_kit.transcribe import eventstream

CHUNK_MS = 100
BYTES_PER_MS = 32  # 16 kHz × 2 bytes
END_TIMEOUT_SECONDS = 60.0


class TranscribeError(Exception):
    """The endpoint answered with an exception frame (its type and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TranscribeRefused(Exception):
    """The upgrade was refused (HTTP status, and the endpoint's reason when it gave one)."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.code, self.reason = "", body
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                self.code = str(parsed.get("code", ""))
                self.reason = str(parsed.get("message", body))
        except ValueError:
            pass
        super().__init__(f"{status} {self.code} {self.reason}".replace("  ", " ").strip())

    @classmethod
    def of(cls, refused: InvalidStatus) -> TranscribeRefused:
        body = refused.response.body or b""
        return cls(refused.response.status_code, body.decode("utf-8", "replace"))


def transcript_results(message: str | bytes) -> list[dict[str, Any]]:
    """The results one message from the endpoint carries (none but a ``TranscriptEvent``'s);
    an exception frame, or a text frame, raises :class:`TranscribeError`."""
    if isinstance(message, str):
        raise TranscribeError("BadResponse", "the endpoint sent a text frame")
    frame = eventstream.decode(message)
    if frame.message_type == "exception":
        detail = frame.json() if frame.payload else {}
        raise TranscribeError(frame.exception_type, str(detail.get("Message", "")))
    if frame.event_type != "TranscriptEvent":
        return []
    results: list[dict[str, Any]] = frame.json()["Transcript"]["Results"]
    return results


@dataclass
class StreamOutcome:
    """Everything a stream returned, in order."""

    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # wall time from the first audio to the last result

    @property
    def finals(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r.get("IsPartial")]

    @property
    def partials(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("IsPartial")]

    def text(self) -> str:
        return " ".join(r["Alternatives"][0]["Transcript"] for r in self.finals).strip()


ResultCallback = Callable[[dict[str, Any]], None]


async def stream_pcm(
    url: str,
    pcm: bytes,
    *,
    fast: bool = False,
    chunk_ms: int = CHUNK_MS,
    on_result: ResultCallback | None = None,
    end_timeout: float = END_TIMEOUT_SECONDS,
) -> StreamOutcome:
    """Stream 16 kHz mono PCM to ``url``; every result goes to ``on_result`` as it comes."""
    outcome = StreamOutcome()
    chunk = chunk_ms * BYTES_PER_MS
    try:
        connection = await websockets.connect(url, max_size=2**22, open_timeout=10)
    except InvalidStatus as refused:
        raise TranscribeRefused.of(refused) from None
    began = time.monotonic()
    async with connection:

        async def send_audio() -> None:
            for index, offset in enumerate(range(0, len(pcm), chunk)):
                if not fast:
                    await asyncio.sleep(
                        max(0.0, began + index * chunk_ms / 1000 - time.monotonic())
                    )
                await connection.send(eventstream.audio_event(pcm[offset : offset + chunk]))
            await connection.send(eventstream.audio_event(b""))

        sender = asyncio.create_task(send_audio())
        try:
            async with asyncio.timeout(len(pcm) / (BYTES_PER_MS * 1000) + end_timeout):
                async for message in connection:
                    for result in transcript_results(message):
                        outcome.results.append(result)
                        if on_result is not None:
                            on_result(result)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender
    outcome.seconds = time.monotonic() - began
    return outcome
