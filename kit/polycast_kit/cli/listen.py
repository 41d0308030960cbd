"""``polycast listen``: a listener in the terminal — captions as they arrive, MP3s on request.

Connects to ``<websocketUrl>/?sessionId=…&targetLanguage=…`` like the listener
page, reassembles audio sent in parts, fetches audio sent by reference, and exits
when the session ends. A refused connect prints the status and the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from polycast import wiring
from polycast_kit.cli.endpoints import read_local_state

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
    _parts: dict[int, dict[int, bytes]] = field(default_factory=dict)

    def accept(self, message: dict[str, Any]) -> ReceivedSegment | None:
        """Take one message; returns the segment when one is complete."""
        self.messages.append(message)
        kind = message.get("type")
        if kind == "sessionEnded":
            self.ended = True
            return None
        if kind != "segment":
            return None
        sequence = int(message["sequence"])
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


def listener_url(base: str, session_id: str, language: str) -> str:
    query = urlencode({"sessionId": session_id, "targetLanguage": language})
    return f"{base.rstrip('/')}/?{query}"


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
) -> Listener:
    """Listen until ``sessionEnded`` (or ``timeout`` seconds); raises ``ConnectRefused``.

    ``connected`` is set once the upgrade succeeded (tests start producing then).
    """
    listener = listener or Listener()
    try:
        connection = await websockets.connect(
            listener_url(url, session_id, language), max_size=None, open_timeout=30
        )
    except InvalidStatus as exc:
        body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
        raise ConnectRefused(exc.response.status_code, body) from exc
    if connected is not None:
        connected.set()

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
    except (TimeoutError, ConnectionClosed):
        pass
    finally:
        pinger.cancel()
        await connection.close()
    return listener


# -- command -------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "listen",
        help="listen to a session in the terminal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--session", required=True, help="session id")
    parser.add_argument("--language", required=True, help="target language code, e.g. es")
    parser.add_argument("--save-audio", type=Path, metavar="DIR", help="write each MP3 here")
    parser.add_argument("--url", help="WebSocket URL (default: the local runtime's)")
    parser.add_argument("--timeout", type=float, help="stop after this many seconds")
    parser.add_argument("--state-dir", type=Path, help="where local.json is (default .polycast)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    url = args.url
    if not url:
        state = read_local_state(args.state_dir)
        if state is None:
            print(
                "polycast listen: no --url and no local runtime (.polycast/local.json)",
                file=sys.stderr,
            )
            return 2
        url = state["websocketUrl"]
    save_dir: Path | None = args.save_audio
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)

    def show(segment: ReceivedSegment) -> None:
        note = ""
        if segment.audio is not None:
            note = f"  [{len(segment.audio) // 1024} KB audio]"
            if save_dir is not None:
                path = save_dir / f"{segment.sequence:05d}-{segment.language}.mp3"
                path.write_bytes(segment.audio)
                note = f"  [{path}]"
        print(f"#{segment.sequence:<4} {segment.text}{note}", file=out, flush=True)

    print(f"listening to {args.session} in {args.language} (Ctrl-C to stop)", file=out, flush=True)
    try:
        listener = asyncio.run(
            listen(url, args.session, args.language, on_segment=show, timeout=args.timeout)
        )
    except ConnectRefused as exc:
        print(f"polycast listen: connection refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"polycast listen: cannot connect to {url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if listener.ended:
        print("session ended", file=out)
    return 0
