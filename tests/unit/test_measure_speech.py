"""``polycast measure --speech``'s arithmetic: which sent sentence completes a spoken
one, end of utterance → caption, the real-time factor, and the verdict (no I/O)."""

from __future__ import annotations

from typing import Any

from polycast_kit.local.measure_speech import (
    P95_SECONDS_BAR,
    RTF_BAR,
    completing_sequence,
    summarize,
)
from polycast_kit.transcribe.festival import SpokenSentence, SpokenTalk

TALK = SpokenTalk(
    pcm=bytes(2 * 16000 * 10),
    sentences=(
        SpokenSentence("good morning everyone", 300, 2300, 0.0),
        SpokenSentence("we begin with the weather", 3200, 5600, 0.0),
        SpokenSentence("thank you", 6500, 7500, 0.0),
    ),
)
START = 1_000_000.0  # wall time of audio 0


def sent(*spans: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [
        {"sequence": n, "startMs": a, "endMs": b, "text": text}
        for n, (a, b, text) in enumerate(spans, start=1)
    ]


def run(sentences: list[dict[str, Any]], arrivals: dict[int, float]) -> dict[str, Any]:
    segments = {seq: START + seconds for seq, seconds in arrivals.items()}
    return {
        "sent": sentences,
        "heard": {"es": {"partial": {}, "segment": segments}},
        "audioStart": START,
        "settled": True,
        "warmupSeconds": 4.2,
    }


def test_the_sentence_whose_recognized_end_reaches_the_true_end_completes_it() -> None:
    one_each = sent((310, 2290, "a"), (3210, 5500, "b"), (6500, 7480, "c"))
    assert [completing_sequence(s.end_ms, one_each) for s in TALK.sentences] == [1, 2, 3]
    # Split: the second half completes it. Merged: one sentence completes both.
    split = sent((310, 1200, "a"), (1300, 2290, "a"), (3210, 7480, "b c"))
    assert [completing_sequence(s.end_ms, split) for s in TALK.sentences] == [2, 3, 3]
    assert completing_sequence(9000, split) is None


def test_latency_is_caption_arrival_minus_the_true_end_and_rtf_is_cpu_over_audio() -> None:
    result = summarize(
        TALK,
        run(sent((310, 2290, "a"), (3210, 5500, "b"), (6500, 7480, "c")), {1: 3.5, 2: 7.1, 3: 9.0}),
        [(10.0, 2.5, 4.0)],
        ["es"],
    )
    assert result["endOfUtteranceToCaption"]["values"] == [1.2, 1.5, 1.5]
    assert result["p50Seconds"] == 1.5
    assert result["p95Seconds"] == 1.5
    assert result["ratio"] == 0.25
    assert result["realTimeFactor"] == {
        "cpu": 0.25,
        "wall": 0.4,
        "audioSeconds": 10.0,
        "decodingCpuSeconds": 2.5,
        "bar": RTF_BAR,
    }
    assert result["bar"] == RTF_BAR
    assert result["barKind"] == "max"
    assert result["complete"]
    assert result["pass"]
    assert result["warmupSeconds"] == 4.2
    assert result["wordErrorRate"] == 1.0  # "a b c" against the script


def test_a_missing_caption_a_slow_p95_or_a_slow_recognizer_fails() -> None:
    sentences = sent((310, 2290, "a"), (3210, 5500, "b"), (6500, 7480, "c"))
    missing = summarize(TALK, run(sentences, {1: 3.5, 2: 7.1}), [(10.0, 2.5, 4.0)], ["es"])
    assert not missing["complete"]
    assert not missing["pass"]
    slow = 7.5 + P95_SECONDS_BAR + 1
    late = summarize(TALK, run(sentences, {1: 3.5, 2: 7.1, 3: slow}), [(10, 2.5, 4)], ["es"])
    assert late["complete"]
    assert not late["pass"]
    busy = summarize(TALK, run(sentences, {1: 3.5, 2: 7.1, 3: 9.0}), [(10, 6.0, 9)], ["es"])
    assert busy["ratio"] == 0.6
    assert not busy["pass"]
