"""Fixtures for the speaker page's browser tests: Chromium with a microphone.

Chromium speaks a WAV file into the page's microphone with
``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
--use-file-for-fake-audio-capture=<file.wav>`` (headless too). Without the fake-UI flag
the permission prompt cannot be answered in headless mode and the request is denied,
which is the "permission denied" state. ``--host-resolver-rules`` maps a LAN-style host
name to 127.0.0.1, so the page can be opened over plain HTTP at an address that is not
this machine's (no secure context) while every connection stays on loopback.

The test speech is made with Festival (``text2wave``); a missing tool, or a browser
that cannot start, fails the test with the reason. A test module loads these with
``pytest_plugins = ("speaker_fixtures",)``; they do not share a Playwright instance
with conftest's ``browser`` fixture, so a module uses one or the other.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from scripted_gateway import ScriptedGateway
from scripted_speaker import ScriptedSpeaker
from speaker_browser import KEY, LAN_HOST, SESSION, SPEECH


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text2wave = shutil.which("text2wave")
    if text2wave is None:
        pytest.fail("text2wave is not installed (Debian package 'festival'); it makes test speech")
    path = tmp_path_factory.mktemp("speech") / "talk.wav"
    subprocess.run([text2wave, "-o", str(path)], input=SPEECH, text=True, check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        pytest.fail(f"playwright is not installed: {exc}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (Debian package 'chromium')")
    with sync_playwright() as playwright:
        yield playwright


def _launch(playwright: Any, args: list[str]) -> Any:
    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + args)
    except Exception as exc:
        pytest.fail(f"Chromium did not start: {exc}")


@pytest.fixture(scope="module")
def mic_browser(playwright_driver: Any, speech_wav: Path) -> Iterator[Any]:
    """Microphone allowed; it hears the test speech (in a loop)."""
    browser = _launch(
        playwright_driver,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={speech_wav}",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def denied_browser(playwright_driver: Any) -> Iterator[Any]:
    """A microphone exists but permission is never granted; LAN_HOST maps to loopback."""
    browser = _launch(
        playwright_driver,
        ["--use-fake-device-for-media-stream", f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture
def gateway() -> Iterator[ScriptedGateway]:
    scripted = ScriptedGateway(speaker=ScriptedSpeaker(speaker_key=KEY)).start()
    scripted.add_session(SESSION)
    yield scripted
    scripted.stop()


@pytest.fixture
def open_speaker_page(page_errors: list[str]) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def open_page(
        browser: Any,
        url: str,
        *,
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
    ) -> Any:
        context = browser.new_context(viewport=viewport or PHONE, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: page_errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.set_default_timeout(20_000)
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()
