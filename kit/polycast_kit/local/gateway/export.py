"""A finished session's transcript over HTTP:
``GET /export?sessionId=…&language=…&format=txt|srt|vtt|json[&joinCode=…]``.

The listener page's "session ended" view links here. The records come from a
``TranscriptSource`` — the same reader ``polycast session export`` uses (the Segments
buffer while it lasts, then the bus's archive), handed to the gateway by whoever
starts it — and are written by the same pure writers (``polycast.domain.captions_export``).

Only for an ended session, and for a session with a join code only when the request
carries it (``joinCode`` in the query, as the session check and the WebSocket connect
take it, or an ``X-Join-Code`` header): a protected session's transcript never leaves
without its code. ``language`` may be the session's source language: the speaker's own
words. Refusals are ``{"code", "message"}`` with a 4xx status
(``schemas/http/export.json``); the query is never logged.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from aiohttp import web

from polycast.domain.captions_export import FORMATS, cues, render
from polycast.domain.languages import LANGUAGE_CODE
from polycast.domain.models import Session
from polycast.domain.session_ids import is_session_id
from polycast.services.connections import MAX_JOIN_CODE_CHARS, join_code_matches
from polycast_kit.local.gateway.functions import BlockingCalls

PATH = "/export"
JOIN_CODE_HEADER = "X-Join-Code"
CONTENT_TYPES = {
    "txt": "text/plain",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "json": "application/json",
}
# An ended session's transcript no longer changes once late deliveries are in: kept
# (for a few sessions) after this long, so repeated downloads replay no archive.
SETTLED_SECONDS = 60
CACHED_SESSIONS = 16

Details = Mapping[str, Sequence[Mapping[str, Any]]]


class TranscriptSource(Protocol):
    """Where a session and its ``SegmentReady`` details are read from."""

    def session(self, session_id: str) -> Session | None: ...

    def details(self, session: Session, languages: Sequence[str]) -> Details:
        """The details per language (languages without any are left out)."""
        ...


def session_languages(session: Session) -> list[str]:
    """Every language the session announced or anyone listened to."""
    return list(dict.fromkeys([*session.languages, *session.language_counts]))


class ExportRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return web.json_response(
            {"code": self.code, "message": self.message},
            status=self.status,
            headers={"Cache-Control": "no-store"},
        )


class TranscriptExport:
    """The ``/export`` route. ``source`` is asked on each request (None: not served)."""

    def __init__(
        self,
        blocking: BlockingCalls,
        source: Callable[[], TranscriptSource | None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.blocking = blocking
        self.source = source
        self.clock = clock
        self._cache: OrderedDict[str, Details] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.serve)]  # HEAD too

    async def serve(self, request: web.Request) -> web.StreamResponse:
        try:
            name, fmt, text = await self.blocking.run(
                self.transcript, dict(request.query), request.headers.get(JOIN_CODE_HEADER)
            )
        except ExportRefused as refused:
            return refused.response()
        return web.Response(
            text=text,
            content_type=CONTENT_TYPES[fmt],
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def transcript(self, query: Mapping[str, str], header_code: str | None) -> tuple[str, str, str]:
        """(file name, format, text), or raises ``ExportRefused`` with the reason."""
        session_id = query.get("sessionId", "")
        language = query.get("language", "")
        fmt = query.get("format", "vtt")
        if not session_id or not language:
            missing = "sessionId" if not session_id else "language"
            raise ExportRefused(400, "MISSING_FIELD", f"missing required field: {missing}")
        if not is_session_id(session_id):
            raise ExportRefused(400, "BAD_REQUEST", "sessionId is not a session id")
        if not LANGUAGE_CODE.match(language):
            raise ExportRefused(400, "UNSUPPORTED_LANGUAGE", "language is not a language code")
        if fmt not in FORMATS:
            raise ExportRefused(400, "BAD_REQUEST", f"format must be one of {', '.join(FORMATS)}")
        source = self.source()
        if source is None:
            raise ExportRefused(404, "EXPORT_UNAVAILABLE", "transcripts are not served here")
        session = source.session(session_id)
        if session is None:
            raise ExportRefused(404, "SESSION_NOT_FOUND", f"no session {session_id}")
        _check_join_code(session, query.get("joinCode") or header_code)
        if session.status != "ended":
            raise ExportRefused(
                409, "SESSION_NOT_ENDED", "the transcript is offered once the session has ended"
            )
        source_side = language == session.source_language
        details = self._details(source, session)
        found = details.get(language)
        if source_side and not found:
            found = next(iter(details.values()), None)
        if not found:
            raise ExportRefused(
                404, "NO_TRANSCRIPT", f"no transcript of {session_id} in {language} (any more)"
            )
        text = render(
            cues(found, source=source_side),
            fmt,
            session_id=session_id,
            language=language,
            source=source_side,
        )
        side = f"source-{language}" if source_side else language
        return f"{session_id}.{side}.{fmt}", fmt, text

    def _details(self, source: TranscriptSource, session: Session) -> Details:
        """Every language's details, read once at a time per session (a replay of the
        archive is slow), and kept once the session has settled."""
        sid = session.session_id
        with self._guard:
            lock = self._locks.setdefault(sid, threading.Lock())
        with lock:
            with self._guard:
                if sid in self._cache:
                    self._cache.move_to_end(sid)
                    return self._cache[sid]
            languages = session_languages(session)
            details = source.details(session, languages) if languages else {}
            settled = session.ended_at and self.clock() - session.ended_at > SETTLED_SECONDS
            if settled and details:
                with self._guard:
                    self._cache[sid] = details
                    while len(self._cache) > CACHED_SESSIONS:
                        old, _ = self._cache.popitem(last=False)
                        self._locks.pop(old, None)
            return details


def _check_join_code(session: Session, given: str | None) -> None:
    if not session.join_code_hash:
        return
    if not given:
        raise ExportRefused(401, "JOIN_CODE_REQUIRED", "this session needs a join code")
    if len(given) > MAX_JOIN_CODE_CHARS or not join_code_matches(given, session.join_code_hash):
        raise ExportRefused(403, "JOIN_CODE_INVALID", "wrong join code")
