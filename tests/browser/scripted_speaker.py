"""The speaker side of the scripted gateway: the speaker route and a scripted
Transcribe streaming endpoint, for the speaker page's browser tests.

What a real speaker handler does, reduced to what the page relies on (docs/speaker-page.md):

- ``<ws>?sessionId=…&role=speaker&speakerKey=…``: a wrong key, an unknown or ended
  session, or a second speaker is refused at the upgrade (and explained by the session
  check, ``GET /sessions/{id}?role=speaker&speakerKey=…``);
- ``transcribeUrl`` → ``{"type": "transcribeUrl", "url", "expiresIn"}`` (a URL of the
  endpoint below);
- ``transcript`` → ``{"type": "ack", "sequence"}``; a sequence it already has is
  acknowledged again and not recorded twice (what the real handler keeps: the last
  sequence acknowledged); ``hold_acks`` withholds the answers, as a connection that
  drops before they arrive would;
- ``partial`` is recorded, unanswered.

The Transcribe endpoint decodes every binary message with botocore's event-stream
parser, checks it is an ``AudioEvent``, and counts the PCM bytes with their arrival
times (the test computes the sample rate from them). A test answers with
``send_results`` (``TranscriptEvent`` frames) or ``send_exception``, framed by
``eventstream_golden``'s encoder written from the spec — deliberately not the kit's,
so the page's decoder is held to the format, not to our other implementation of it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from botocore.eventstream import EventStreamBuffer
from eventstream_golden import EXCEPTION, TRANSCRIPT, frame

TRANSCRIBE_PATH = "/stream-transcription-websocket"


def transcript_frame(results: list[dict[str, Any]]) -> bytes:
    return frame(TRANSCRIPT, json.dumps({"Transcript": {"Results": results}}).encode())


def exception_frame(code: str, message: str) -> bytes:
    headers = [(name, code if name == ":exception-type" else value) for name, value in EXCEPTION]
    return frame(headers, json.dumps({"Message": message}).encode())


def result(
    words: list[tuple[str, float, float]],
    *,
    partial: bool,
    stable: int = 0,
    result_id: str = "r1",
    end_mark: str = "",
) -> dict[str, Any]:
    """A Transcribe result from (word, start s, end s); the first ``stable`` words Stable."""
    items: list[dict[str, Any]] = []
    for index, (word, start, end) in enumerate(words):
        item: dict[str, Any] = {
            "StartTime": start,
            "EndTime": end,
            "Type": "pronunciation",
            "Content": word,
        }
        if partial:
            item["Stable"] = index < stable
        items.append(item)
    text = " ".join(w for w, _, _ in words)
    if end_mark:
        last = words[-1][2]
        items.append(
            {"StartTime": last, "EndTime": last, "Type": "punctuation", "Content": end_mark}
        )
        text += end_mark
    return {
        "ResultId": result_id,
        "StartTime": words[0][1],
        "EndTime": words[-1][2],
        "IsPartial": partial,
        "Alternatives": [{"Transcript": text, "Items": items}],
    }


@dataclass
class AudioStream:
    """One recognition stream as the endpoint saw it."""

    query: dict[str, str]
    frames: list[tuple[float, int]] = field(default_factory=list)  # (arrival, PCM bytes)
    ended: bool = False  # the empty AudioEvent arrived
    bad: list[str] = field(default_factory=list)  # anything that was not an AudioEvent

    @property
    def pcm_bytes(self) -> int:
        return sum(n for _, n in self.frames)

    def bytes_per_second(self, skip_seconds: float = 1.0) -> float:
        """PCM bytes per wall-clock second after the first ``skip_seconds`` (the audio
        queued while the stream opened arrives in a burst)."""
        if not self.frames:
            return 0.0
        start = self.frames[0][0] + skip_seconds
        window = [(t, n) for t, n in self.frames if t >= start]
        if len(window) < 2:
            return 0.0
        counted = sum(n for _, n in window[1:])
        return counted / (window[-1][0] - window[0][0])


@dataclass
class ScriptedSpeaker:
    speaker_key: str = "speaker-secret"
    hold_acks: bool = False
    offline: bool = False  # refuse speaker connections (the network is down)
    accepted: list[int] = field(default_factory=list)  # sequences recorded, in order
    received: list[dict[str, Any]] = field(default_factory=list)  # every speaker action
    streams: list[AudioStream] = field(default_factory=list)
    speaker_connects: int = 0

    def __post_init__(self) -> None:
        self._speaker: web.WebSocketResponse | None = None
        self._transcribe: list[web.WebSocketResponse] = []
        self._held: list[int] = []
        self.gateway: Any = None

    # -- what a test does -------------------------------------------------------------

    def actions(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.received if a.get("action") == name]

    def send_results(self, results: list[dict[str, Any]]) -> None:
        self.gateway._call(self._to_transcribe(transcript_frame(results)))

    def send_exception(self, code: str, message: str) -> None:
        self.gateway._call(self._to_transcribe(exception_frame(code, message), close=True))

    def say(self, message: dict[str, Any]) -> None:
        """Send a JSON message to the speaker's connection."""
        self.gateway._call(self._to_speaker(json.dumps(message)))

    def drop(self) -> None:
        """Close the speaker's connection from the server side."""
        self.gateway._call(self._drop())

    def release_acks(self) -> None:
        self.hold_acks = False
        self._held.clear()

    @property
    def connected(self) -> bool:
        return self._speaker is not None

    # -- server side --------------------------------------------------------------------

    def refusal(self, session: Any, params: Any) -> tuple[int, dict[str, str]] | None:
        session_id = params.get("sessionId", "")
        if session is None:
            return 404, {"code": "SESSION_NOT_FOUND", "message": f"no session {session_id!r}"}
        if session.ended:
            return 404, {"code": "SESSION_ENDED", "message": f"session {session_id!r} has ended"}
        if params.get("speakerKey") != self.speaker_key:
            return 403, {"code": "SPEAKER_KEY_INVALID", "message": "wrong speaker key"}
        return None

    async def connect(self, request: web.Request, session: Any) -> web.StreamResponse:
        refusal = self.refusal(session, request.query)
        if refusal:
            return web.json_response(refusal[1], status=refusal[0])
        if self.offline:
            return web.json_response({"message": "unavailable"}, status=503)
        if self._speaker is not None:
            return web.json_response(
                {"code": "SPEAKER_CONNECTED", "message": "a speaker is connected"}, status=409
            )
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._speaker = ws
        self.speaker_connects += 1
        port = request.url.port
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                body = json.loads(message.data)
                self.received.append(body)
                answer = self._answer(body, port)
                if answer is not None:
                    await ws.send_str(json.dumps(answer))
        finally:
            if self._speaker is ws:
                self._speaker = None
        return ws

    def _answer(self, body: dict[str, Any], port: int | None) -> dict[str, Any] | None:
        action = body.get("action")
        if action == "transcribeUrl":
            query = (
                f"language-code={body.get('languageCode')}&media-encoding=pcm"
                f"&sample-rate={body.get('sampleRate')}&X-Amz-Signature=scripted"
            )
            url = f"ws://127.0.0.1:{port}{TRANSCRIBE_PATH}?{query}"
            return {"type": "transcribeUrl", "url": url, "expiresIn": 300}
        if action == "transcript":
            sequence = int(body["sequence"])
            if sequence not in self.accepted:
                self.accepted.append(sequence)
            if self.hold_acks:
                self._held.append(sequence)
                return None
            return {"type": "ack", "sequence": sequence}
        if action == "ping":
            return {"type": "pong"}
        return None

    async def transcribe(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stream = AudioStream(query=dict(request.query))
        self.streams.append(stream)
        self._transcribe.append(ws)
        try:
            async for message in ws:
                if message.type != WSMsgType.BINARY:
                    stream.bad.append(f"a {message.type.name} message")
                    continue
                buffer = EventStreamBuffer()
                buffer.add_data(message.data)
                try:
                    frames: list[Any] = list(buffer)
                except Exception as exc:
                    stream.bad.append(f"not an event-stream frame: {exc}")
                    continue
                for frame in frames:
                    headers = dict(frame.headers)
                    if headers.get(":event-type") != "AudioEvent":
                        stream.bad.append(f"unexpected headers {headers}")
                        continue
                    if not frame.payload:
                        stream.ended = True
                        await ws.close()
                        break
                    stream.frames.append((time.monotonic(), len(frame.payload)))
        finally:
            if ws in self._transcribe:
                self._transcribe.remove(ws)
        return ws

    async def _to_transcribe(self, data: bytes, *, close: bool = False) -> None:
        for ws in list(self._transcribe):
            await ws.send_bytes(data)
            if close:
                await ws.close(code=1008)

    async def _to_speaker(self, text: str) -> None:
        if self._speaker is not None:
            await self._speaker.send_str(text)

    async def _drop(self) -> None:
        if self._speaker is not None:
            await self._speaker.close(message=b"closed by server")
