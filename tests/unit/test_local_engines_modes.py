"""Apertium mode discovery, routing and stream escaping: pure functions, no processes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from polycast.errors import UnsupportedLanguage
from polycast_kit.engines.apertium import ApertiumTranslator, escape_stream, unescape_stream
from polycast_kit.engines.apertium_modes import (
    Mode,
    ModeCatalog,
    iso639_1,
    null_flush_pipeline,
    parse_mode_name,
    pipeline_commands,
    pipeline_from_modes_xml,
)

# The modes Debian's apertium-eng-spa, eng-cat, en-gl, fr-es, es-pt, es-it and es-ro install.
DEBIAN_MODES = [
    "cat-eng",
    "cat-eng_US",
    "eco-es-fr",
    "eco-fr-es",
    "en-gl",
    "eng-cat",
    "eng-cat_iec2017",
    "eng-cat_valencia",
    "eng-cat_valencia_uni",
    "eng-spa",
    "es-fr",
    "es-pt",
    "es-pt_BR",
    "fr-es",
    "gl-en",
    "ita-spa",
    "pt-es",
    "ro-es",
    "spa-eng",
    "spa-eng_US",
    "spa-ita",
]


def catalog(names: list[str] = DEBIAN_MODES) -> ModeCatalog:
    return ModeCatalog.from_modes(Mode(name, f"lt-proc {name}.bin") for name in names)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("eng", "en"), ("spa", "es"), ("cat", "ca"), ("ita", "it"), ("glg", "gl"), ("ron", "ro")]
    + [("por", "pt"), ("fra", "fr"), ("es", "es"), ("gl", "gl"), ("ast", "ast"), ("SPA", "es")]
    + [("es-MX", "es"), ("en_US", "en"), ("pt-BR", "pt")],
)
def test_apertium_codes_become_iso_639_1(code: str, expected: str) -> None:
    assert iso639_1(code) == expected


def test_mode_names_parse_into_directions_and_variants() -> None:
    plain = parse_mode_name("eng-spa")
    variant = parse_mode_name("eng-cat_valencia_uni")
    assert plain is not None
    assert (plain.source, plain.target, plain.variant) == ("en", "es", None)
    assert variant is not None
    assert (variant.source, variant.target, variant.variant) == ("en", "ca", "valencia_uni")
    assert parse_mode_name("eco-es-fr") is None
    assert parse_mode_name("es-ro-tagger") is None


def test_plain_modes_win_over_variants() -> None:
    modes = catalog(["eng-cat_valencia", "eng-cat", "es-pt_BR", "es-pt"]).modes
    assert modes[("en", "ca")].name == "eng-cat"
    assert modes[("es", "pt")].name == "es-pt"


def test_a_variant_is_used_when_it_is_the_only_mode() -> None:
    assert catalog(["eng-cat_valencia"]).modes[("en", "ca")].name == "eng-cat_valencia"


def test_english_reaches_direct_pairs_and_spanish_pivots() -> None:
    assert catalog().targets("en") == ["es", "ca", "gl", "fr", "it", "pt"]


def test_romanian_is_reported_as_source_only() -> None:
    cat = catalog()
    assert "ro" not in cat.targets("en")
    assert cat.source_only("en") == ["ro"]


def test_routes_are_direct_or_through_the_pivot() -> None:
    cat = catalog()
    direct = cat.route("en", "gl")
    pivoted = cat.route("en", "fr")
    assert direct is not None
    assert [m.name for m in direct.modes] == ["en-gl"]
    assert direct.pivot is None
    assert pivoted is not None
    assert [m.name for m in pivoted.modes] == ["eng-spa", "es-fr"]
    assert pivoted.pivot == "es"
    assert pivoted.describe() == "en->fr: eng-spa + es-fr"
    assert cat.route("en", "ro") is None
    assert cat.route("gl", "fr") is None  # gl has no gl-es: no pivot either


def test_experimental_modes_lose_to_installed_ones() -> None:
    modes = [Mode("es-ro", "x", experimental=True), Mode("es-ro_x", "y")]
    assert ModeCatalog.from_modes(modes).modes[("es", "ro")].name == "es-ro_x"


def test_null_flush_adds_z_to_every_apertium_stage_only() -> None:
    mode = (
        "lt-proc 'a.bin' | apertium-tagger -g $2 'b.prob' | apertium-pretransfer"
        " | cg-proc -w 'c.rlx' | lt-proc -z $1 'd.bin' | tr a b"
    )
    assert null_flush_pipeline(mode) == (
        "lt-proc -z 'a.bin' | apertium-tagger -z -g $2 'b.prob' | apertium-pretransfer -z"
        " | cg-proc -z -w 'c.rlx' | lt-proc -z $1 'd.bin' | tr a b"
    )


def test_pipeline_commands_fill_the_mode_holes_without_a_shell() -> None:
    mode = "lt-proc '/d/a b.bin' | apertium-tagger -g $2 '/d/p.prob' | lt-proc $1 '/d/g.bin'"
    assert pipeline_commands(mode) == [
        ["lt-proc", "-z", "/d/a b.bin"],
        ["apertium-tagger", "-z", "-g", "/d/p.prob"],
        ["lt-proc", "-z", "-n", "/d/g.bin"],
    ]


def test_modes_xml_pipelines_get_the_pair_directory() -> None:
    element = ET.fromstring(
        '<mode name="es-ro" install="no"><pipeline>'
        '<program name="lt-proc"><file name="es-ro.automorf.bin"/></program>'
        '<program name="apertium-pretransfer"/>'
        '<program name="lt-proc $1"><file name="es-ro.autogen.bin"/></program>'
        "</pipeline></mode>"
    )
    pair = Path("/usr/share/apertium/apertium-es-ro")
    assert pipeline_from_modes_xml(element, pair) == (
        f"lt-proc {pair}/es-ro.automorf.bin | apertium-pretransfer"
        f" | lt-proc $1 {pair}/es-ro.autogen.bin"
    )


@pytest.mark.parametrize(
    "text",
    ["plain", "a [b] <c> ^d$ e/f @g {h} \\i", "ends with backslash \\", "línea\ncon acentos"],
)
def test_stream_escaping_round_trips(text: str) -> None:
    assert unescape_stream(escape_stream(text)) == text


def test_escaping_leaves_no_stream_syntax_and_controls_become_spaces() -> None:
    escaped = escape_stream("^x<n>$[b]\x00\x07")
    assert escaped == "\\^x\\<n\\>\\$\\[b\\]  "


def test_unescaping_drops_superblanks_and_nul() -> None:
    assert unescape_stream("Hola[]\0") == "Hola"
    assert unescape_stream("a[<b>\\]x]c \\[d\\]") == "ac [d]"


def test_unsupported_pair_names_what_is_supported_without_starting_anything() -> None:
    translator = ApertiumTranslator(catalog())
    with pytest.raises(UnsupportedLanguage) as raised:
        translator.translate("Hello", source="en", target="ro")
    assert raised.value.code == "UNSUPPORTED_LANGUAGE"
    assert "es, ca, gl, fr, it, pt" in str(raised.value)
    assert translator._pipelines == {}


def test_same_language_and_blank_text_pass_through() -> None:
    translator = ApertiumTranslator(catalog())
    assert translator.translate("Hello.", source="en", target="en") == "Hello."
    assert translator.translate("Hello.", source="en-US", target="en") == "Hello."
    assert translator.translate("  ", source="en", target="es") == "  "
    assert translator._pipelines == {}
