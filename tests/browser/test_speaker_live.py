"""Speech into the real speaker page, captions out of the real listener page.

Nothing is scripted between the two: ``polycast local`` (a subprocess, real engines)
serves both pages, the speaker WebSocket route, and its Transcribe-protocol endpoint
(pocketsphinx). The organizer runs ``polycast session create`` and the test opens
the ``speakerUrl`` it prints in Chromium, whose fake microphone speaks a Festival
WAV (``--use-file-for-fake-audio-capture``); a second page, the listener page in
``fr`` from ``listenerUrls``, shows the translated captions. Chromium loops the
file, so the WAV ends with silence and the speaker stops once the sentences are
sent. axe-core runs on both pages; screenshots land in .polycast/screenshots/.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe import check_page
from conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE
from page_driver import wait_for_captions, wait_live, wait_ready
from speaker_browser import save_screenshot, wait_status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from local_e2e_support import RunningRuntime, start_runtime, stop_runtime  # noqa: E402
from speech_support import create_session  # noqa: E402

from polycast_kit.transcribe.festival import SpokenTalk, silence, speak, wav_bytes  # noqa: E402
from polycast_kit.transcribe.scoring import word_error_rate  # noqa: E402

pytestmark = pytest.mark.browser
SESSION = "bright-otter-512"
SCRIPT = (
    "Good morning everyone and welcome to the conference.",
    "Today we will talk about the weather in the mountains.",
    "Thank you very much for listening to this short talk.",
)
TRAILING_SILENCE_SECONDS = 8.0  # Chromium loops the file: stop before it speaks again
MAX_WER = 0.35  # Chromium resamples 16 kHz → 48 kHz → 16 kHz on the way; loose on purpose
DELIVERED = """n => {
  const items = [...document.querySelectorAll('#sentences li')];
  return items.length >= n && items.every(li => li.dataset.state === 'delivered');
}"""


# Started before Playwright (see test_join_and_display.py: started after it, the
# runtime once ignored SIGTERM).
@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    running = start_runtime(tmp_path_factory.mktemp("speaker-live"))
    yield running
    assert stop_runtime(running) == 0, running.log()


@pytest.fixture(scope="module")
def talk() -> SpokenTalk:
    return speak(SCRIPT)


@pytest.fixture(scope="module")
def live_browser(
    runtime: RunningRuntime, talk: SpokenTalk, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Chromium whose microphone speaks the talk, then silence (in a loop)."""
    wav = tmp_path_factory.mktemp("speech") / "talk.wav"
    wav.write_bytes(wav_bytes(talk.pcm + silence(TRAILING_SILENCE_SECONDS)))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        pytest.fail(f"playwright is not installed: {exc}")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (Debian package 'chromium')")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    *CHROMIUM_ARGS,
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={wav}",
                ],
            )
        except Exception as exc:
            pytest.fail(f"Chromium did not start: {exc}")
        yield browser
        browser.close()


def open_page(browser: Any, url: str, viewport: dict[str, int], errors: list[str]) -> Any:
    page = browser.new_context(viewport=viewport).new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.set_default_timeout(30_000)
    page.goto(url)
    return page


def test_spoken_into_the_speaker_page_read_on_the_listener_page(
    runtime: RunningRuntime, live_browser: Any, talk: SpokenTalk
) -> None:
    links = create_session(runtime, SESSION).links
    errors: list[str] = []

    listener = open_page(live_browser, links["listenerUrls"]["fr"], PHONE, errors)
    wait_ready(listener)
    assert listener.input_value("#language") == "fr"
    listener.click("#start")
    wait_live(listener, timeout=30_000)  # a created session: it waits for the speaker

    speaker = open_page(live_browser, links["speakerUrl"], DESKTOP, errors)
    wait_status(speaker, "Ready", timeout=30_000)
    assert links["speakerKey"] not in speaker.url, "the key leaves the address bar"
    check_page(speaker, "live speaker ready")
    speaker.click("#talk")
    wait_status(speaker, "On air")
    began = time.monotonic()

    # The recognizer's live text shows while a sentence is spoken...
    speaker.wait_for_function(
        "() => document.getElementById('live-text').textContent.trim().length > 3",
        timeout=60_000,
    )
    save_screenshot(speaker, "speaker-live-hearing-desktop")
    # ...and every sentence is sent and acknowledged by the session.
    speaker.wait_for_function(DELIVERED, arg=len(SCRIPT), timeout=120_000)
    save_screenshot(speaker, "speaker-live-desktop")
    speaker.click("#talk")  # Stop, before the looped file speaks again
    wait_status(speaker, "Ready")
    spoken_seconds = time.monotonic() - began
    sent = speaker.eval_on_selector_all(
        "#sentences li",
        "items => items.map(li => [Number(li.dataset.sequence), li.querySelector('.text')"
        ".textContent, li.dataset.state])",
    )
    assert [s[0] for s in sent] == list(range(1, len(sent) + 1)), sent
    assert {s[2] for s in sent} == {"delivered"}, sent
    recognized = " ".join(s[1] for s in sent[: len(SCRIPT)])
    wer = word_error_rate(talk.script, recognized)
    print(f"\nspeaker page: {len(sent)} sentences in {spoken_seconds:.1f} s, WER {wer:.3f}")
    assert wer <= MAX_WER, recognized
    check_page(speaker, "live speaker, sentences delivered")

    wait_for_captions(listener, len(SCRIPT), timeout=90_000)
    captions = listener.eval_on_selector_all(
        "#captions li",
        "items => items.map(li => [Number(li.dataset.sequence), "
        "li.querySelector('[lang]').lang, li.querySelector('[lang]').textContent])",
    )
    print("listener captions:", captions)
    assert len(captions) >= 2
    assert [c[0] for c in captions] == sorted(c[0] for c in captions), "in order"
    assert [c[0] for c in captions][: len(SCRIPT)] == [s[0] for s in sent][: len(SCRIPT)]
    assert {c[1] for c in captions} == {"fr"}
    assert all(c[2].strip() for c in captions)
    # The text-size row is one line tall (it once took 12rem of the phone's height).
    row = listener.eval_on_selector("label[for=text-size]", "l => l.offsetHeight")
    assert row <= 64, f"the text size row is {row}px tall"
    check_page(listener, "live listener, French captions")
    save_screenshot(listener, "listener-live-fr-phone")
    assert not errors, errors
