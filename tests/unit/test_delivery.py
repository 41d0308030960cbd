"""Volume from loudness against the speaker's own level; the emotion rule; partial pacing."""

from __future__ import annotations

import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polycast.domain.delivery import (
    DeliveryMeter,
    SpeakerLevel,
    emotion_for,
    pcm_slice,
    rms_dbfs,
    volume_bucket,
)
from polycast.domain.partial_pacing import PartialPacer
from polycast.domain.ssml import EMOTION_STYLES, VOLUMES
from polycast_kit.transcribe.festival import scale, tone


def test_rms_of_a_full_scale_square_and_a_sine() -> None:
    square = array("h", [32767, -32767] * 100).tobytes()
    assert rms_dbfs(square) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(tone(0.5, amplitude=16384)) == pytest.approx(-9.03, abs=0.05)
    assert rms_dbfs(b"") == -math.inf
    assert rms_dbfs(bytes(100)) == -math.inf


def test_gain_moves_loudness_by_its_decibels() -> None:
    base = tone(0.5, amplitude=3000)
    assert rms_dbfs(scale(base, 6)) - rms_dbfs(base) == pytest.approx(6, abs=0.05)


def test_pcm_slice_takes_whole_samples_between_times() -> None:
    pcm = bytes(range(256)) * 250  # 64,000 bytes = 2 s
    part = pcm_slice(pcm, 500, 1000)
    assert len(part) == 16000
    assert part == pcm[16000:32000]
    assert pcm_slice(pcm, 1500, 1000) == b""


@pytest.mark.parametrize(
    ("delta", "level"),
    [
        (-20, "x-soft"),
        (-9, "soft"),
        (-4, "soft"),
        (-3, "normal"),
        (2.9, "normal"),
        (3, "loud"),
        (8.9, "loud"),
        (9, "x-loud"),
    ],
)
def test_buckets(delta: float, level: str) -> None:
    assert volume_bucket(delta) == level
    assert level in VOLUMES


def test_running_level_is_the_speakers_own() -> None:
    quiet_mic = SpeakerLevel()
    assert quiet_mic.judge(-40.0) == ("normal", 0.0)  # the first sentence sets the level
    assert quiet_mic.judge(-40.5)[0] == "normal"
    assert quiet_mic.judge(-33.0)[0] == "loud"  # 7 dB above the level
    assert quiet_mic.judge(-52.0)[0] == "x-soft"
    assert quiet_mic.judge(-200.0) == ("x-soft", -math.inf)  # silence does not move the level
    loud_mic = SpeakerLevel()
    loud_mic.judge(-12.0)
    assert loud_mic.judge(-12.0)[0] == "normal"


@given(st.lists(st.floats(min_value=-80, max_value=0), min_size=1, max_size=50))
def test_level_stays_within_what_was_heard(levels: list[float]) -> None:
    meter = SpeakerLevel()
    for db in levels:
        volume, _ = meter.judge(db)
        assert volume in VOLUMES
        assert meter.level_db is not None
        assert min(levels) - 1e-9 <= meter.level_db <= max(levels) + 1e-9


@pytest.mark.parametrize(
    ("delta", "wpm", "volume", "emotion"),
    [
        (0, 150, "normal", "neutral"),
        (10, 210, "x-loud", "excited"),
        (12, 150, "x-loud", "excited"),  # much louder alone: arousal 0.5
        (6, 150, "loud", "neutral"),  # a little louder: arousal 0.25
        (-10, 100, "x-soft", "sad"),
        (-2, 95, "normal", "calm"),
        (0, 240, "normal", "excited"),
    ],
)
def test_emotion_rule(delta: float, wpm: float, volume: str, emotion: str) -> None:
    got, intensity = emotion_for(delta, wpm, volume)
    assert got == emotion
    assert got in EMOTION_STYLES
    assert 0.5 <= intensity <= 1.0


@given(
    st.floats(min_value=-60, max_value=60),
    st.floats(min_value=40, max_value=400),
    st.sampled_from(sorted(VOLUMES)),
)
def test_emotion_is_always_a_table_word(delta: float, wpm: float, volume: str) -> None:
    emotion, intensity = emotion_for(delta, wpm, volume)
    assert emotion in EMOTION_STYLES
    assert 0.5 <= intensity <= 1.0


def test_meter_measures_a_sentence() -> None:
    meter = DeliveryMeter()
    first = meter.measure(tone(1, amplitude=3000), 150)
    assert (first.volume_level, first.emotion, first.rate_wpm) == ("normal", "neutral", 150)
    louder = meter.measure(tone(1, amplitude=12000), 200)
    assert louder.volume_level == "x-loud"
    assert louder.emotion == "excited"
    assert meter.measure(tone(1, amplitude=3000), None).rate_wpm == 150


def test_pacer_sends_only_growth_and_at_most_twice_a_second() -> None:
    pacer = PartialPacer()
    assert not pacer.offer(1, "", 0.0)  # nothing stable yet
    assert pacer.offer(1, "Our next", 0.1)
    assert not pacer.offer(1, "Our next speaker", 0.3)  # grew, but too soon
    assert not pacer.offer(1, "Our next", 0.9)  # did not grow
    assert pacer.offer(1, "Our next speaker", 0.9)
    assert not pacer.offer(1, "Our next speaker", 2.0)
    assert pacer.offer(2, "Thank", 2.0)  # a new sentence starts afresh
    assert not pacer.offer(3, "Then", 2.2)  # but the session's rate still holds


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 12), st.floats(0, 0.4)), max_size=200))
def test_pacer_never_exceeds_its_rate(steps: list[tuple[int, int, float]]) -> None:
    pacer, now, sent = PartialPacer(), 0.0, []
    for sequence, words, dt in steps:
        now += dt
        if pacer.offer(sequence, " ".join(["w"] * words), now):
            sent.append(now)
    assert all(b - a >= 0.5 for a, b in zip(sent, sent[1:], strict=False))


@pytest.mark.parametrize(
    ("delta", "wpm", "volume", "expected"),
    [
        (12, 150, "x-loud", ("excited", 0.75)),
        (6, 150, "loud", ("neutral", 0.5)),
        (-10, 100, "x-soft", ("sad", 0.88)),
        (0, 95, "normal", ("calm", 0.68)),
    ],
)
def test_examples_in_docs_emotion_ssml(
    delta: float, wpm: float, volume: str, expected: tuple[str, float]
) -> None:
    assert emotion_for(delta, wpm, volume) == expected
