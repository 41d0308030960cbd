"""The local Transcribe-streaming WebSocket endpoint: an aiohttp handler factory.

Mount it at ``/stream-transcription-websocket`` (``PATH``). Protocol, as Amazon
Transcribe's WebSocket API: a presigned GET upgrade (checked by
:mod:`polycast_kit.transcribe.presigned`; a bad or expired signature refuses the
upgrade with 403 and the reason as JSON), then binary event-stream frames —
``AudioEvent`` in (an empty one ends the stream), ``TranscriptEvent`` out, and an
exception frame (``BadRequestException`` …) followed by a close for bad input.
Decoding runs on a worker thread, one stream at a time per connection, so the
event loop (and the rest of the gateway) never waits for the recognizer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from polycast.adapters.aws.transcribe_url import PATH
from polycast_kit.transcribe import eventstream
from polycast_kit.transcribe.presigned import LocalCredentials, Refusal, StreamRequest, verify
from polycast_kit.transcribe.recognizer import (
    SAMPLE_RATE,
    PocketsphinxRecognizer,
    RecognizerUnavailable,
)

log = logging.getLogger("polycast.transcribe")

LANGUAGES: tuple[str, ...] = ("en-US",)  # the model shipped in pocketsphinx's wheel
MAX_AUDIO_EVENT_BYTES = 64 * 1024  # 2 s of 16 kHz PCM; clients send ~100 ms chunks
IDLE_TIMEOUT_SECONDS = 15.0  # Transcribe ends a stream that sends no audio for 15 s
__all__ = ["LANGUAGES", "PATH", "Recognizer", "transcribe_route"]


class Recognizer(Protocol):
    cpu_seconds: float
    decode_seconds: float

    @property
    def audio_seconds(self) -> float: ...

    def feed(self, pcm: bytes) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


RecognizerFactory = Callable[[StreamRequest], Recognizer]


def pocketsphinx_factory(stream: StreamRequest) -> Recognizer:
    return PocketsphinxRecognizer(stability=stream.stability)


def unsupported(stream: StreamRequest) -> str | None:
    """Why this endpoint cannot serve a correctly signed stream, or None."""
    if stream.media_encoding != "pcm":
        return f"media-encoding {stream.media_encoding} is not supported here; send pcm"
    if stream.sample_rate != SAMPLE_RATE:
        return (
            f"sample-rate {stream.sample_rate} is not supported by the local recognizer; "
            f"send {SAMPLE_RATE} Hz mono 16-bit PCM"
        )
    if stream.language_code not in LANGUAGES:
        return f"language-code {stream.language_code} is not supported here; use en-US"
    return None


def transcribe_route(
    credentials: LocalCredentials,
    *,
    recognizer_factory: RecognizerFactory = pocketsphinx_factory,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    on_stream_end: Callable[[Recognizer], None] | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler for the Transcribe streaming WebSocket protocol.

    ``on_stream_end`` receives each finished stream's recognizer (measurements).
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            stream = verify(request.path, request.query_string, headers, credentials, clock())
        except Refusal as refusal:
            log.warning("transcribe stream refused: %s %s", refusal.status, refusal.code)
            return web.json_response(refusal.body(), status=refusal.status)
        ws = web.WebSocketResponse(max_msg_size=MAX_AUDIO_EVENT_BYTES + 1024)
        if not ws.can_prepare(request).ok:
            return web.json_response(
                {"code": "BadRequestException", "message": "this endpoint speaks WebSocket"},
                status=426,
            )
        await ws.prepare(request)
        problem = unsupported(stream)
        if problem is not None:
            await _refuse(ws, "BadRequestException", problem)
            return ws
        loop = asyncio.get_running_loop()
        try:
            recognizer = await loop.run_in_executor(None, recognizer_factory, stream)
        except RecognizerUnavailable as missing:
            log.error("no recognizer: %s", missing)
            await _refuse(ws, "InternalFailureException", str(missing))
            return ws
        try:
            await _serve(ws, recognizer, idle_timeout)
        except Exception:
            log.exception("the recognizer failed")
            await _refuse(ws, "InternalFailureException", "the recognizer failed; try again")
        finally:
            if on_stream_end is not None:
                on_stream_end(recognizer)
        return ws

    return handler


async def _refuse(ws: web.WebSocketResponse, code: str, message: str) -> None:
    log.info("transcribe stream ended with %s", code)
    if not ws.closed:
        await ws.send_bytes(eventstream.exception(code, message))
        await ws.close(code=1008 if code == "BadRequestException" else 1011)


async def _send(ws: web.WebSocketResponse, events: list[dict[str, Any]]) -> None:
    for event in events:
        await ws.send_bytes(eventstream.json_event("TranscriptEvent", event))


async def _serve(ws: web.WebSocketResponse, recognizer: Recognizer, idle_timeout: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            message = await ws.receive(timeout=idle_timeout)
        except TimeoutError:
            await _refuse(
                ws,
                "BadRequestException",
                f"no new audio for {idle_timeout:g} seconds: the stream timed out",
            )
            return
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return  # the client went away without an end frame: nothing to answer
        if message.type == WSMsgType.ERROR:
            await _refuse(ws, "BadRequestException", "the frame is too large or malformed")
            return
        if message.type != WSMsgType.BINARY:
            await _refuse(ws, "BadRequestException", "send binary event-stream frames, not text")
            return
        try:
            frame = eventstream.decode(message.data)
        except eventstream.FrameError as error:
            await _refuse(ws, "BadRequestException", f"not an event-stream frame: {error}")
            return
        if frame.message_type != "event" or frame.event_type != "AudioEvent":
            await _refuse(
                ws,
                "BadRequestException",
                f"expected an AudioEvent, got {frame.message_type or '?'}"
                f"/{frame.event_type or '?'}",
            )
            return
        if len(frame.payload) > MAX_AUDIO_EVENT_BYTES:
            await _refuse(
                ws,
                "BadRequestException",
                f"an AudioEvent may carry at most {MAX_AUDIO_EVENT_BYTES} bytes",
            )
            return
        if not frame.payload:
            await _send(ws, await loop.run_in_executor(None, recognizer.finish))
            await ws.close()
            return
        await _send(ws, await loop.run_in_executor(None, recognizer.feed, frame.payload))
