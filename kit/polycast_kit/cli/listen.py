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
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from websockets.exceptions import InvalidURI

from polycast_kit.cli.endpoints import read_local_state
from polycast_kit.cli.listener_client import (
    ConnectRefused,
    Listener,
    ReceivedSegment,
    fetch_audio,
    listen,
    listener_url,
)

__all__ = [
    "ConnectRefused",
    "Listener",
    "ReceivedSegment",
    "fetch_audio",
    "listen",
    "listener_url",
    "register",
    "run",
]

JOIN_CODE_ENV = "POLYCAST_JOIN_CODE"
# Refusals a reconnect cannot cure: the first one is final.
FINAL_REFUSALS = (
    "SESSION_NOT_FOUND",
    "SESSION_ENDED",
    "BAD_REQUEST",
    "JOIN_CODE_REQUIRED",
    "JOIN_CODE_INVALID",
)


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
