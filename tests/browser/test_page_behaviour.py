"""The listener page's own rules in a real browser, against a scripted gateway.

Delivery the real pipeline cannot produce on demand (out of order, duplicated, in
parts, a gap that never fills, a backlog) is scripted here; the end-to-end path
through the real local runtime is in ``test_listener_page.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from page_driver import (
    caption_sequences,
    segments_played,
    wait_for_captions,
    wait_live,
    wait_played,
    wait_ready,
    wait_status,
)
from scripted_gateway import ScriptedGateway, tone_mp3

pytestmark = pytest.mark.browser

SESSION = "brave-otter-123"


@pytest.fixture(scope="module")
def tone() -> bytes:
    return tone_mp3(1.0)


@pytest.fixture
def gateway() -> Iterator[ScriptedGateway]:
    gw = ScriptedGateway().start()
    gw.add_session(SESSION)
    yield gw
    gw.stop()


def join(page: Any, gateway: ScriptedGateway, query: str, *, live: bool = True) -> None:
    page.goto(gateway.url + query)
    wait_ready(page)
    page.click("#start")
    if live:
        wait_live(page)


def test_out_of_order_duplicated_and_split_segments_play_once_in_order(
    new_page: Any, gateway: ScriptedGateway, tone: bytes, page_errors: list[str], screenshot: Any
) -> None:
    page = new_page()
    join(page, gateway, f"?sessionId={SESSION}&targetLanguage=es")
    one, two, three = (
        gateway.segment_frames(SESSION, n, audio=tone, parts=p) for n, p in ((1, 1), (2, 3), (3, 1))
    )
    # 1, then 3 before 2; 2 arrives in three parts out of order with a repeated part;
    # then 1 and 3 are delivered again.
    gateway.send(one)
    gateway.send(three)
    gateway.send([two[2], two[0], two[0], two[1]])
    gateway.send(one + three)
    wait_for_captions(page, 3)
    wait_played(page, 3)

    assert caption_sequences(page) == [1, 2, 3]
    assert page.inner_text("#caption-2 .text") == "Frase número 2."
    assert page.get_attribute("#caption-2 .text", "lang") == "es"
    assert page.evaluate("document.getElementById('player').played.length") > 0
    assert segments_played(page) == 3
    assert not [e for e in page_errors if e.startswith("pageerror")]

    # The source sentence, on demand, from the keyboard.
    toggle = page.locator("#caption-2 .source-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.is_hidden("#source-2")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.inner_text("#source-2") == "Sentence number 2."
    screenshot(page, "behaviour-phone-captions")


def test_a_gap_is_skipped_after_the_timeout_and_the_late_segment_is_shown_not_played(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = new_page()
    join(page, gateway, f"?sessionId={SESSION}&targetLanguage=es")
    gateway.send(gateway.segment_frames(SESSION, 10))
    gateway.send(gateway.segment_frames(SESSION, 12))
    wait_for_captions(page, 1)
    assert caption_sequences(page) == [10]  # 12 waits for 11
    wait_for_captions(page, 2)  # the 3 s gap timeout passes
    assert caption_sequences(page) == [10, 12]

    gateway.send(gateway.segment_frames(SESSION, 11))
    wait_for_captions(page, 3)
    assert caption_sequences(page) == [10, 11, 12]
    assert "arrived late" in page.inner_text("#caption-11")


def test_more_than_ten_seconds_queued_drops_the_oldest_and_says_catching_up(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    long_tone = tone_mp3(4.0)
    page = new_page()
    join(page, gateway, f"?sessionId={SESSION}&targetLanguage=es")
    frames = [f for n in range(1, 7) for f in gateway.segment_frames(SESSION, n, audio=long_tone)]
    gateway.send(frames)
    wait_for_captions(page, 6)
    page.wait_for_selector("#catching-up", state="visible")
    skipped = page.eval_on_selector_all(
        "#captions li.skipped", "items => items.map(li => Number(li.dataset.sequence))"
    )
    # 1 plays at once; of 2..6 (20 s) only the newest 10 s wait.
    assert skipped == [2, 3, 4]
    assert caption_sequences(page) == [1, 2, 3, 4, 5, 6]
    screenshot(page, "behaviour-phone-catching-up")


def test_a_dropped_connection_reconnects_and_catches_up_with_nothing_missing(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = new_page()
    join(page, gateway, f"?sessionId={SESSION}&targetLanguage=es")
    gateway.publish(SESSION, gateway.segment_frames(SESSION, 1))
    gateway.publish(SESSION, gateway.segment_frames(SESSION, 2))
    wait_for_captions(page, 2)

    assert gateway.drop_connections() == 1
    # Segment 3 is produced while the listener is away: only catchUp can bring it.
    gateway.record(SESSION, gateway.segment_frames(SESSION, 3))
    wait_for_captions(page, 3)
    wait_status(page, "Live")
    gateway.publish(SESSION, gateway.segment_frames(SESSION, 4))
    wait_for_captions(page, 4)
    assert caption_sequences(page) == [1, 2, 3, 4]
    assert {"action": "catchUp", "fromSequence": 2} in gateway.actions
    assert gateway.connects == 2


def test_session_ended_shows_a_clear_end_state(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    page = new_page()
    join(page, gateway, f"?sessionId={SESSION}&targetLanguage=es")
    gateway.publish(SESSION, gateway.segment_frames(SESSION, 1))
    wait_for_captions(page, 1)
    gateway.end(SESSION)
    page.wait_for_selector("#ended", state="visible")
    assert page.inner_text("#status") == "Session ended"
    assert "The session has ended" in page.inner_text("#ended")
    screenshot(page, "behaviour-phone-ended")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?sessionId=no-such-session-1&targetLanguage=es", "There is no session"),
        (f"?sessionId={SESSION}&targetLanguage=de", "cannot be heard in"),
    ],
)
def test_a_refusal_is_shown_in_words(
    new_page: Any, gateway: ScriptedGateway, query: str, words: str
) -> None:
    gateway.languages = ("es", "ca", "fr", "de")  # offered by the page, refused at connect
    page = new_page()
    page.goto(gateway.url + query)
    wait_ready(page)
    gateway.languages = ("es", "ca", "fr")
    page.click("#start")
    page.wait_for_selector("#join-error", state="visible")
    assert words in page.inner_text("#join-error")
    assert page.get_attribute("#status", "data-state") == "error"
    assert gateway.connects == 0


def test_a_join_code_is_asked_for_checked_and_accepted(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    gateway.add_session("quiet-lynx-500", join_code="4321")
    page = new_page()
    page.goto(gateway.url + "?sessionId=quiet-lynx-500&targetLanguage=ca")
    wait_ready(page)
    assert page.is_hidden("#join-code")
    page.click("#start")
    page.wait_for_selector("#join-code", state="visible")
    assert "needs a join code" in page.inner_text("#join-error")
    assert page.evaluate("document.activeElement.id") == "join-code"
    screenshot(page, "behaviour-phone-join-code")

    page.fill("#join-code", "0000")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('join-error').textContent.includes('not right')"
    )

    page.fill("#join-code", "4321")
    page.keyboard.press("Enter")
    wait_live(page)
    assert "joinCode" not in page.url  # never kept in the address bar


def test_without_a_session_check_a_refused_connect_gets_the_generic_wording(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    gateway.session_check = False  # like the static deployment: no /sessions endpoint
    page = new_page()
    join(page, gateway, "?sessionId=no-such-session-2&targetLanguage=es", live=False)
    page.wait_for_selector("#join-error", state="visible")
    assert "the session may be unknown or ended" in page.inner_text("#join-error")
    assert page.is_visible("#join-form")


def test_join_form_is_keyboard_operable_and_prefilled(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = new_page()
    page.goto(gateway.url + f"?sessionId={SESSION}&targetLanguage=fr")
    wait_ready(page)
    assert page.input_value("#session-id") == SESSION
    assert page.input_value("#language") == "fr"
    assert page.evaluate("document.activeElement.id") == "start"
    for control in ("session-id", "language"):
        assert page.locator(f"label[for={control}]").count() == 1
    page.keyboard.press("Enter")
    wait_live(page)
    assert page.evaluate("document.activeElement.id") == "listen-title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "leave"
    for control in ("switch-language", "pause", "mute"):  # listening controls, then sound
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == control
    page.keyboard.press("Enter")
    assert page.get_attribute("#mute", "aria-pressed") == "true"
    assert page.evaluate("document.getElementById('player').muted") is True
