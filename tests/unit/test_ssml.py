"""Emotion → SSML: the table, engine awareness, escaping, well-formedness."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polycast.domain import ssml
from polycast.domain.models import EMOTIONS, VOLUME_LEVELS, EmotionDynamics
from polycast.domain.voices import espeak_voice, polly_voice, voice_for


def parse(doc: str) -> ET.Element:
    # amazon: is Polly's undeclared prefix (the whispered effect); declared for parsing.
    root = ET.fromstring(doc.replace("<speak>", '<speak xmlns:amazon="urn:amazon">', 1))
    assert root.tag == "speak"
    return root


def prosody(doc: str) -> dict[str, str]:
    el = parse(doc).find("prosody")
    assert el is not None
    return dict(el.attrib)


def test_defaults_are_neutral_half_intensity_150_wpm_normal() -> None:
    doc = ssml.build_ssml("Hello everyone.", engine="standard")
    assert prosody(doc) == {"rate": "100%", "volume": "medium"}
    assert "<emphasis" not in doc
    assert "<break" not in doc


@pytest.mark.parametrize(
    ("wpm", "rate"), [(150, "100%"), (75, "50%"), (180, "120%"), (10, "20%"), (900, "200%")]
)
def test_rate_follows_words_per_minute_clamped_to_polly_range(wpm: int, rate: str) -> None:
    doc = ssml.build_ssml("x", EmotionDynamics(rate_wpm=wpm), engine="neural")
    assert prosody(doc)["rate"] == rate


@pytest.mark.parametrize(
    ("level", "volume"),
    [
        ("x-soft", "x-soft"),
        ("soft", "soft"),
        ("normal", "medium"),
        ("loud", "loud"),
        ("x-loud", "x-loud"),
    ],
)
def test_volume_follows_volume_level(level: str, volume: str) -> None:
    doc = ssml.build_ssml("x", EmotionDynamics(volume_level=level), engine="neural")
    assert prosody(doc)["volume"] == volume


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_neural_gets_rate_and_volume_only(emotion: str) -> None:
    doc = ssml.build_ssml(
        "Wow, this is big. Really!", EmotionDynamics(emotion, 1.0, 170, "loud"), engine="neural"
    )
    assert set(prosody(doc)) == {"rate", "volume"}
    assert "<emphasis" not in doc
    assert "<break" not in doc
    assert "pitch" not in doc


def test_standard_gets_pitch_emphasis_and_pauses_from_emotion_and_intensity() -> None:
    doc = ssml.build_ssml(
        "I lost it, all of it. Gone.", EmotionDynamics("sad", 0.8, 120, "soft"), engine="standard"
    )
    attrs = prosody(doc)
    assert attrs == {"rate": "80%", "volume": "soft", "pitch": "-10%"}
    root = parse(doc)
    emphasis = root.find("prosody/emphasis")
    assert emphasis is not None
    assert emphasis.get("level") == "reduced"
    breaks = emphasis.findall("break")
    assert [b.get("time") for b in breaks] == ["520ms", "520ms"]


def test_espeak_is_expressive_like_standard() -> None:
    e = EmotionDynamics("excited", 0.9, 160, "x-loud")
    assert ssml.build_ssml("Go, go!", e, engine="espeak") == ssml.build_ssml(
        "Go, go!", e, engine="standard"
    )


def test_intensity_scales_pitch_and_gates_emphasis() -> None:
    low = ssml.build_ssml("Yes.", EmotionDynamics("happy", 0.1), engine="standard")
    high = ssml.build_ssml("Yes.", EmotionDynamics("happy", 1.0), engine="standard")
    assert prosody(low)["pitch"] == "+5%"
    assert prosody(high)["pitch"] == "+12%"
    assert "<emphasis" not in low
    assert '<emphasis level="moderate">' in high


def test_every_emotion_has_a_row_and_unknown_ones_sound_neutral() -> None:
    assert set(ssml.EMOTION_STYLES) == set(EMOTIONS)
    assert ssml.style_for("bored") == ssml.EMOTION_STYLES["neutral"]


def test_transcript_cannot_inject_ssml() -> None:
    attack = '</prosody><break time="10s"/><prosody pitch="x-high">&amp; "quoted" \'single\''
    for engine in ssml.ENGINES:
        doc = ssml.build_ssml(attack, EmotionDynamics("angry", 0.9), engine=engine)
        root = parse(doc)
        # The only elements are ours; the attack survives as text.
        tags = [el.tag for el in root.iter()]
        assert tags.count("prosody") == 1
        assert all(b.get("time") != "10s" for b in root.iter("break"))
        assert '</prosody><break time="10s"/>' in "".join(root.itertext())


def test_control_characters_are_dropped_so_xml_stays_well_formed() -> None:
    doc = ssml.build_ssml("bell\x07 and nul\x00 here", engine="standard")
    assert "".join(parse(doc).itertext()) == "bell and nul here"


@given(
    text=st.text(min_size=1, max_size=200),
    emotion=st.sampled_from([*EMOTIONS, "unknown"]),
    intensity=st.floats(0, 1),
    wpm=st.integers(1, 400),
    volume=st.sampled_from(VOLUME_LEVELS),
    engine=st.sampled_from(ssml.ENGINES),
)
def test_always_well_formed_with_the_text_intact(
    text: str, emotion: str, intensity: float, wpm: int, volume: str, engine: str
) -> None:
    doc = ssml.build_ssml(text, EmotionDynamics(emotion, intensity, wpm, volume), engine=engine)
    root = parse(doc)
    spoken = "".join(root.itertext())
    expected = ssml._NOT_XML.sub("", text)
    assert spoken.split() == expected.split()


def test_too_long_documents_drop_expression_then_refuse() -> None:
    text = "word, " * 900  # fits plain, not with a break after every comma
    doc = ssml.build_ssml(text, EmotionDynamics("sad", 1.0), engine="standard")
    assert "<break" not in doc
    assert len(doc) <= ssml.POLLY_MAX_SSML_CHARS
    with pytest.raises(ValueError, match="characters"):
        ssml.build_ssml("x" * 7000, engine="neural")


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        ssml.build_ssml("x", engine="robot")


def test_voices_per_language_and_fallback_when_no_neural_voice() -> None:
    es = polly_voice("es", "neural")
    assert es is not None
    assert (es.voice_id, es.engine) == ("Lucia", "neural")
    fr = polly_voice("fr", "standard")
    assert fr is not None
    assert (fr.voice_id, fr.engine) == ("Lea", "standard")
    ro = polly_voice("ro", "neural")  # Romanian: standard only
    assert ro is not None
    assert (ro.voice_id, ro.engine) == ("Carmen", "standard")
    ca = polly_voice("ca", "standard")  # Catalan: neural only
    assert ca is not None
    assert ca.engine == "neural"
    assert polly_voice("gl", "neural") is None  # text only
    assert voice_for("gl", "espeak") == espeak_voice("gl")
    assert espeak_voice("en").voice_id == "en-us"


def test_a_control_character_between_punctuation_and_text_adds_no_pause() -> None:
    # Found by hypothesis: ":\x0c0" was split at the form feed, then the feed dropped.
    doc = ssml.build_ssml(":\x0c0", engine="standard")
    assert "".join(parse(doc).itertext()).split() == [":0"]
