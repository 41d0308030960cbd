"""The listener page's transcript downloads once the session has ended, served by the
gateway's real ``/export`` route (over the scripted sessions): the links appear only
where the endpoint answers, download files that parse, are reached by keyboard, pass
axe, and never carry a join code (a protected session's file is fetched with the code
in a header)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import srt
from axe import check_page
from conftest import DESKTOP
from page_driver import wait_for_captions, wait_live, wait_ready
from scripted_gateway import ScriptedGateway

from polycast.domain.models import Session
from polycast.services.connections import hash_join_code
from polycast_kit.local.gateway.export import TranscriptExport
from polycast_kit.local.gateway.functions import BlockingCalls

OPEN = "bright-crane-404"
PROTECTED = "quiet-lynx-505"
CODE = "harbor-7"


class ScriptedTranscripts:
    """The scripted gateway's sessions as a ``TranscriptSource``: what it sent is what
    was delivered, each segment four seconds after the last."""

    def __init__(self, gateway: ScriptedGateway) -> None:
        self.gateway = gateway
        self.codes_seen: list[str | None] = []

    def session(self, session_id: str) -> Session | None:
        scripted = self.gateway.sessions.get(session_id)
        if scripted is None:
            return None
        code = scripted.join_code
        return Session(
            session_id,
            scripted.source_language,
            status="ended" if scripted.ended else "active",
            languages=("es",),
            join_code_hash=hash_join_code(code, iterations=1000) if code else None,
            ended_at=1,
        )

    def details(
        self, session: Session, languages: Sequence[str]
    ) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for frames in self.gateway.sessions[session.session_id].log:
            frame = frames[0]
            if frame["language"] in languages:
                start = 4000 * (frame["sequence"] - 1)
                out.setdefault(frame["language"], []).append(
                    {**frame, "startMs": start, "endMs": start + 3000}
                )
        return out


@pytest.fixture
def gateway() -> Iterator[ScriptedGateway]:
    gw = ScriptedGateway()
    blocking = BlockingCalls()
    transcripts = ScriptedTranscripts(gw)
    gw.export = TranscriptExport(blocking, lambda: transcripts)
    gw.start()
    gw.add_session(OPEN)
    gw.add_session(PROTECTED, join_code=CODE)
    yield gw
    gw.stop()
    blocking.shutdown()


def listen_until_ended(page: Any, gateway: ScriptedGateway, session_id: str, query: str) -> None:
    page.goto(f"{gateway.url}?sessionId={session_id}&targetLanguage=es{query}")
    wait_ready(page)
    page.click("#start")
    wait_live(page)
    for sequence in (1, 2):
        gateway.publish(session_id, gateway.segment_frames(session_id, sequence))
    wait_for_captions(page, 2)
    gateway.end(session_id)
    page.wait_for_selector("#downloads", state="visible")


def links(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#download-list a",
        "as => as.map(a => ({href: a.href, download: a.download, name: a.textContent}))",
    )


def test_an_ended_session_offers_its_transcript(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any, page_errors: list[str]
) -> None:
    page = new_page(viewport=DESKTOP)
    listen_until_ended(page, gateway, OPEN, "")
    found = links(page)
    assert [a["download"] for a in found] == [
        f"{OPEN}.{side}.{fmt}"
        for side in ("es", "source-en")
        for fmt in ("txt", "srt", "vtt", "json")
    ]
    assert found[1]["name"] == "SRT, transcript in español (Spanish)"
    assert all("/export?" in a["href"] and "joinCode" not in a["href"] for a in found)

    with page.expect_download() as download:
        page.click(f"#download-list a[download='{OPEN}.es.srt']")
    cues = list(srt.parse(Path(download.value.path()).read_text(encoding="utf-8")))
    assert [(c.start.total_seconds(), c.content) for c in cues] == [
        (0.0, "Frase número 1."),
        (4.0, "Frase número 2."),
    ]
    with page.expect_download() as download:
        page.click(f"#download-list a[download='{OPEN}.source-en.txt']")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text == "[00:00:00] Sentence number 1.\n[00:00:04] Sentence number 2.\n"

    # Keyboard: from the end panel's title, Tab reaches every download, then "again".
    page.focus("#ended-title")
    reached = []
    for _ in range(len(found) + 1):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.download || document.activeElement.id")
        )
    assert reached == [a["download"] for a in found] + ["again"]
    check_page(page, "session ended with downloads")
    screenshot(page, "listener-desktop-ended-downloads")
    assert page_errors == []


def test_a_protected_sessions_files_never_carry_the_code(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any, page_errors: list[str]
) -> None:
    page = new_page()
    headers: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: headers.append(request.headers) if "/export" in request.url else None,
    )
    page.goto(f"{gateway.url}?sessionId={PROTECTED}&targetLanguage=es")
    wait_ready(page)
    page.click("#show-join-code")
    page.fill("#join-code", CODE)
    page.click("#start")
    wait_live(page)
    gateway.publish(PROTECTED, gateway.segment_frames(PROTECTED, 1))
    wait_for_captions(page, 1)
    joined_errors = list(page_errors)  # the first check, before the code: 401
    gateway.end(PROTECTED)
    page.wait_for_selector("#downloads", state="visible")
    found = links(page)
    assert found
    assert not any(CODE in a["href"] for a in found)
    with page.expect_download() as download:
        page.click(f"#download-list a[download='{PROTECTED}.es.vtt']")
    body = Path(download.value.path()).read_text(encoding="utf-8")
    assert body.startswith("WEBVTT")
    assert "Frase número 1." in body
    assert headers
    assert all(h.get("x-join-code") == CODE for h in headers)
    check_page(page, "protected session ended with downloads")
    screenshot(page, "listener-phone-ended-downloads")
    assert page_errors == joined_errors


def test_no_export_endpoint_no_links(new_page: Any, page_errors: list[str]) -> None:
    """A host whose config.json names no export endpoint (the deployed site says null)
    shows the end panel only."""
    gw = ScriptedGateway().start()
    try:
        gw.add_session(OPEN)
        page = new_page()
        page.goto(f"{gw.url}?sessionId={OPEN}&targetLanguage=es")
        wait_ready(page)
        page.click("#start")
        wait_live(page)
        gw.end(OPEN)
        page.wait_for_selector("#ended", state="visible")
        page.wait_for_timeout(1000)
        assert page.is_hidden("#downloads")
        assert page.eval_on_selector_all("#download-list a", "as => as.length") == 0
    finally:
        gw.stop()
    assert page_errors == []  # nothing was even asked: config.json names no exportUrl
