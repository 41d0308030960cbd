"""Helpers for the speaker page's browser tests: the link, the session, the status,
screenshots. The fixtures (browsers with a microphone, the gateway) are in
``speaker_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import SCREENSHOTS
from scripted_gateway import ScriptedGateway

LAN_HOST = "polycast-lan.test"  # resolved to 127.0.0.1 by the browser only
SESSION = "calm-heron-214"
KEY = "speaker-secret"
SPEECH = (
    "Good morning everyone, and thank you for coming. "
    "Today I will talk about the rivers of the north. "
    "They are long, and they are cold."
)


def speaker_link(gateway: ScriptedGateway, key: str = KEY, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{gateway.port}/speaker.html?sessionId={SESSION}&speakerKey={key}"


def wait_status(page: Any, words: str, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "words => document.getElementById('status-text').textContent === words",
        arg=words,
        timeout=timeout,
    )


def save_screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
