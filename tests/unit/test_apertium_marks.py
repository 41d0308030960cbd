"""The Apertium mark rules, without Apertium: contractions spelled out, marked words
replaced by their source word, half-generated forms never shown."""

from __future__ import annotations

import pytest

from polycast_kit.engines.apertium_marks import count_marked, normalize_english, repair


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Let's ask a question.", "Let us ask a question."),
        (
            "I don't know, we can't wait and it won't work.",
            "I do not know, we cannot wait and it will not work.",
        ),
        (
            "It's fine, you're here, they've left, we'll see, I'm sure.",
            "It is fine, you are here, they have left, we will see, I am sure.",
        ),
        ("Don’t go.", "Do not go."),
        ("The speaker's voice matters.", "The speaker's voice matters."),
    ],
)
def test_english_contractions_are_spelled_out(text: str, normalized: str) -> None:
    assert normalize_english(text) == normalized


WORDS = {"Prp": "#prpers", "mistake": "*mistake", "big": "grande", "That": "Aquello"}


def one_word(word: str) -> str:
    return WORDS.get(word, word)


def test_a_marked_word_becomes_its_source_word() -> None:
    out = repair("Aquello era una *mistake grande.", "That was a big mistake.", one_word)
    assert out == "Aquello era una mistake grande."
    assert count_marked(out) == 0


def test_a_pivot_hop_falls_back_to_the_original_english_word() -> None:
    out = repair(
        "Cela était une *equivocación .",
        "Aquello era una equivocación.",
        lambda w: "*equivocación" if w == "equivocación" else w,
        lambda w: "mistake" if w == "equivocación" else None,
    )
    assert out == "Cela était une mistake."


def test_a_generation_error_without_a_source_word_is_dropped_not_shown() -> None:
    assert repair("#Prpers pedimos.", "Ask.", one_word) == "pedimos."


def test_marks_inside_elisions_are_found() -> None:
    assert count_marked("Quello era un'*equivocación grande") == 1
    assert count_marked("a 50 % * 3 # @ b") == 0
