"""Glossaries and profanity masking around the real Apertium engine (Debian's pairs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from polycast.domain.glossary import parse_glossary
from polycast.domain.translation_settings import TranslationSettings
from polycast_kit.engines import ApertiumTranslator

GLOSSARY = parse_glossary(
    "en,es,fr,it\n"
    "Golden Gate Labs,Golden Gate Labs,Golden Gate Labs,Golden Gate Labs\n"
    "Baker,Baker,Baker,Baker\n"
    "machine learning,aprendizaje automático,apprentissage automatique,\n",
    source="en",
)
SETTINGS = TranslationSettings(glossary=GLOSSARY)


@pytest.fixture(scope="module")
def apertium() -> Iterator[ApertiumTranslator]:
    with ApertiumTranslator(experimental=True) as translator:
        assert translator.available_targets("en"), "apertium pairs are not installed (make setup)"
        yield translator


@pytest.mark.parametrize("target", ["es", "fr", "it"])
def test_names_the_engine_gets_wrong_are_kept_with_the_glossary(
    apertium: ApertiumTranslator, target: str
) -> None:
    text = "Welcome to Golden Gate Labs. Mr Baker will talk today."
    without = apertium.translate(text, source="en", target=target)
    assert "Golden Gate Labs" not in without  # "Laboratorios de Puerta Dorada", …
    assert "Baker" not in without  # "Panadero", "Boulanger", "Panettiere"
    with_glossary = apertium.translate(text, source="en", target=target, settings=SETTINGS)
    assert "Golden Gate Labs" in with_glossary
    assert "Baker" in with_glossary
    assert not any(ch.isdigit() for ch in with_glossary)  # no placeholder left behind


def test_terms_take_their_target_form_and_empty_cells_are_left_to_the_engine(
    apertium: ApertiumTranslator,
) -> None:
    text = "We use machine learning."
    assert "aprendizaje automático" in apertium.translate(
        text, source="en", target="es", settings=SETTINGS
    )
    assert "apprentissage automatique" in apertium.translate(
        text, source="en", target="fr", settings=SETTINGS
    )
    plain_it = apertium.translate(text, source="en", target="it")
    assert apertium.translate(text, source="en", target="it", settings=SETTINGS) == plain_it


def test_profanity_is_masked_locally(apertium: ApertiumTranslator) -> None:
    text = "This is shit."
    assert "mierda" in apertium.translate(text, source="en", target="es")
    masked = apertium.translate(
        text, source="en", target="es", settings=TranslationSettings(profanity=True)
    )
    assert "mierda" not in masked
    assert "?$#@$" in masked
