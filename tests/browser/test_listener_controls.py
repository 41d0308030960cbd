"""The listener page's controls on the real local runtime in headless Chromium:
switching language while listening, the listener's own pause and resume, and the
speaker's pause shown to the listener."""

from __future__ import annotations

from typing import Any

import pytest
from page_driver import caption_sequences, wait_status
from test_listener_page import Talk, open_listener, runtime, wait_for_real_captions
from websockets.sync.client import connect

from polycast_kit.local.runtime import LocalRuntime

__all__ = ["runtime"]  # the module-scoped runtime fixture, shared with this module
pytestmark = pytest.mark.browser


def caption_languages(page: Any) -> dict[int, str]:
    pairs = page.eval_on_selector_all(
        "#captions li",
        "items => items.map(li => [Number(li.dataset.sequence), li.querySelector('.text').lang])",
    )
    return {int(sequence): language for sequence, language in pairs}


def wait_until_heard(ws: Any, sequence: int) -> None:
    """Another (WebSocket) listener got ``sequence``: its broadcast is done."""
    while True:
        message = ws.recv(timeout=60)
        if f'"sequence":{sequence},' in str(message):
            return


def test_switching_language_and_pausing_while_listening(
    runtime: LocalRuntime, new_page: Any, page_errors: list[str], screenshot: Any
) -> None:
    talk = Talk(runtime, "switch-pause-321")
    talk.start()
    page = open_listener(new_page, runtime, talk.session_id, "es")
    options = page.eval_on_selector_all("#switch-language option", "os => os.map(o => o.value)")
    assert "es" in options
    assert "fr" in options
    assert "en" in options  # the speaker's own language, heard untranslated
    talk.say(1)
    wait_for_real_captions(page, 1)

    page.select_option("#switch-language", "fr")
    page.wait_for_selector("#listen-language[lang=fr]")
    assert "French" in page.inner_text("#listen-language") or "fran" in page.inner_text(
        "#listen-language"
    )
    assert "targetLanguage=fr" in page.url
    talk.say(2)
    wait_for_real_captions(page, 2)
    assert caption_languages(page) == {1: "es", 2: "fr"}

    page.click("#pause")
    page.wait_for_selector("#pause:text-is('Resume')")
    wait_status(page, "Paused")
    assert page.is_visible("#listener-paused")
    screenshot(page, "listener-phone-paused")
    assert runtime.endpoints is not None
    witness = f"{runtime.endpoints.websocket_url}/?sessionId={talk.session_id}&targetLanguage=fr"
    with connect(witness) as ws:
        talk.say(3)
        wait_until_heard(ws, 3)

    page.click("#pause")
    page.wait_for_selector("#pause:text-is('Pause')")
    wait_status(page, "Live")
    talk.say(4)
    page.wait_for_selector("#caption-4")
    assert caption_sequences(page) == [1, 2, 4]  # nothing while paused; live edge after

    talk.put({"type": "sessionPaused", "sessionId": talk.session_id, "reason": "break"})
    page.wait_for_selector("#speaker-paused", state="visible")
    screenshot(page, "listener-phone-speaker-paused")
    talk.put({"type": "sessionResumed", "sessionId": talk.session_id})
    page.wait_for_selector("#speaker-paused", state="hidden")

    talk.put({"type": "sessionEnded", "sessionId": talk.session_id})
    page.wait_for_selector("#ended", state="visible")
    wait_status(page, "Session ended")
    assert page_errors == []
