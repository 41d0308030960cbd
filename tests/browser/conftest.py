"""Headless Chromium for the listener page tests: Debian's /usr/bin/chromium via Playwright.

Never ``playwright install``: the browser comes from the system. A browser that cannot
start fails the test with the reason; it is never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from page_driver import AUDIO_WATCH

CHROMIUM = os.environ.get("POLYCAST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".polycast" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


# Module scope, not session: Playwright's sync API keeps an event loop running on the
# main thread while it is open, and tests after this folder call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        pytest.fail(f"playwright is not installed: {exc}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (Debian package 'chromium')")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(f"Chromium did not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors and uncaught exceptions seen by pages in this test."""
    return []


@pytest.fixture
def new_page(browser: object, page_errors: list[str]) -> Iterator[object]:
    """Open pages (phone size unless told) that record their JS errors and the audio
    they play (``page_driver.AUDIO_WATCH``); closed after."""
    contexts: list[object] = []

    def open_page(
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
        reduced_motion: str = "no-preference",
        locale: str = "en-US",
    ) -> object:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport=viewport or PHONE,
            color_scheme=color_scheme,
            reduced_motion=reduced_motion,
            locale=locale,
        )
        context.add_init_script(AUDIO_WATCH)  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: page_errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.set_default_timeout(20_000)
        return page

    yield open_page
    for context in contexts:
        context.close()  # type: ignore[attr-defined]


@pytest.fixture
def screenshot() -> object:
    """Save a screenshot under .polycast/screenshots/<name>.png (a test artifact)."""

    def save(page: object, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))  # type: ignore[attr-defined]
        return path

    return save
