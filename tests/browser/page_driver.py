"""Drive the listener page as a listener does: through what it shows and says.

The page carries no test hooks. Tests wait for what a listener sees (the status
words, a notice, a control's ``aria-pressed``) and observe the rest from outside the
page: the WebSocket frames it receives (Playwright's ``websocket`` event) and the
``playing`` events of its audio element (an init script the test adds, see
``AUDIO_WATCH``; Playwright injects it through the DevTools protocol, so the page's
Content-Security-Policy stays as it is).
"""

from __future__ import annotations

import json
from typing import Any

# Each time an <audio> starts playing, its duration. The page first plays 0.1 s of
# silence inside the listener's tap (to unlock sound); segments are longer than that.
AUDIO_WATCH = """
window.__audioPlayed = [];
document.addEventListener('playing', (event) => {
  window.__audioPlayed.push(event.target.duration);
}, true);
"""
UNLOCK_SECONDS = 0.3


def wait_ready(page: Any) -> None:
    """The settings are in: languages offered and the start button usable."""
    page.wait_for_selector("#language option", state="attached")
    page.wait_for_selector("#start:not([aria-disabled])")


def wait_status(page: Any, words: str, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "words => document.getElementById('status-text').textContent === words",
        arg=words,
        timeout=timeout,
    )


def wait_live(page: Any, timeout: float = 20_000) -> None:
    wait_status(page, "Live", timeout)


def segments_played(page: Any) -> int:
    """How many segments' audio started playing (the unlock silence not counted)."""
    return int(
        page.evaluate(
            "min => (window.__audioPlayed || []).filter((d) => !(d < min)).length",
            UNLOCK_SECONDS,
        )
    )


def wait_played(page: Any, count: int, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "([n, min]) => (window.__audioPlayed || []).filter((d) => !(d < min)).length >= n",
        arg=[count, UNLOCK_SECONDS],
        timeout=timeout,
    )


def watch_frames(page: Any) -> list[dict[str, Any]]:
    """Collect every JSON frame the page's WebSockets receive (register before goto)."""
    frames: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        def on_frame(payload: str | bytes) -> None:
            try:
                frames.append(json.loads(payload))
            except ValueError:
                pass

        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return frames


def caption_sequences(page: Any) -> list[int]:
    return page.eval_on_selector_all(
        "#captions li", "items => items.map(li => Number(li.dataset.sequence))"
    )


def wait_for_captions(page: Any, count: int, timeout: float = 20_000) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#captions li').length >= n", arg=count, timeout=timeout
    )
