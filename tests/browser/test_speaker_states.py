"""The speaker page's states, each checked by axe-core and looked at in a screenshot:
microphone permission denied, no secure context (plain HTTP on a LAN-style address),
a wrong speaker key, a recognition exception, the session ended; and the keyboard
(Tab order, a visible focus ring)."""

from __future__ import annotations

import time
from typing import Any

from axe import check_page
from conftest import DESKTOP
from scripted_speaker import result
from speaker_browser import (
    LAN_HOST,
    SESSION,
    save_screenshot,
    speaker_link,
    wait_status,
)

pytest_plugins = ("speaker_fixtures",)  # its fixtures: browsers with a microphone, the gateway

FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {id: el.id, outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def problem_text(page: Any) -> str:
    page.wait_for_selector("#problem:not([hidden])")
    return str(page.text_content("#problem"))


def test_permission_denied_is_explained(
    gateway: Any, denied_browser: Any, open_speaker_page: Any, page_errors: list[str]
) -> None:
    page = open_speaker_page(denied_browser, speaker_link(gateway))
    wait_status(page, "Ready")
    page.click("#talk")
    text = problem_text(page)
    assert "not allowed to use the microphone" in text
    assert page.get_attribute("#problem", "role") == "alert"
    assert page.text_content("#talk") == "Start speaking", "still offered, to try again"
    assert page.evaluate("document.activeElement.id") == "talk"
    assert gateway.speaker.actions("transcribeUrl") == [], "nothing asked without a microphone"
    check_page(page, "speaker permission denied")
    save_screenshot(page, "speaker-denied-phone")
    assert not page_errors, page_errors


def test_plain_http_on_a_lan_address_says_why_there_is_no_microphone(
    gateway: Any, denied_browser: Any, open_speaker_page: Any
) -> None:
    page = open_speaker_page(denied_browser, speaker_link(gateway, host=LAN_HOST), viewport=DESKTOP)
    assert page.evaluate("isSecureContext") is False
    text = problem_text(page)
    assert f"plain HTTP at {LAN_HOST}" in text
    assert "http://127.0.0.1:" in text
    assert "HTTPS" in text
    wait_status(page, "No microphone")
    assert gateway.speaker.connected, "the session connection itself works"
    assert page.is_hidden("#talk"), "nothing to press: the problem says what to do"
    assert gateway.speaker.actions("transcribeUrl") == []
    check_page(page, "speaker insecure context")
    save_screenshot(page, "speaker-insecure-desktop")


def test_a_wrong_speaker_key_is_refused_with_a_reason(
    gateway: Any, mic_browser: Any, open_speaker_page: Any
) -> None:
    page = open_speaker_page(mic_browser, speaker_link(gateway, key="not-the-key"))
    text = problem_text(page)
    assert "key is wrong" in text
    wait_status(page, "Not connected")
    assert page.is_hidden("#talk")
    assert gateway.speaker.speaker_connects == 0
    check_page(page, "speaker wrong key")


def test_a_link_without_key_says_what_is_needed(
    gateway: Any, mic_browser: Any, open_speaker_page: Any
) -> None:
    page = open_speaker_page(
        mic_browser, f"http://127.0.0.1:{gateway.port}/speaker.html?sessionId={SESSION}"
    )
    assert "speaker link the organizer gave you" in problem_text(page)
    check_page(page, "speaker bad link")


def test_a_recognition_exception_is_shown_and_recognition_reopened(
    gateway: Any, mic_browser: Any, open_speaker_page: Any
) -> None:
    speaker = gateway.speaker
    page = open_speaker_page(mic_browser, speaker_link(gateway))
    wait_status(page, "Ready")
    page.click("#talk")
    wait_status(page, "On air")
    wait_until(lambda: speaker.streams and speaker.streams[0].pcm_bytes > 0)
    speaker.send_exception("BadRequestException", "Your stream is too big")
    page.wait_for_function(
        "() => document.getElementById('notice').textContent.includes('Your stream is too big')"
    )
    assert "BadRequestException" in str(page.text_content("#notice"))
    check_page(page, "speaker recognition exception")
    save_screenshot(page, "speaker-recognition-exception-phone")
    wait_until(lambda: len(speaker.streams) == 2 and speaker.streams[1].pcm_bytes > 0)
    assert len(speaker.actions("transcribeUrl")) == 2
    page.wait_for_function("() => document.getElementById('notice').hidden", timeout=15_000)
    words = [("Back", 0.1, 0.4), ("again", 0.5, 0.9)]
    speaker.send_results([result(words, partial=False, end_mark=".")])
    wait_until(lambda: speaker.accepted == [1])


def test_session_ended_stops_the_microphone(
    gateway: Any, mic_browser: Any, open_speaker_page: Any
) -> None:
    speaker = gateway.speaker
    page = open_speaker_page(mic_browser, speaker_link(gateway), color_scheme="dark")
    wait_status(page, "Ready")
    page.click("#talk")
    wait_status(page, "On air")
    wait_until(lambda: speaker.streams and speaker.streams[0].pcm_bytes > 0)
    speaker.say({"type": "sessionEnded", "sessionId": SESSION, "reason": "the organizer ended it"})
    wait_status(page, "Session ended")
    assert page.is_visible("#ended")
    assert page.is_hidden("#talk")
    assert page.evaluate("document.activeElement.id") == "ended-title"
    assert "the organizer ended it" in str(page.text_content("#ended-reason"))
    wait_until(lambda: not speaker.connected)
    check_page(page, "speaker session ended (dark)")
    save_screenshot(page, "speaker-ended-dark-phone")


def test_keyboard_order_and_visible_focus(
    gateway: Any, mic_browser: Any, open_speaker_page: Any
) -> None:
    page = open_speaker_page(mic_browser, speaker_link(gateway), color_scheme="dark")
    wait_status(page, "Ready")
    stops = []
    for _ in range(3):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        stops.append(ring["id"] or page.evaluate("document.activeElement.className"))
        assert ring["outline"] != "none", ring
        assert ring["width"] >= 2, ring
    assert stops == ["skip", "talk", "sentences-scroll"]
    page.focus("#talk")
    page.keyboard.press(" ")
    wait_status(page, "On air")
    check_page(page, "speaker on air (dark)")
    save_screenshot(page, "speaker-on-air-dark-phone")
