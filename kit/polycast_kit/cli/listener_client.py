"""The listener's side of the WebSocket API, for ``polycast listen`` and the tests:
connect as the listener page does (``sessionId``, ``targetLanguage``, ``joinCode``),
keep the connection alive, reassemble audio sent in parts, fetch audio sent by
reference, and stop at ``sessionEnded``. A refused upgrade raises ``ConnectRefused``
with the gateway's status and reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polycast import wiring

PING_EVERY_SECONDS = 240  # well inside API Gateway's 10-minute idle timeout


class ConnectRefused(Exception):
    """The gateway refused the upgrade: its status and the reason it gave."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        code, message = "", body
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                code = str(parsed.get("code", ""))
                message = str(parsed.get("message", body))
        except ValueError:
            pass
        self.code = code
        self.reason = message
        super().__init__(f"{status} {code} {message}".replace("  ", " ").strip())


@dataclass
class ReceivedSegment:
    sequence: int
    language: str
    text: str
    source_text: str
    audio: bytes | None
    audio_url: str | None = None


@dataclass
class Listener:
    """Collects one listener's messages; audio parts are joined before a segment is done."""

    segments: list[ReceivedSegment] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False
    # Why the last connection closed without the session ending (None: it did not).
    closed: str | None = None
    # Live captions shown, in arrival order: (sequence, text); stale ones are not.
    partials: list[tuple[int, str]] = field(default_factory=list)
    _parts: dict[int, dict[int, bytes]] = field(default_factory=dict)

    @property
    def last_sequence(self) -> int | None:
        return max((s.sequence for s in self.segments), default=None)

    def live(self, message: dict[str, Any]) -> tuple[int, str] | None:
        """A ``partial`` message worth showing: (sequence, text); None when its
        sentence's segment is already here (the page's rule too)."""
        if message.get("type") != "partial" or not isinstance(message.get("text"), str):
            return None
        sequence = int(message["sequence"])
        last = self.last_sequence
        if last is not None and sequence <= last:
            return None
        return sequence, str(message["text"])

    def accept(self, message: dict[str, Any]) -> ReceivedSegment | None:
        """Take one message; returns the segment when one is complete."""
        self.messages.append(message)
        kind = message.get("type")
        caption = self.live(message)
        if caption is not None:
            self.partials.append(caption)
            return None
        if kind == "sessionEnded":
            self.ended = True
            return None
        if kind != "segment":
            return None
        sequence = int(message["sequence"])
        if any(s.sequence == sequence for s in self.segments):
            return None  # resent by a catch-up after a reconnect
        audio = message.get("audio")
        data: bytes | None = None
        url: str | None = None
        if isinstance(audio, dict) and "data" in audio:
            piece = base64.b64decode(audio["data"])
            parts = int(message.get("parts", 1))
            if parts > 1:
                got = self._parts.setdefault(sequence, {})
                got[int(message["part"])] = piece
                if len(got) < parts:
                    return None
                data = b"".join(got[n] for n in sorted(got))
                del self._parts[sequence]
            else:
                data = piece
        elif isinstance(audio, dict) and "url" in audio:
            url = str(audio["url"])
        segment = ReceivedSegment(
            sequence=sequence,
            language=str(message.get("language", "")),
            text=str(message.get("text", "")),
            source_text=str(message.get("sourceText", "")),
            audio=data,
            audio_url=url,
        )
        self.segments.append(segment)
        return segment


def listener_url(base: str, session_id: str, language: str, join_code: str | None = None) -> str:
    """The connect URL, as the listener page builds it (``web/listening.js``)."""
    params = {"sessionId": session_id, "targetLanguage": language}
    if join_code:
        params["joinCode"] = join_code
    return f"{base.rstrip('/')}/?{urlencode(params)}"


def fetch_audio(url: str, timeout: float = 10) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError("audio url must be http(s)")
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked
        data: bytes = response.read()
        return data


async def listen(
    url: str,
    session_id: str,
    language: str,
    *,
    on_segment: Callable[[ReceivedSegment], None] | None = None,
    on_message: Callable[[dict[str, Any]], None] | None = None,
    timeout: float | None = None,
    listener: Listener | None = None,
    connected: asyncio.Event | None = None,
    catch_up_from: int | None = None,
    join_code: str | None = None,
) -> Listener:
    """Listen until ``sessionEnded``, ``timeout`` seconds, or the connection closes
    (``listener.closed`` says why); raises ``ConnectRefused``.

    ``connected`` is set once the upgrade succeeded (tests start producing then);
    ``catch_up_from`` asks for the segments after that sequence first.
    """
    listener = listener or Listener()
    listener.closed = None
    try:
        connection = await websockets.connect(
            listener_url(url, session_id, language, join_code), max_size=None, open_timeout=30
        )
    except InvalidStatus as exc:
        body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
        raise ConnectRefused(exc.response.status_code, body) from exc
    if connected is not None:
        connected.set()
    if catch_up_from is not None:
        await connection.send(json.dumps({"action": "catchUp", "fromSequence": catch_up_from}))

    async def keep_alive() -> None:
        while True:
            await asyncio.sleep(PING_EVERY_SECONDS)
            await connection.send(json.dumps({"action": wiring.Action.PING}))

    pinger = asyncio.create_task(keep_alive())

    async def receive() -> None:
        async for frame in connection:
            message = json.loads(frame)
            if on_message:
                on_message(message)
            segment = listener.accept(message)
            if segment is not None and segment.audio_url and segment.audio is None:
                try:
                    segment.audio = await asyncio.to_thread(fetch_audio, segment.audio_url)
                except (OSError, ValueError):
                    segment.audio = None
            if segment is not None and on_segment:
                on_segment(segment)
            if listener.ended:
                return

    try:
        await asyncio.wait_for(receive(), timeout)
        if not listener.ended:
            listener.closed = _closed_reason(connection.close_code, connection.close_reason)
    except TimeoutError:
        pass
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        listener.closed = _closed_reason(code, exc.rcvd.reason if exc.rcvd else "")
    finally:
        pinger.cancel()
        await connection.close()
    return listener


def _closed_reason(code: int | None, reason: str | None) -> str:
    if code is None:
        return "the connection dropped"
    return f"closed by the server ({code}{': ' + reason if reason else ''})"
