"""Recognizer finals → sentences: split at punctuation and pauses, never over the cap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polycast.domain.utterances import (
    MAX_SENTENCE_MS,
    PAUSE_MS,
    TimedWord,
    rate_wpm,
    split_sentences,
    words_from_result,
)


def _words(spec: str, start: int = 0, word_ms: int = 300, gap_ms: int = 50) -> list[TimedWord]:
    """'a b. c' → words of word_ms with gap_ms between; punctuation attached."""
    out, t = [], start
    for token in spec.split():
        text = token.rstrip(".,?!")
        out.append(TimedWord(text, t, t + word_ms, token[len(text) :]))
        t += word_ms + gap_ms
    return out


def test_result_items_become_words_with_punctuation_attached() -> None:
    result = {
        "Alternatives": [
            {
                "Transcript": "Hello, world.",
                "Items": [
                    {"Type": "pronunciation", "Content": "Hello", "StartTime": 0.1, "EndTime": 0.4},
                    {"Type": "punctuation", "Content": ",", "StartTime": 0.4, "EndTime": 0.4},
                    {"Type": "pronunciation", "Content": "world", "StartTime": 0.5, "EndTime": 0.9},
                    {"Type": "punctuation", "Content": "."},
                    {"Type": "pronunciation", "Content": "bad", "StartTime": "x"},
                ],
            }
        ]
    }
    assert words_from_result(result) == [
        TimedWord("Hello", 100, 400, ","),
        TimedWord("world", 500, 900, "."),
    ]
    assert words_from_result({"Alternatives": []}) == []
    assert words_from_result({"Alternatives": [{"Transcript": "x"}]}) == []


def test_split_at_sentence_punctuation() -> None:
    sentences = split_sentences(_words("Hello everyone. This is news! Really? yes"))
    assert [s.text for s in sentences] == ["Hello everyone.", "This is news!", "Really?", "yes"]


def test_commas_do_not_split() -> None:
    assert len(split_sentences(_words("one, two, three four."))) == 1


def test_split_at_a_long_pause_only() -> None:
    first = _words("so we went")
    later = _words("and then came back", start=first[-1].end_ms + PAUSE_MS)
    short = _words("and stayed", start=later[-1].end_ms + PAUSE_MS - 1)
    sentences = split_sentences(first + later + short)
    assert [s.text for s in sentences] == ["so we went", "and then came back and stayed"]


def test_run_on_speech_is_capped_and_cut_at_a_comma() -> None:
    # 60 words of 300 ms with 50 ms gaps: 21 s without a full stop or long pause.
    spec = " ".join(f"w{i}," if i == 30 else f"w{i}" for i in range(60))
    sentences = split_sentences(_words(spec))
    assert all(s.duration_ms <= MAX_SENTENCE_MS for s in sentences)
    assert sentences[0].text.endswith("w30,")
    assert [w for s in sentences for w in s.words] == _words(spec)


def test_times_and_rate() -> None:
    (sentence,) = split_sentences(_words("a b c d e", start=1000, word_ms=350, gap_ms=50))
    assert (sentence.start_ms, sentence.end_ms) == (1000, 2950)
    assert sentence.rate_wpm == round(5 * 60_000 / 1950)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], None),
        (_words("one"), None),
        (_words("a b", word_ms=100, gap_ms=0), None),  # under half a second
        (_words("a b c", word_ms=5000), 40),  # clamped
        (_words(" ".join("x" * 30), word_ms=20, gap_ms=0), 400),
    ],
)
def test_rate_needs_enough_to_judge(words: list[TimedWord], expected: int | None) -> None:
    assert rate_wpm(words) == expected


word_specs = st.lists(
    st.tuples(
        st.integers(min_value=50, max_value=1500),  # word length
        st.integers(min_value=0, max_value=2000),  # gap before
        st.sampled_from(["", "", "", ",", ".", "?"]),
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(word_specs)
def test_every_word_once_in_order_and_no_sentence_over_the_cap(
    spec: list[tuple[int, int, str]],
) -> None:
    words, t = [], 0
    for i, (length, gap, mark) in enumerate(spec):
        t += gap
        words.append(TimedWord(f"w{i}", t, t + length, mark))
        t += length
    sentences = split_sentences(words)
    assert [w for s in sentences for w in s.words] == words
    for s in sentences:
        assert s.words
        assert s.duration_ms <= MAX_SENTENCE_MS or len(s.words) == 1
        inner = zip(s.words, s.words[1:], strict=False)
        assert all(b.start_ms - a.end_ms < PAUSE_MS for a, b in inner)
        assert not any(w.ends_sentence for w in s.words[:-1])
