"""Glossary files: Amazon Translate's custom-terminology CSV, checked with line numbers."""

from __future__ import annotations

import pytest

from polycast.domain.cache_keys import translation_key
from polycast.domain.glossary import (
    MAX_TERM_BYTES,
    GlossaryError,
    parse_glossary,
    terminology_name,
)
from polycast.domain.translation_settings import TranslationSettings
from polycast_kit.engines.glossary_terms import mask_profanity, protect_terms, restore_terms

GOOD = (
    "en,es,fr\n"
    "Golden Gate Labs,Golden Gate Labs,Golden Gate Labs\n"
    "machine learning,aprendizaje automático,\n"
)


def test_a_good_file_parses_in_order() -> None:
    glossary = parse_glossary(GOOD, source="en")
    assert (glossary.source, glossary.targets) == ("en", ("es", "fr"))
    assert glossary.terms_for("es") == [  # longest first; equal lengths in file order
        ("Golden Gate Labs", "Golden Gate Labs"),
        ("machine learning", "aprendizaje automático"),
    ]
    assert glossary.terms_for("fr") == [("Golden Gate Labs", "Golden Gate Labs")]  # empty cell
    assert glossary.terms_for("de") == []
    assert parse_glossary(glossary.to_csv()) == glossary
    assert parse_glossary(("\ufeff" + GOOD).encode()) == glossary  # a BOM from a spreadsheet


def test_every_problem_is_reported_with_its_line() -> None:
    bad = (
        "en,es,english\n"
        "Polycast,Polycast,x\n"
        ",nada,x\n"
        "two,cells\n"
        "polycast,otra vez,x\n"
        f"{'x' * (MAX_TERM_BYTES + 1)},largo,x\n"
    )
    with pytest.raises(GlossaryError) as raised:
        parse_glossary(bad, source="en")
    assert raised.value.code == "INVALID_GLOSSARY"
    assert raised.value.problems == [
        "line 1: column 3 'english' is not a language code",
        "line 3: no source term in the first column",
        "line 4: 2 cells, the header has 3",
        "line 5: 'polycast' repeats line 2",
        f"line 6: the en term is longer than {MAX_TERM_BYTES} bytes",
    ]


def test_header_rules_follow_translate_quotas() -> None:
    with pytest.raises(GlossaryError, match="line 1: the first column is 'es'"):
        parse_glossary("es,en\nhola,hello\n", source="en")
    eleven = ",".join(["en", "es", "fr", "de", "it", "pt", "ca", "gl", "ro", "nl", "ja", "ko"])
    with pytest.raises(GlossaryError, match="11 target languages"):
        parse_glossary(eleven + "\n" + ",".join(["t"] * 12) + "\n")
    with pytest.raises(GlossaryError, match="no terms after the header"):
        parse_glossary("en,es\n")
    with pytest.raises(GlossaryError, match="line 1: no header row"):
        parse_glossary("\n\n")
    with pytest.raises(GlossaryError, match="at most 100 bytes"):
        parse_glossary(GOOD, max_bytes=100)
    with pytest.raises(GlossaryError, match="not UTF-8"):
        parse_glossary(b"en,es\n\xff,x\n")


def test_terminology_names_fit_translates_pattern() -> None:
    assert terminology_name("golden-eagle-427") == "polycast-golden-eagle-427"
    assert terminology_name("a__b_") == "polycast-a_b"


def test_settings_change_the_cache_key_only_where_they_apply() -> None:
    glossary = parse_glossary(GOOD)
    settings = TranslationSettings(glossary=glossary, formality="formal")
    assert settings.variant("es") == f"g={glossary.digest},f=formal"
    assert settings.variant("de") == "f=formal"
    assert settings.variant("ca") == ""  # no glossary column, no formality in Translate
    plain = translation_key("Hello", "en", "es")
    assert translation_key("Hello", "en", "es", "") == plain
    assert translation_key("Hello", "en", "es", settings.variant("es")) != plain


def test_terms_are_protected_by_number_tokens_and_restored() -> None:
    glossary = parse_glossary(GOOD)
    text, tokens = protect_terms("Golden Gate Labs does Machine Learning.", glossary, "es")
    assert text == "90417 does 90418."  # case-insensitive, whole words
    assert restore_terms("90417 hace 90418.", tokens) == (
        "Golden Gate Labs hace aprendizaje automático."
    )
    assert protect_terms("Golden Gate Labsx", glossary, "es") == ("Golden Gate Labsx", {})
    clash, tokens = protect_terms("Room 904 at Golden Gate Labs", glossary, "es")
    assert clash == "Room 904 at 190417"  # tokens from a range the sentence does not use
    assert restore_terms(clash, tokens) == "Room 904 at Golden Gate Labs"


def test_profanity_is_masked_as_translate_masks_it() -> None:
    assert mask_profanity("Esto es una mierda, joder.", "es") == "Esto es una ?$#@$, ?$#@$."
    assert mask_profanity("Mierdas no", "es") == "Mierdas no"  # whole words only
    assert mask_profanity("Das ist Mist", "de") == "Das ist Mist"  # no list: unchanged
