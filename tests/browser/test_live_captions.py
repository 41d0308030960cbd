"""Live captions and captions only, in headless Chromium against the real local runtime.

Partial records go in through Kinesis while the "speaker" is mid-sentence: the page
shows the live line (aria-hidden, not a caption yet) before the sentence ends, and
the final segment replaces it. "Captions only" sends the ``audio`` action: the next
segments come without audio, and the choice survives a new connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from axe import check_page
from page_driver import caption_sequences, wait_for_captions
from test_listener_page import Talk, open_listener

from polycast_kit.local.runtime import LocalRuntime

pytestmark = pytest.mark.browser

SENTENCE = "Hello everyone and welcome, this is our new library in the old town."


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    rt = LocalRuntime(aws_port=0, ws_port=0, state_dir=None)
    try:
        rt.start()
    except Exception as exc:
        pytest.fail(f"the local runtime did not start: {exc}")
    yield rt
    rt.stop()


def partial(talk: Talk, sequence: int, stable: str, text: str) -> dict[str, Any]:
    return {
        "type": "partial",
        "sessionId": talk.session_id,
        "sequence": sequence,
        "sourceLanguage": "en",
        "text": text,
        "stableText": stable,
    }


def test_the_live_line_comes_before_the_sentence_ends_and_the_final_replaces_it(
    runtime: LocalRuntime, new_page: Any, page_errors: list[str], screenshot: Any
) -> None:
    talk = Talk(runtime, "live-wren-314")
    talk.start()
    page = open_listener(new_page, runtime, talk.session_id, "es")
    words = SENTENCE.split()
    talk.put(partial(talk, 1, " ".join(words[:4]), " ".join(words[:6])))
    page.wait_for_selector("#live-line:not([hidden])", timeout=60_000)
    live = page.inner_text("#live-line")
    assert live.lower().startswith("hola"), live  # translated by Apertium
    assert page.get_attribute("#live-line", "aria-hidden") == "true"
    assert page.get_attribute("#live-line", "lang") == "es"
    assert caption_sequences(page) == []  # a live line, not a caption
    screenshot(page, "listener-live-line")
    check_page(page, "live line")

    talk.put(
        {
            "type": "transcript",
            "sessionId": talk.session_id,
            "sequence": 1,
            "sourceLanguage": "en",
            "transcriptText": SENTENCE,
        }
    )
    wait_for_captions(page, 1, timeout=60_000)
    page.wait_for_selector("#live-line", state="hidden")
    final = page.inner_text("#caption-1 .text")
    assert final.lower().startswith(live.lower().rstrip(",").split(",")[0])
    partials = [f for f in page.frames_received if f.get("type") == "partial"]
    segments = [f for f in page.frames_received if f.get("type") == "segment"]
    assert partials
    assert segments
    assert page.frames_received.index(partials[-1]) < page.frames_received.index(segments[0])
    screenshot(page, "listener-live-line-replaced")
    assert not [e for e in page_errors if e.startswith("pageerror")]


def test_captions_only_asks_for_no_audio_and_keeps_asking(
    runtime: LocalRuntime, new_page: Any
) -> None:
    talk = Talk(runtime, "quiet-finch-272")
    talk.start()
    page = open_listener(new_page, runtime, talk.session_id, "es")
    page.check("#captions-only")
    ack = {"type": "ack", "action": "audio", "on": False}
    deadline = time.monotonic() + 30
    while ack not in page.frames_received and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert ack in page.frames_received, "no ack for the audio action"
    talk.say(1)
    wait_for_captions(page, 1, timeout=60_000)
    (segment,) = [f for f in page.frames_received if f.get("type") == "segment"]
    assert segment["audio"] is None
    # Remembered for the next visit.
    assert page.evaluate("localStorage.getItem('polycast.captionsOnly')") == "true"
