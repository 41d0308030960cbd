"""The speaker's side of a session, in Python: the same protocol as the speaker page.

:class:`SpeakerChannel` is the session WebSocket
(``<websocketUrl>?sessionId=…&role=speaker&speakerKey=…``): it asks for the
recognition URL, sends each sentence as a ``transcript`` with the next ``sequence``
and keeps it until its ``ack``, sends paced ``partial`` captions while connected, and
after a dropped connection reconnects (backoff 0.5 s … 5 s) and resends every
unacknowledged sentence in order — the server acknowledges one it already has
without writing it twice, so nothing is lost or repeated.

:func:`speak` joins it to a recognition stream (:func:`stream_chunks`: PCM chunks in,
Transcribe results out) and cuts finals into sentences with their measured dynamics
(:mod:`polycast.domain.utterances`, :mod:`polycast.domain.delivery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polycast.domain.delivery import DeliveryMeter, pcm_slice
from polycast.domain.partial_pacing import PartialPacer
from polycast.domain.utterances import split_sentences, words_from_result
from polycast_kit.transcribe import eventstream
from polycast_kit.transcribe.client import TranscribeRefused, transcript_results

BYTES_PER_MS = 32
RECONNECT_DELAYS = (0.0, 0.5, 1.0, 2.0, 5.0)
ACK_WAIT_SECONDS = 30.0
RETRY_CODES = frozenset({"TRANSIENT", "THROTTLED", "INTERNAL_ERROR"})
# Refusals after which connecting again cannot help.
FINAL_REFUSALS = frozenset(
    {"SESSION_NOT_FOUND", "SESSION_ENDED", "SPEAKER_KEY_REQUIRED", "SPEAKER_KEY_INVALID"}
)
SPEAKER_CONNECTED_TRIES = 8  # a dropped connection's $disconnect may still be running


class SpeakerRefused(Exception):
    """The session refused the speaker connection (code and reason from the gateway)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class SessionOver(Exception):
    """The session ended while speaking."""


@dataclass
class ChannelStats:
    sent: int = 0
    acked: int = 0
    resent: int = 0
    partials: int = 0
    reconnects: int = 0
    refused: dict[int, str] = field(default_factory=dict)


def speaker_socket_url(websocket_url: str, session_id: str, key: str) -> str:
    query = urlencode({"sessionId": session_id, "role": "speaker", "speakerKey": key})
    return f"{websocket_url.rstrip('/')}/?{query}"


class SpeakerChannel:
    """The session WebSocket of one speaker (use ``async with``)."""

    def __init__(
        self,
        url: str,
        *,
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url = url
        self.on_message = on_message
        self.stats = ChannelStats()
        self.pending: dict[int, dict[str, Any]] = {}
        self.next_sequence = 1
        self.ended: str | None = None
        self._ws: ClientConnection | None = None
        self._live = asyncio.Event()
        self._closing = False
        self._runner: asyncio.Task[None] | None = None
        self._url_answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._settled = asyncio.Event()
        self._settled.set()

    async def __aenter__(self) -> SpeakerChannel:
        await self._connect(first=True)
        self._runner = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    @property
    def connection(self) -> ClientConnection | None:
        return self._ws

    async def _connect(self, *, first: bool = False) -> None:
        tries = 0
        while True:
            try:
                self._ws = await websockets.connect(self.url, open_timeout=10, max_size=2**20)
                break
            except InvalidStatus as refused:
                body = (refused.response.body or b"").decode("utf-8", "replace")
                code, reason = _reason(body)
                tries += 1
                if code == "SPEAKER_CONNECTED" and not first and tries < SPEAKER_CONNECTED_TRIES:
                    await asyncio.sleep(0.5)
                    continue
                raise SpeakerRefused(refused.response.status_code, code, reason) from None
        self._live.set()
        for sentence in list(self.pending.values()):  # resend in order (dicts keep order)
            self.stats.resent += 1
            await self._send(sentence)

    async def _run(self) -> None:
        while not self._closing:
            assert self._ws is not None
            try:
                async for raw in self._ws:
                    self._receive(json.loads(raw))
            except ConnectionClosed:
                pass
            self._live.clear()
            if self._closing or self.ended:
                return
            for delay in RECONNECT_DELAYS:
                await asyncio.sleep(delay)
                try:
                    self.stats.reconnects += 1
                    await self._connect()
                    break
                except (OSError, TimeoutError):
                    continue
                except SpeakerRefused as refused:
                    if refused.code in FINAL_REFUSALS:
                        self.ended = refused.code
                        self._settled.set()
                        return

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        sequence = message.get("sequence")
        if kind == "ack" and isinstance(sequence, int):
            if self.pending.pop(sequence, None) is not None:
                self.stats.acked += 1
            if not self.pending:
                self._settled.set()
        elif kind == "transcribeUrl" or (
            kind == "error" and message.get("action") == "transcribeUrl"
        ):
            self._url_answers.put_nowait(message)
        elif kind == "error" and isinstance(sequence, int) and sequence in self.pending:
            if message.get("code") not in RETRY_CODES:
                self.stats.refused[sequence] = str(message.get("code"))
                self.pending.pop(sequence, None)
                if not self.pending:
                    self._settled.set()
        elif kind == "sessionEnded":
            self.ended = str(message.get("reason") or "ended")
            self._settled.set()
        if self.on_message is not None:
            self.on_message(message)

    async def _send(self, message: dict[str, Any]) -> bool:
        ws = self._ws
        if ws is None or not self._live.is_set():
            return False
        try:
            await ws.send(json.dumps(message))
        except ConnectionClosed:
            return False
        return True

    async def transcribe_url(self, language_code: str, sample_rate: int) -> dict[str, Any]:
        """The presigned recognition URL answer (``url``, ``expiresIn``, ``lastSequence``)."""
        await asyncio.wait_for(self._live.wait(), ACK_WAIT_SECONDS)
        request = {"action": "transcribeUrl", "languageCode": language_code}
        await self._send({**request, "sampleRate": sample_rate})
        answer = await asyncio.wait_for(self._url_answers.get(), ACK_WAIT_SECONDS)
        if answer.get("type") == "error":
            raise SpeakerRefused(400, str(answer.get("code")), str(answer.get("message")))
        last = answer.get("lastSequence")
        if isinstance(last, int) and last >= self.next_sequence:
            self.next_sequence = last + 1  # a session spoken to before continues its count
        return answer

    async def transcript(self, text: str, **fields: Any) -> int:
        """Send one sentence (kept until acknowledged); returns its sequence."""
        sequence = self.next_sequence
        self.next_sequence += 1
        message = {"action": "transcript", "sequence": sequence, "transcriptText": text}
        message.update(fields)
        self.pending[sequence] = message
        self._settled.clear()
        self.stats.sent += 1
        await self._send(message)
        return sequence

    async def partial(self, text: str, stable_text: str) -> bool:
        """A live caption for the sentence not ended yet; only while connected."""
        message = {"action": "partial", "sequence": self.next_sequence, "text": text}
        sent = await self._send({**message, "stableText": stable_text})
        self.stats.partials += int(sent)
        return sent

    async def settle(self, timeout: float = ACK_WAIT_SECONDS) -> bool:
        """Wait until every sentence is acknowledged (or refused); False on timeout."""
        try:
            await asyncio.wait_for(self._settled.wait(), timeout)
        except TimeoutError:
            return False
        return not self.pending


def _reason(body: str) -> tuple[str, str]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return "", body[:200]
    if isinstance(parsed, dict):
        return str(parsed.get("code", "")), str(parsed.get("message", ""))
    return "", body[:200]


async def file_chunks(pcm: bytes, *, fast: bool, chunk_ms: int = 100) -> AsyncIterator[bytes]:
    """A WAV's PCM as the microphone would give it: real time, or ``fast``."""
    began = time.monotonic()
    size = chunk_ms * BYTES_PER_MS
    for index, offset in enumerate(range(0, len(pcm), size)):
        if not fast:
            await asyncio.sleep(max(0.0, began + index * chunk_ms / 1000 - time.monotonic()))
        else:
            await asyncio.sleep(0)
        yield pcm[offset : offset + size]


async def stream_chunks(
    url: str,
    chunks: AsyncIterator[bytes],
    on_result: Callable[[dict[str, Any]], Any],
) -> None:
    """One recognition stream: chunks out as AudioEvents, results to ``on_result``
    (awaited when it returns an awaitable). Raises TranscribeRefused/TranscribeError."""
    try:
        connection = await websockets.connect(url, max_size=2**22, open_timeout=10)
    except InvalidStatus as refused:
        raise TranscribeRefused.of(refused) from None
    async with connection:

        async def send_audio() -> None:
            async for chunk in chunks:
                await connection.send(eventstream.audio_event(chunk))
            await connection.send(eventstream.audio_event(b""))

        sender = asyncio.create_task(send_audio())
        try:
            async for message in connection:
                for result in transcript_results(message):
                    outcome = on_result(result)
                    if asyncio.iscoroutine(outcome):
                        await outcome
                if sender.done() and sender.exception() is not None:
                    raise sender.exception()  # type: ignore[misc]
        except ConnectionClosed:
            pass
        finally:
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender


class SentenceCutter:
    """Results → partial captions (paced) and sentences with measured dynamics."""

    def __init__(
        self,
        channel: SpeakerChannel,
        printer: Callable[[str, str, dict[str, Any]], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.printer = printer
        self.clock = clock
        self.pcm = bytearray()
        self.meter = DeliveryMeter()
        self.pacer = PartialPacer()
        self.last_partial = ""
        self.finals: list[str] = []

    async def __call__(self, result: dict[str, Any]) -> None:
        alternative = (result.get("Alternatives") or [{}])[0]
        text = str(alternative.get("Transcript", ""))
        if result.get("IsPartial"):
            if not text or text == self.last_partial:
                return
            self.last_partial = text
            stable = " ".join(
                str(i["Content"]) for i in alternative.get("Items", []) if i.get("Stable")
            )
            self.printer("partial", text, {})
            if self.pacer.offer(self.channel.next_sequence, stable, self.clock()):
                await self.channel.partial(text, stable)
            return
        self.last_partial = ""
        if not text:
            return
        self.finals.append(text)
        for sentence in split_sentences(words_from_result(result)):
            audio = pcm_slice(bytes(self.pcm), sentence.start_ms, sentence.end_ms)
            dynamics = self.meter.measure(audio, sentence.rate_wpm).to_json()
            fields = {
                "emotionDynamics": dynamics,
                "startMs": sentence.start_ms,
                "endMs": sentence.end_ms,
            }
            sequence = await self.channel.transcript(sentence.text, **fields)
            self.printer("sentence", sentence.text, {"sequence": sequence, **fields})

    async def tap(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass chunks through, keeping the audio for the sentences' loudness."""
        async for chunk in chunks:
            self.pcm.extend(chunk)
            yield chunk
