"""The gateway's ``GET /export`` over real HTTP: an ended session's transcript in each
format, with the join code enforced, clear refusals, and served on the public side of
``--lan`` (bound to another loopback address). The reader behind it is an in-memory
``TranscriptSource``; the runtime's real one (Segments buffer, archive) is exercised
end to end in tests/e2e/test_local_export_page.py."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import srt
import webvtt

from polycast import schemas
from polycast.domain.models import Session
from polycast.services.connections import hash_join_code
from polycast_kit.local.gateway import WebSocketGateway
from polycast_kit.local.gateway.export import JOIN_CODE_HEADER

OPEN = "open-heron-101"
PROTECTED = "quiet-otter-202"
LIVE = "loud-eagle-303"
CODE = "harbor-7"


def detail(sequence: int, text: str, source: str, start: int, end: int) -> dict[str, Any]:
    return {
        "sessionId": OPEN,
        "sequence": sequence,
        "language": "es",
        "text": text,
        "sourceText": source,
        "startMs": start,
        "endMs": end,
    }


DETAILS = [
    detail(2, "Gracias por venir.", "Thanks for coming.", 3100, 5200),
    detail(1, "Hola a todos.", "Hello everyone.", 0, 2400),
    detail(1, "Hola a todos.", "Hello everyone.", 0, 2400),  # delivered twice
]


class MemoryTranscripts:
    """Sessions and their SegmentReady details, counting the reads."""

    def __init__(self) -> None:
        ended = Session(OPEN, "en", status="ended", languages=("es",), ended_at=1)
        self.sessions = {
            OPEN: ended,
            PROTECTED: replace(
                ended, session_id=PROTECTED, join_code_hash=hash_join_code(CODE, iterations=1000)
            ),
            LIVE: replace(ended, session_id=LIVE, status="active", ended_at=0),
        }
        self.reads = 0

    def session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def details(
        self, session: Session, languages: Sequence[str]
    ) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        self.reads += 1
        return {"es": DETAILS} if "es" in languages else {}


def route_function(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200}


@pytest.fixture
def transcripts() -> MemoryTranscripts:
    return MemoryTranscripts()


@pytest.fixture
def gateway(tmp_path: Path, transcripts: MemoryTranscripts) -> Iterator[WebSocketGateway]:
    running = WebSocketGateway(
        route_function,
        port=0,
        web_root=tmp_path,
        public_host="127.0.0.2",
        transcripts=lambda: transcripts,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def get(
    base: str, headers: Mapping[str, str] | None = None, **query: str
) -> tuple[int, str, Mapping[str, str]]:
    url = f"{base}/export?{urlencode(query)}"
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def refusal(answer: tuple[int, str, Mapping[str, str]]) -> tuple[int, str]:
    status, body, headers = answer
    document = json.loads(body)
    schemas.validate("http/export", document)
    assert headers["Cache-Control"] == "no-store"
    return status, document["code"]


def test_an_ended_session_downloads_in_every_format(gateway: WebSocketGateway) -> None:
    base = gateway.public_http_url  # the listeners' side of --lan
    status, body, headers = get(base, sessionId=OPEN, language="es", format="srt")
    assert status == 200
    assert headers["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="{OPEN}.es.srt"'
    cues = list(srt.parse(body))
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == [
        (0.0, 2.4, "Hola a todos."),
        (3.1, 5.2, "Gracias por venir."),
    ]

    status, body, headers = get(base, sessionId=OPEN, language="es", format="vtt")
    assert (status, headers["Content-Type"]) == (200, "text/vtt; charset=utf-8")
    assert [c.text for c in webvtt.from_string(body)] == ["Hola a todos.", "Gracias por venir."]

    status, body, _ = get(base, sessionId=OPEN, language="es", format="json")
    document = json.loads(body)
    schemas.validate("exports/transcript", document)
    assert [s["sequence"] for s in document["segments"]] == [1, 2]

    status, body, headers = get(base, sessionId=OPEN, language="en", format="txt")
    assert status == 200
    assert headers["Content-Disposition"] == f'attachment; filename="{OPEN}.source-en.txt"'
    assert body == "[00:00:00] Hello everyone.\n[00:00:03] Thanks for coming.\n"


def test_a_protected_session_needs_its_code(gateway: WebSocketGateway) -> None:
    base = gateway.public_http_url
    asked = {"sessionId": PROTECTED, "language": "es", "format": "txt"}
    assert refusal(get(base, **asked)) == (401, "JOIN_CODE_REQUIRED")
    assert refusal(get(base, **asked, joinCode="wrong")) == (403, "JOIN_CODE_INVALID")
    assert refusal(get(base, {JOIN_CODE_HEADER: "wrong"}, **asked)) == (403, "JOIN_CODE_INVALID")
    assert refusal(get(base, **asked, joinCode="x" * 500)) == (403, "JOIN_CODE_INVALID")
    status, body, _ = get(base, **asked, joinCode=CODE)
    assert (status, body.splitlines()[0]) == (200, "[00:00:00] Hola a todos.")
    status, _, _ = get(base, {JOIN_CODE_HEADER: CODE}, **asked)
    assert status == 200


def test_refusals_say_why(gateway: WebSocketGateway, transcripts: MemoryTranscripts) -> None:
    base = gateway.http_url
    assert refusal(get(base, language="es")) == (400, "MISSING_FIELD")
    assert refusal(get(base, sessionId=OPEN)) == (400, "MISSING_FIELD")
    assert refusal(get(base, sessionId="../etc", language="es")) == (400, "BAD_REQUEST")
    assert refusal(get(base, sessionId=OPEN, language="<b>")) == (400, "UNSUPPORTED_LANGUAGE")
    assert refusal(get(base, sessionId=OPEN, language="es", format="docx")) == (
        400,
        "BAD_REQUEST",
    )
    assert refusal(get(base, sessionId="nobody-here-1", language="es")) == (
        404,
        "SESSION_NOT_FOUND",
    )
    assert refusal(get(base, sessionId=LIVE, language="es")) == (409, "SESSION_NOT_ENDED")
    assert refusal(get(base, sessionId=OPEN, language="fr")) == (404, "NO_TRANSCRIPT")
    assert transcripts.reads == 1  # the session is read before any transcript


def test_a_settled_session_is_read_once(
    gateway: WebSocketGateway, transcripts: MemoryTranscripts
) -> None:
    for fmt in ("txt", "srt", "vtt"):
        status, _, _ = get(gateway.http_url, sessionId=OPEN, language="es", format=fmt)
        assert status == 200
    assert transcripts.reads == 1


def test_without_a_reader_nothing_is_served(tmp_path: Path) -> None:
    running = WebSocketGateway(route_function, port=0, web_root=tmp_path)
    running.start()
    try:
        answer = get(running.http_url, sessionId=OPEN, language="es")
        assert refusal(answer) == (404, "EXPORT_UNAVAILABLE")
    finally:
        running.stop()
