"""Polly-style SSML → espeak-ng SSML, and voices per language: no processes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from polycast.domain.models import EmotionDynamics
from polycast.domain.ssml import build_ssml
from polycast.errors import BadRequest, UnsupportedLanguage
from polycast_kit.engines.espeak import VOICES, EspeakSynthesizer, voice_for
from polycast_kit.engines.espeak_ssml import (
    espeak_break_time,
    espeak_pitch,
    espeak_rate,
    espeak_volume,
    to_espeak_ssml,
)


@pytest.mark.parametrize(
    ("polly", "espeak"),
    [
        ("115%", "115%"),
        ("100%", "100%"),
        ("20%", "20%"),
        ("5%", "20%"),
        ("900%", "300%"),
        ("+50%", "150%"),
        ("-25%", "75%"),
        ("1.5", "150%"),
        ("fast", "fast"),
        ("X-SLOW", "x-slow"),
        ("bogus", None),
        ("", None),
    ],
)
def test_rate(polly: str, espeak: str | None) -> None:
    assert espeak_rate(polly) == espeak


@pytest.mark.parametrize(
    ("polly", "espeak"),
    [
        ("+6dB", "200%"),
        ("+3dB", "141%"),
        ("-6dB", "50%"),
        ("+0dB", "100%"),
        ("+20dB", "300%"),
        ("loud", "loud"),
        ("medium", "medium"),
        ("x-soft", "x-soft"),
        ("150%", "150%"),
        ("+10%", "110%"),
        ("nope", None),
    ],
)
def test_volume_decibels_become_percentages(polly: str, espeak: str | None) -> None:
    assert espeak_volume(polly) == espeak


@pytest.mark.parametrize(
    ("polly", "espeak"),
    [
        ("+5%", "+10%"),
        ("-8%", "-16%"),
        ("+0%", "+0%"),
        ("+150%", "+200%"),
        ("high", "high"),
        ("120%", None),  # absolute percentages are not Polly's
        ("+2st", None),
    ],
)
def test_relative_pitch_is_doubled_for_espeak(polly: str, espeak: str | None) -> None:
    assert espeak_pitch(polly) == espeak


@pytest.mark.parametrize(
    ("polly", "espeak"),
    [("300ms", "300ms"), ("1s", "1000ms"), ("1.5s", "1500ms"), ("60s", "10000ms"), ("x", None)],
)
def test_break_times_in_milliseconds(polly: str, espeak: str | None) -> None:
    assert espeak_break_time(polly) == espeak


def test_domain_ssml_keeps_its_structure_with_espeak_units() -> None:
    ssml = build_ssml(
        "Hello everyone, this is important news.",
        EmotionDynamics(emotion="excited", intensity=0.9, rate_wpm=180, volume_level="loud"),
        engine="espeak",
    )
    root = ET.fromstring(to_espeak_ssml(ssml))
    prosody = root.find("prosody")
    assert root.tag == "speak"
    assert prosody is not None
    assert prosody.get("rate") == "120%"
    assert prosody.get("volume") == "loud"
    assert prosody.get("pitch", "").startswith("+")
    assert prosody.find("emphasis") is not None
    assert prosody.find(".//break") is not None
    assert "".join(root.itertext()).split() == "Hello everyone, this is important news.".split()


def test_polly_style_attributes_are_rewritten() -> None:
    ssml = (
        '<speak><prosody rate="115%" volume="+3dB" pitch="+5%">'
        '<emphasis level="moderate">Hi</emphasis><break time="300ms"/>there</prosody></speak>'
    )
    assert to_espeak_ssml(ssml) == (
        '<speak><prosody rate="115%" volume="141%" pitch="+10%">'
        '<emphasis level="moderate">Hi</emphasis><break time="300ms" />there</prosody></speak>'
    )


def test_unknown_elements_are_unwrapped_and_their_text_kept() -> None:
    ssml = (
        '<speak><amazon:effect name="drc"><lang xml:lang="fr-FR">Bonjour</lang> '
        '<say-as interpret-as="digits">42</say-as> <sub alias="World Wide Web">WWW</sub>'
        '<mark name="m1"/> <phoneme ph="x">tomato</phoneme></amazon:effect></speak>'
    )
    out = to_espeak_ssml(ssml)
    assert out == "<speak>Bonjour 42 World Wide Web tomato</speak>"


def test_escaped_text_stays_escaped() -> None:
    ssml = build_ssml("<break time='9s'/> & <speak>", engine="espeak")
    out = to_espeak_ssml(ssml)
    root = ET.fromstring(out)
    assert root.find(".//break") is None
    assert "&lt;break" in out
    assert "".join(root.itertext()).strip() == "<break time='9s'/> & <speak>"


def test_plain_text_is_wrapped_and_escaped() -> None:
    assert to_espeak_ssml("Tom & <Jerry>") == "<speak>Tom &amp; &lt;Jerry&gt;</speak>"


def test_prosody_with_nothing_espeak_understands_is_unwrapped() -> None:
    assert to_espeak_ssml('<speak><prosody rate="weird">x</prosody></speak>') == "<speak>x</speak>"


@pytest.mark.parametrize("bad", ["<speak>unclosed", "<p>not speak</p>", "<speak><b></speak>"])
def test_malformed_ssml_is_a_bad_request(bad: str) -> None:
    with pytest.raises(BadRequest):
        to_espeak_ssml(bad)


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        ("en", "en-us"),
        ("es", "es"),
        ("ca", "ca"),
        ("gl", "pt"),
        ("fr", "fr-fr"),
        ("pt", "pt"),
        ("pt-BR", "pt"),
        ("it", "it"),
        ("ro", "ro"),
        ("fr_CA", "fr-fr"),
        ("xx", None),
    ],
)
def test_voice_per_language(language: str, voice: str | None) -> None:
    assert voice_for(language) == voice


def test_every_locally_translatable_language_has_a_voice() -> None:
    assert {"es", "ca", "gl", "fr", "pt", "it", "ro", "en"} <= set(VOICES)


def test_unknown_language_is_unsupported_with_the_list() -> None:
    synthesizer = EspeakSynthesizer(executable="/nonexistent/espeak-ng")
    with pytest.raises(UnsupportedLanguage) as raised:
        synthesizer.voice("xx")
    assert "es" in str(raised.value)
    assert synthesizer.engine == "espeak"
