"""The join page and the big-screen view in Chromium, against the real local runtime
(``polycast local`` in a subprocess, real engines): join page → pick a language →
captions; a join code asked once; the display view at 1920×1080 with two languages;
axe-core on both pages. The QR codes on the join page are read back from a
screenshot by ``zbarimg``. Screenshots land in .polycast/screenshots/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe import check_page
from page_driver import wait_for_captions, wait_live, wait_ready

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from local_e2e_support import (  # noqa: E402
    RunningRuntime,
    put,
    start_runtime,
    stop_runtime,
    talk,
)

pytestmark = pytest.mark.browser
FULL_HD = {"width": 1920, "height": 1080}


# Requested before ``new_page`` in every test, so the runtime starts before Playwright:
# started after it, the runtime did not stop on SIGTERM here (seen twice; the cause,
# likely a signal disposition inherited from Playwright's setup, is not pinned down).
@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    running = start_runtime(tmp_path_factory.mktemp("join-display"))
    yield running
    assert stop_runtime(running) == 0, running.log()


def create(runtime: RunningRuntime, session: str, *extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "polycast_kit.cli.main", "session", "create", "--session",
         session, "--languages", "es,fr", "--json", "--state-dir", str(runtime.state_dir),
         *extra],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def speak(runtime: RunningRuntime, session: str, count: int) -> None:
    put(runtime, session, [{**r, "sessionId": session} for r in talk(count)])


def decode(image: Path) -> list[str]:
    done = subprocess.run(  # noqa: S603 - a fixed system tool
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return [line for line in done.stdout.splitlines() if line]


def test_join_page_then_a_language_then_captions(
    runtime: RunningRuntime, new_page: Any, screenshot: Any, page_errors: list[str]
) -> None:
    create(runtime, "lively-swan-610")
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{runtime.http_url}/join?sessionId=lively-swan-610")
    page.wait_for_selector(".share-item img.qr")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.qr')].every(i => i.complete && i.naturalWidth)"
    )
    languages = page.eval_on_selector_all(".share-link", "links => links.map(a => a.lang)")
    assert languages == ["es", "fr", "en"]  # announced, then the speaker's own
    hrefs = page.eval_on_selector_all(".share-link", "links => links.map(a => a.href)")
    shot = screenshot(page, "join-page")
    assert sorted(decode(shot)) == sorted(hrefs)
    check_page(page, "join page")

    page.click(".share-link[lang=fr]")
    wait_ready(page)
    assert page.input_value("#language") == "fr"
    options = page.eval_on_selector_all("#language option", "o => o.map(x => x.value)")
    assert options == ["es", "fr", "en"]  # the session's languages, not every one
    page.click("#start")
    wait_live(page)
    speak(runtime, "lively-swan-610", 2)
    wait_for_captions(page, 2, timeout=60_000)
    langs = page.eval_on_selector_all(
        "#captions li", "items => items.map(li => li.querySelector('[lang]').lang)"
    )
    assert set(langs) == {"fr"}
    assert page_errors == []


def test_a_join_code_is_asked_once_and_in_no_link(
    runtime: RunningRuntime, new_page: Any, page_errors: list[str]
) -> None:
    create(runtime, "gentle-yak-611", "--join-code", "8642")
    page = new_page()
    page.goto(f"{runtime.http_url}/join?sessionId=gentle-yak-611")
    page.wait_for_selector("#code-form:not([hidden])")
    check_page(page, "join page asking for the code")
    page.fill("#code", "1111")
    page.click("#code-form button")
    page.wait_for_selector("#share-error:not([hidden])")
    page.fill("#code", "8642")
    page.click("#code-form button")
    page.wait_for_selector(".share-link")
    hrefs = page.eval_on_selector_all(".share-link", "links => links.map(a => a.href)")
    assert not any("8642" in href or "joinCode" in href for href in hrefs)
    page.click(".share-link[lang=es]")
    wait_ready(page)
    page.click("#start")  # the code typed once on the join page is used
    wait_live(page)
    assert "8642" not in page.url
    # The refused session checks (401 without the code, 403 with a wrong one) are the
    # browser's own console lines; nothing else.
    assert [e for e in page_errors if "Failed to load resource" not in e] == []


@pytest.mark.parametrize("reduced_motion", ["no-preference", "reduce"])
def test_display_view_at_1080p(
    runtime: RunningRuntime,
    new_page: Any,
    screenshot: Any,
    page_errors: list[str],
    reduced_motion: str,
) -> None:
    session = f"steady-owl-61{2 if reduced_motion == 'reduce' else 3}"
    create(runtime, session)
    page = new_page(viewport=FULL_HD, reduced_motion=reduced_motion)
    page.goto(f"{runtime.http_url}/?sessionId={session}&targetLanguage=es&view=display&also=fr")
    page.wait_for_selector(".display-column[lang=fr]")
    page.wait_for_function("() => document.getElementById('display-status').textContent === ''")
    speak(runtime, session, 6)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.display-lines')].every(l => l.children.length >= 4)",
        timeout=90_000,
    )
    for language in ("es", "fr"):
        lines = page.eval_on_selector_all(
            f".display-column[lang={language}] .display-lines li", "l => l.map(x => x.textContent)"
        )
        assert len(lines) == 4  # the last few lines only
    controls = page.query_selector_all("button, select, input, a, [tabindex]")
    assert not any(control.is_visible() for control in controls)  # no controls
    # One script: lines keep arriving and the oldest leave, so a line found in one
    # call may be gone (no computed style) by the next.
    size = page.evaluate(
        "() => parseFloat(getComputedStyle("
        "document.querySelector('.display-lines li:last-child')).fontSize)"
    )
    assert size >= 48  # px at 1920 wide: readable at the back of a hall
    transition = page.eval_on_selector(
        ".display-live", "el => getComputedStyle(el).transitionDuration"
    )
    assert (transition == "0s") == (reduced_motion == "reduce")
    for column in ("es", "fr"):  # the newest line is whole on screen
        bottom = page.eval_on_selector(
            f".display-column[lang={column}] .display-lines li:last-child",
            "li => li.getBoundingClientRect().bottom",
        )
        assert bottom <= FULL_HD["height"]
    screenshot(page, f"display-1080p-{reduced_motion}")
    check_page(page, "display view")
    assert page_errors == []


def test_text_size_and_originals_are_remembered_on_the_device(
    runtime: RunningRuntime, new_page: Any, page_errors: list[str]
) -> None:
    create(runtime, "merry-wren-614")
    page = new_page()
    page.goto(f"{runtime.http_url}/?sessionId=merry-wren-614&targetLanguage=es")
    wait_ready(page)
    page.click("#start")
    wait_live(page)
    page.select_option("#text-size", "x-large")
    page.check("#show-sources")
    page.reload()
    wait_ready(page)
    assert page.evaluate("document.body.dataset.textSize") == "x-large"
    page.click("#start")
    wait_live(page)
    assert page.input_value("#text-size") == "x-large"
    assert page.is_checked("#show-sources")
    speak(runtime, "merry-wren-614", 1)
    wait_for_captions(page, 1, timeout=60_000)
    size = page.eval_on_selector("#captions li", "li => parseFloat(getComputedStyle(li).fontSize)")
    assert size >= 28  # 1.6rem at the page's 18px root
    assert page_errors == []
