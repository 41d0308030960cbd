"""``polycast listen``: a listener in the terminal — captions as they arrive, MP3s on request.

Connects to ``<websocketUrl>/?sessionId=…&targetLanguage=…`` like the listener
page, reassembles audio sent in parts, fetches audio sent by reference, and exits
when the session ends. A refused connect prints the status and the reason. Like the
page, a closed connection is reported and reopened with ``catchUp`` from the last
sentence heard (``--no-reconnect`` exits instead); waiting, pause, resume and end
notices are shown. ``--url`` takes the WebSocket URL or the listener page's URL
(its ``config.json`` names the WebSocket URL; its query may give session and
language). A session protected by a join code is heard with ``--join-code CODE``
(or ``POLYCAST_JOIN_CODE`` in the environment, which keeps it out of the shell's
history); the code travels as the page sends it, in the connect's ``joinCode``
query parameter, and is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from polycast import wiring
from polycast_kit.cli.endpoints import read_local_state

PING_EVERY_SECONDS = 240  # well inside API Gateway's 10-minute idle timeout
JOIN_CODE_ENV = "POLYCAST_JOIN_CODE"
# Refusals a reconnect cannot cure: the first one is final.
FINAL_REFUSALS = (
    "SESSION_NOT_FOUND",
    "SESSION_ENDED",
    "BAD_REQUEST",
    "JOIN_CODE_REQUIRED",
    "JOIN_CODE_INVALID",
)


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


# -- command -------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "listen",
        help="listen to a session in the terminal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--session", help="session id (or in the --url page's query)")
    parser.add_argument("--language", help="target language code, e.g. es (or in the query)")
    parser.add_argument(
        "--join-code",
        metavar="CODE",
        help=f"the session's join code, when it has one (or set {JOIN_CODE_ENV})",
    )
    parser.add_argument("--save-audio", type=Path, metavar="DIR", help="write each MP3 here")
    parser.add_argument(
        "--url", help="WebSocket URL or listener page URL (default: the local runtime's)"
    )
    parser.add_argument("--timeout", type=float, help="stop after this many seconds")
    parser.add_argument(
        "--no-reconnect", action="store_true", help="exit when the connection closes"
    )
    parser.add_argument("--state-dir", type=Path, help="where local.json is (default .polycast)")
    parser.set_defaults(run=run)


class UsageError(Exception):
    """What the command line got wrong: one line for the user."""


def websocket_url(
    given: str, fetch: Callable[[str], bytes] = fetch_audio
) -> tuple[str, dict[str, str]]:
    """(WebSocket URL, query parameters) from ``--url``: a ws(s) URL as it is, a page
    URL through the page's ``config.json``."""
    parts = urlsplit(given)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
    if parts.scheme in ("ws", "wss"):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--url {given!r}: give the WebSocket URL (ws://… or wss://…) or the listener "
            "page's URL (http://…/)"
        )
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rsplit("/", 1)[0] + "/", "", ""))
    try:
        config = json.loads(fetch(urljoin(base, "config.json")))
        return str(config["websocketUrl"]), query
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"--url {given!r} looks like a page, but its config.json names no websocketUrl "
            f"({type(exc).__name__}); give the WebSocket URL (ws://… or wss://…)"
        ) from exc


NOTICES: dict[str, Callable[[dict[str, Any]], str]] = {
    "sessionWaiting": lambda m: "waiting for the speaker…",
    "sessionPaused": lambda m: (
        "— paused by the speaker" + (f": {m['reason']}" if m.get("reason") else "")
    ),
    "sessionResumed": lambda m: "— resumed",
    "error": lambda m: f"error from the server: {m.get('code', '?')}: {m.get('message', '')}",
}


@dataclass(frozen=True)
class ListenTarget:
    url: str
    session: str
    language: str
    join_code: str | None = None


def _target(args: argparse.Namespace) -> ListenTarget:
    query: dict[str, str] = {}
    if args.url:
        url, query = websocket_url(args.url)
    else:
        state = read_local_state(args.state_dir)
        if state is None:
            raise UsageError(
                "no --url and no local runtime (.polycast/local.json): start `polycast local`, "
                "or pass --url with the WebSocket or listener page URL"
            )
        url = str(state["websocketUrl"])
    session = args.session or query.get("sessionId")
    language = args.language or query.get("targetLanguage")
    if not session or not language:
        raise UsageError("give --session and --language (or a page URL that carries them)")
    join_code = (
        getattr(args, "join_code", None) or os.environ.get(JOIN_CODE_ENV) or query.get("joinCode")
    )
    return ListenTarget(url, session, language, join_code or None)


async def follow(
    url: str,
    session: str,
    language: str,
    *,
    on_segment: Callable[[ReceivedSegment], None],
    say: Callable[[str], None],
    timeout: float | None,
    reconnect: bool,
    join_code: str | None = None,
) -> Listener:
    """Listen, and after a closed connection reconnect with catch-up (like the page)."""
    listener = Listener()
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    delay = 0.5
    first = True

    def on_message(message: dict[str, Any]) -> None:
        caption = listener.live(message)
        if caption is not None:  # provisional: the segment of this sequence follows
            say(f"~ #{caption[0]:<4} {caption[1]}")
            return
        notice = NOTICES.get(str(message.get("type")))
        if notice is not None:
            say(notice(message))

    while True:
        left = None if deadline is None else deadline - asyncio.get_running_loop().time()
        if left is not None and left <= 0:
            return listener
        try:
            await listen(
                url,
                session,
                language,
                on_segment=on_segment,
                on_message=on_message,
                timeout=left,
                listener=listener,
                catch_up_from=None if first else (listener.last_sequence or 0),
                join_code=join_code,
            )
            delay = 0.5
        except ConnectRefused as exc:
            if first or exc.code in FINAL_REFUSALS:
                raise
            listener.closed = f"refused ({exc})"
        except OSError as exc:
            if first:
                raise
            listener.closed = f"cannot reconnect ({exc.strerror or exc})"
        first = False
        if listener.ended or listener.closed is None:
            return listener
        if not reconnect:
            say(f"connection closed: {listener.closed}")
            return listener
        say(f"connection closed: {listener.closed}; reconnecting in {delay:.0f} s…")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


def _join_code_hint(refused: ConnectRefused) -> str:
    if refused.code == "JOIN_CODE_REQUIRED":
        return f" (pass --join-code CODE, or set {JOIN_CODE_ENV})"
    if refused.code == "JOIN_CODE_INVALID":
        return " (check the code with the organizer)"
    return ""


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        target = _target(args)
    except UsageError as exc:
        print(f"polycast listen: {exc}", file=sys.stderr)
        return 2
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

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    say(f"listening to {target.session} in {target.language} (Ctrl-C to stop)")
    try:
        listener = asyncio.run(
            follow(
                target.url,
                target.session,
                target.language,
                on_segment=show,
                say=say,
                timeout=args.timeout,
                reconnect=not args.no_reconnect,
                join_code=target.join_code,
            )
        )
    except ConnectRefused as exc:
        print(f"polycast listen: connection refused: {exc}{_join_code_hint(exc)}", file=sys.stderr)
        return 1
    except (OSError, InvalidURI) as exc:
        print(f"polycast listen: cannot connect to {target.url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if listener.ended:
        say("session ended")
        return 0
    return 1 if listener.closed else 0
