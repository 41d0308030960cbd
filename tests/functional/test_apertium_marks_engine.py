"""Real Apertium: no engine markup or half-generated form reaches a listener, and
French through Spanish does not leak Spanish for a word the second hop lacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from polycast_kit.engines.apertium import ApertiumTranslator
from polycast_kit.engines.apertium_marks import has_marks

TALK = Path(__file__).resolve().parents[2] / "samples" / "talk.jsonl"


@pytest.fixture(scope="module")
def translator() -> Iterator[ApertiumTranslator]:
    with ApertiumTranslator(experimental=True) as engine:
        targets = engine.available_targets("en")
        assert {"es", "fr", "it"} <= set(targets), f"Apertium pairs missing: {targets}"
        yield engine


def test_lets_is_not_a_broken_form(translator: ApertiumTranslator) -> None:
    spanish = translator.translate("Let's ask a question.", source="en", target="es")
    assert "Dejado es" not in spanish
    assert not has_marks(spanish)
    assert "pedir" in spanish


def test_french_through_spanish_does_not_leak_spanish(translator: ApertiumTranslator) -> None:
    french = translator.translate("That was a big mistake.", source="en", target="fr")
    assert "equivocación" not in french
    assert not has_marks(french)


def test_no_segment_of_the_demo_talk_carries_a_mark(translator: ApertiumTranslator) -> None:
    texts = [
        json.loads(line)["transcriptText"]
        for line in TALK.read_text(encoding="utf-8").splitlines()
        if line.startswith("{") and "transcriptText" in line
    ]
    assert len(texts) >= 20
    for target in translator.available_targets("en"):
        for text in texts:
            out = translator.translate(text, source="en", target=target)
            assert not has_marks(out), (target, out)
            assert "  " not in out
