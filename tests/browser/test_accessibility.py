"""The listener page checked by axe-core in every state that matters, and what a
screen-reader or keyboard user gets: one announcement per final caption, partial text
never announced, each caption's language marked, focus always visible, motion reduced
on request. Against the scripted gateway (``scripted_gateway.py``); see
docs/listener-page.md for what this adds up to for a listener.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe import check_page
from conftest import DESKTOP
from page_driver import wait_for_captions, wait_live, wait_ready, wait_status
from scripted_gateway import ScriptedGateway, tone_mp3

pytestmark = pytest.mark.browser

SESSION = "calm-heron-214"
SCHEMES = [
    pytest.param({}, id="phone-light"),
    pytest.param({"viewport": DESKTOP, "color_scheme": "dark"}, id="desktop-dark"),
]
LIVE_REGIONS = "[aria-live], [role=log], [role=status], [role=alert]"


@pytest.fixture
def gateway() -> Iterator[ScriptedGateway]:
    gw = ScriptedGateway().start()
    gw.add_session(SESSION)
    yield gw
    gw.stop()


def open_page(new_page: Any, gateway: ScriptedGateway, query: str, **kw: Any) -> Any:
    page = new_page(**kw)
    page.goto(gateway.url + query)
    wait_ready(page)
    return page


def joined(new_page: Any, gateway: ScriptedGateway, **kw: Any) -> Any:
    page = open_page(new_page, gateway, f"?sessionId={SESSION}&targetLanguage=es", **kw)
    page.click("#start")
    wait_live(page)
    return page


def with_captions(page: Any, gateway: ScriptedGateway) -> None:
    """Captions in every look: speaking, spoken, text only, audio skipped, arrived late,
    originals shown, a catching-up notice and a live line still being spoken."""
    tone = tone_mp3(4.0)
    frames = [f for n in range(1, 6) for f in gateway.segment_frames(SESSION, n, audio=tone)]
    gateway.send(frames + gateway.segment_frames(SESSION, 6))
    gateway.send(gateway.segment_frames(SESSION, 8))
    wait_for_captions(page, 7)  # 8 after the 3 s gap timeout
    gateway.send(gateway.segment_frames(SESSION, 7))  # arrives late
    gateway.send([gateway.partial_frame(SESSION, 9, "Y ahora la")])
    page.wait_for_selector("#caption-7.late")
    page.wait_for_selector("#live-line:not([hidden])")
    page.check("#show-sources")


def live_region_texts(page: Any) -> list[str]:
    return page.eval_on_selector_all(LIVE_REGIONS, "els => els.map(e => e.textContent)")


# ------------------------------------------------------------------------- axe-core


@pytest.mark.parametrize("look", SCHEMES)
def test_landing_and_joined_with_captions_pass_axe(
    new_page: Any, gateway: ScriptedGateway, look: dict[str, Any], screenshot: Any
) -> None:
    page = open_page(new_page, gateway, "", **look)
    check_page(page, "landing")
    page.fill("#session-id", SESSION)
    page.select_option("#language", "es")  # the browser's English is offered first
    page.click("#start")
    wait_live(page)
    with_captions(page, gateway)
    page.wait_for_selector("#catching-up", state="visible")
    check_page(page, "joined with captions")
    screenshot(page, f"a11y-{page.viewport_size['width']}-captions")


def test_paused_states_pass_axe(new_page: Any, gateway: ScriptedGateway, screenshot: Any) -> None:
    page = joined(new_page, gateway)
    gateway.send(gateway.segment_frames(SESSION, 1))
    wait_for_captions(page, 1)
    page.click("#pause")
    page.wait_for_selector("#pause:text-is('Resume')")
    wait_status(page, "Paused")
    gateway.send([{"type": "sessionPaused", "sessionId": SESSION, "reason": "break"}])
    page.wait_for_selector("#speaker-paused", state="visible")
    assert page.is_visible("#listener-paused")
    check_page(page, "paused")
    screenshot(page, "a11y-phone-paused")


def test_session_ended_passes_axe_and_keeps_the_focus(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    page = joined(new_page, gateway, viewport=DESKTOP)
    gateway.send(gateway.segment_frames(SESSION, 1))
    wait_for_captions(page, 1)
    page.focus("#leave")
    gateway.end(SESSION)
    page.wait_for_selector("#ended", state="visible")
    # Leave disappears with the session: the focus goes to the end panel, not the page.
    assert page.evaluate("document.activeElement.id") == "ended-title"
    check_page(page, "session ended")
    screenshot(page, "a11y-desktop-ended")


@pytest.mark.parametrize(
    ("state", "query", "words"),
    [
        ("unknown session", "?sessionId=calm-heron-241&targetLanguage=es", "There is no session"),
        ("join code", "?sessionId=quiet-lynx-500&targetLanguage=es", "needs a join code"),
        ("unsupported language", f"?sessionId={SESSION}&targetLanguage=de", "cannot be heard"),
    ],
)
def test_refusals_pass_axe(
    new_page: Any, gateway: ScriptedGateway, state: str, query: str, words: str
) -> None:
    gateway.add_session("quiet-lynx-500", join_code="4321")
    gateway.languages = ("es", "ca", "fr", "de")  # offered by the page, refused at connect
    page = open_page(new_page, gateway, query)
    gateway.languages = ("es", "ca", "fr")
    page.click("#start")
    page.wait_for_selector("#join-error", state="visible")
    assert words in page.inner_text("#join-error")
    check_page(page, state)


def test_a_refused_connection_and_missing_settings_pass_axe(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    gateway.session_check = False  # nothing to ask: the WebSocket refusal is all there is
    page = open_page(new_page, gateway, "?sessionId=gone-away-1&targetLanguage=es")
    page.click("#start")
    page.wait_for_selector("#join-error", state="visible")
    assert "may be unknown or ended" in page.inner_text("#join-error")
    check_page(page, "refused connection")
    screenshot(page, "a11y-phone-refused")

    gateway.config_ok = False
    broken = new_page()
    broken.goto(gateway.url)
    broken.wait_for_selector("#join-error", state="visible")
    assert "could not load its settings" in broken.inner_text("#join-error")
    assert broken.get_attribute("#start", "aria-disabled") == "true"
    check_page(broken, "no settings")


def test_reconnecting_passes_axe_and_its_pulse_respects_reduced_motion(
    new_page: Any, gateway: ScriptedGateway, screenshot: Any
) -> None:
    page = joined(new_page, gateway)
    page.context.set_offline(True)
    gateway.drop_connections()
    wait_status(page, "Reconnecting…")
    dot = "getComputedStyle(document.querySelector('#status .dot')).animationName"
    assert page.evaluate(dot) == "pulse"
    check_page(page, "reconnecting")
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate(dot) == "none"
    screenshot(page, "a11y-phone-reconnecting")
    page.context.set_offline(False)
    wait_live(page, timeout=40_000)


# ------------------------------------------------------------------- screen readers


def test_each_final_caption_is_announced_once_and_partials_never(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = joined(new_page, gateway)
    page.check("#show-sources")
    gateway.send([gateway.partial_frame(SESSION, 1, "Frase")])
    page.wait_for_selector("#live-line:not([hidden])")
    line = page.locator("#live-line")
    assert line.get_attribute("aria-hidden") == "true"
    assert line.get_attribute("lang") == "es"
    handle = line.element_handle()
    gateway.send([gateway.partial_frame(SESSION, 1, "Frase núm")])
    page.wait_for_function("() => document.getElementById('live-line').textContent === 'Frase núm'")
    assert handle.evaluate("el => el.isConnected && el.id === 'live-line'")  # replaced in place
    assert not any("Frase" in text for text in live_region_texts(page))

    gateway.send(gateway.segment_frames(SESSION, 1) + gateway.segment_frames(SESSION, 2))
    wait_for_captions(page, 2)
    assert page.is_hidden("#live-line")
    for sequence in (1, 2):
        final = f"Frase número {sequence}."
        assert sum(text.count(final) for text in live_region_texts(page)) == 1
    announced = page.eval_on_selector_all(
        "#announcer p", "ps => ps.map(p => [p.lang, p.textContent])"
    )
    assert announced == [["es", "Frase número 1."], ["es", "Frase número 2."]]
    # The list itself is not live (its buttons would be read out with every caption).
    assert page.evaluate(
        f"() => document.getElementById('captions').closest('{LIVE_REGIONS}') === null"
    )
    assert page.get_attribute("#caption-1 .text", "lang") == "es"
    assert page.get_attribute("#source-1", "lang") == "en"
    assert page.inner_text("#source-1") == "Sentence number 1."

    # A partial of a sentence already final is stale: never shown.
    gateway.send([gateway.partial_frame(SESSION, 2, "Frase")])
    gateway.send(gateway.segment_frames(SESSION, 3))
    wait_for_captions(page, 3)
    assert page.is_hidden("#live-line")


def test_the_accessibility_tree_of_a_listening_page(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = joined(new_page, gateway)
    gateway.send(gateway.segment_frames(SESSION, 1))
    wait_for_captions(page, 1)
    tree = page.locator("body").aria_snapshot()
    for line in (
        "- status: Live",
        '- button "Leave"',
        '- group "Listening"',
        '- combobox "Language"',
        '- button "Pause"',
        '- group "Sound"',
        '- button "Mute"',
        '- slider "Volume"',
        '- checkbox "Captions only (no audio)"',
        '- checkbox "Show original sentences"',
        '- region "Captions"',
        "- listitem:",
        "- paragraph: Frase número 1.",
        '- button "Original"',
        '- log "New captions"',
    ):
        assert line in tree, f"{line!r} not in:\n{tree}"
    page.click("#pause")
    page.wait_for_selector("#pause:text-is('Resume')")
    assert '- button "Resume"' in page.locator("body").aria_snapshot()


# ------------------------------------------------------------------------ keyboard


FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const name = el === document.body ? "body" : el.id || el.className || el.tagName;
  return [name, style.outlineStyle, parseFloat(style.outlineWidth)];
}"""


def test_every_control_is_reached_by_tab_with_a_visible_focus(
    new_page: Any, gateway: ScriptedGateway
) -> None:
    page = open_page(new_page, gateway, "")
    assert page.evaluate("document.activeElement.id") == "session-id"  # nothing to skip yet
    page.keyboard.press("Shift+Tab")  # before it: only the skip link
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.locator(".skip").bounding_box()["y"] >= 0  # shown when focused
    page.fill("#session-id", SESSION)
    page.select_option("#language", "es")
    page.focus("#session-id")
    page.keyboard.press("Enter")
    wait_live(page)
    gateway.send(gateway.segment_frames(SESSION, 1))
    wait_for_captions(page, 1)
    reached: list[str] = []
    while len(reached) < 20:
        page.keyboard.press("Tab")
        name, outline, width = page.evaluate(FOCUS_RING)
        if name == "body" or name in reached:
            break  # out of the page, or round again
        reached.append(name)
        assert outline != "none", f"{name}: no visible focus"
        assert width >= 2, f"{name}: focus ring {width}px"
    assert reached == [
        "leave",
        "switch-language",
        "pause",
        "mute",
        "volume",
        "captions-only",
        "text-size",
        "show-sources",
        "captions-scroll",
        "source-toggle",
    ]
