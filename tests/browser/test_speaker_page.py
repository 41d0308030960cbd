"""The speaker page in headless Chromium, with a fake microphone speaking Festival's
voice, against the scripted gateway's speaker route and scripted Transcribe endpoint.

What is checked is what a speaker and the server see: the PCM that arrives (16 kHz:
32,000 bytes a second), the live text and the sentences on the page, the transcripts
with increasing sequences, the resume after a dropped connection (no gap, no repeat),
and axe-core in each state.
"""

from __future__ import annotations

import time
from typing import Any

from axe import check_page
from conftest import DESKTOP
from scripted_speaker import result
from speaker_browser import (
    save_screenshot,
    speaker_link,
    wait_status,
)

pytest_plugins = ("speaker_fixtures",)  # its fixtures: browsers with a microphone, the gateway

ALL_DELIVERED = """() => [...document.querySelectorAll('#sentences li')]
  .every(li => li.dataset.state === 'delivered')"""
VOLUME_LEVELS = {"x-soft", "soft", "normal", "loud", "x-loud"}
EMOTIONS = {"neutral", "happy", "sad", "angry", "excited", "calm", "fearful", "surprised"}


def wait_until(predicate: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_speaking(page: Any) -> None:
    """With the keyboard, as a speaker who does not use a mouse would."""
    wait_status(page, "Ready")
    page.focus("#talk")
    assert page.evaluate("document.activeElement.id") == "talk"
    page.keyboard.press("Enter")
    wait_status(page, "On air")


def sentence_states(page: Any) -> list[list[Any]]:
    return page.eval_on_selector_all(
        "#sentences li", "items => items.map(li => [Number(li.dataset.sequence), li.dataset.state])"
    )


def test_captures_16khz_pcm_shows_live_text_and_sends_sentences(
    gateway: Any, mic_browser: Any, open_speaker_page: Any, page_errors: list[str]
) -> None:
    speaker = gateway.speaker
    page = open_speaker_page(mic_browser, speaker_link(gateway))
    wait_status(page, "Ready")
    assert "speakerKey" not in page.url, "the key leaves the address bar"
    check_page(page, "speaker ready")
    save_screenshot(page, "speaker-ready-phone")
    start_speaking(page)

    wait_until(lambda: speaker.actions("transcribeUrl"), 10, "the recognition URL request")
    assert speaker.actions("transcribeUrl") == [
        {"action": "transcribeUrl", "languageCode": "en-US", "sampleRate": 16000}
    ]
    wait_until(lambda: speaker.streams and speaker.streams[0].pcm_bytes >= 7 * 32000, 40, "7 s")
    stream = speaker.streams[0]
    assert stream.query["sample-rate"] == "16000"
    assert not stream.bad, stream.bad
    rate = stream.bytes_per_second(skip_seconds=2.0)  # past the burst of queued audio
    assert 0.9 * 32000 <= rate <= 1.1 * 32000, f"{rate:.0f} bytes/s is not 16 kHz 16-bit mono"
    assert {n for _, n in stream.frames} == {3200}, "100 ms AudioEvents"
    # the meter moves with the speech (and falls in its pauses)
    page.wait_for_function("() => document.getElementById('level').value > 0.3", timeout=10_000)

    words = [("Good", 0.1, 0.4), ("morning", 0.45, 0.9), ("everyone", 0.95, 1.5)]
    speaker.send_results([result(words[:2], partial=True, stable=1)])
    page.wait_for_function(
        "() => document.getElementById('live-text').textContent === 'Good morning'"
    )
    wait_until(lambda: speaker.actions("partial"), 10, "a partial")
    assert speaker.actions("partial")[0] == {
        "action": "partial",
        "sequence": 1,
        "text": "Good morning",
        "stableText": "Good",
    }
    check_page(page, "speaker on air, live text")

    talk = [*words, ("today", 2.4, 2.8), ("we", 2.85, 3.0), ("begin", 3.05, 3.6)]
    final = result(talk, partial=False, end_mark=".")
    final["Alternatives"][0]["Items"].insert(
        3, {"StartTime": 1.5, "EndTime": 1.5, "Type": "punctuation", "Content": "."}
    )
    speaker.send_results([final])
    page.wait_for_function("() => document.querySelectorAll('#sentences li').length === 2")
    wait_until(lambda: speaker.accepted == [1, 2], 10, "two transcripts")
    sent = speaker.actions("transcript")
    assert [m["transcriptText"] for m in sent] == ["Good morning everyone.", "today we begin."]
    assert [m["sequence"] for m in sent] == [1, 2]
    for message in sent:
        assert 0 <= message["startMs"] < message["endMs"]
        dynamics = message["emotionDynamics"]
        assert dynamics["volumeLevel"] in VOLUME_LEVELS
        assert dynamics["emotion"] in EMOTIONS
        assert 0 <= dynamics["intensity"] <= 1
        assert 40 <= dynamics["rateWpm"] <= 400
    assert sent[0]["endMs"] - sent[0]["startMs"] == 1400
    assert sent[0]["emotionDynamics"]["rateWpm"] == round(3 * 60000 / 1400)
    page.wait_for_function(ALL_DELIVERED)
    assert page.text_content("#live-text") == "…"
    check_page(page, "speaker on air, sentences delivered")
    save_screenshot(page, "speaker-on-air-phone")

    page.keyboard.press("Enter")  # the focus is still on the button: Stop
    wait_status(page, "Ready")
    wait_until(lambda: stream.ended, 10, "the empty AudioEvent that ends the stream")
    assert page.text_content("#talk") == "Start speaking"
    assert not page_errors, page_errors


def test_dropped_connection_resumes_without_gaps_or_repeats(
    gateway: Any, mic_browser: Any, open_speaker_page: Any, page_errors: list[str]
) -> None:
    speaker = gateway.speaker
    page = open_speaker_page(mic_browser, speaker_link(gateway), viewport=DESKTOP)
    start_speaking(page)
    wait_until(lambda: speaker.streams and speaker.streams[0].pcm_bytes > 0, 20, "audio")

    def say(sentence_no: int, result_id: str) -> None:
        start = 5.0 * sentence_no
        words = [(f"word{sentence_no}a", start, start + 0.4), ("again", start + 0.5, start + 0.9)]
        speaker.send_results([result(words, partial=False, end_mark=".", result_id=result_id)])

    speaker.hold_acks = True  # the acks of 1 and 2 are lost with the connection
    say(1, "a")
    say(2, "b")
    wait_until(lambda: speaker.accepted == [1, 2], 10, "1 and 2 received")
    speaker.offline = True
    speaker.drop()
    wait_status(page, "Reconnecting…")
    page.wait_for_selector("#notice:not([hidden])")
    check_page(page, "speaker reconnecting")
    save_screenshot(page, "speaker-reconnecting-desktop")
    say(3, "c")  # recognized while the session connection is down
    page.wait_for_function("() => document.querySelectorAll('#sentences li').length === 3")
    speaker.release_acks()
    speaker.offline = False
    wait_status(page, "On air", timeout=30_000)
    page.wait_for_function(ALL_DELIVERED)
    say(4, "d")
    wait_until(lambda: speaker.accepted == [1, 2, 3, 4], 10, "sentence 4")
    assert speaker.accepted == [1, 2, 3, 4], "no gap, no repeat"
    sent = [m["sequence"] for m in speaker.actions("transcript")]
    assert sent == [1, 2, 1, 2, 3, 4], "the unacknowledged ones were sent again, in order"
    assert speaker.speaker_connects == 2
    assert len(speaker.streams) == 1, "recognition went on through the drop"
    page.wait_for_function(
        "() => document.querySelectorAll('#sentences li[data-state=delivered]').length === 4"
    )
    assert sentence_states(page) == [[n, "delivered"] for n in (1, 2, 3, 4)]
    # the browser logs each refused reconnect (503 while offline); nothing else
    assert not [e for e in page_errors if "Unexpected response code: 503" not in e], page_errors
