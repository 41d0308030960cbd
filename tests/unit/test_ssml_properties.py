"""Property-based checks of SSML generation and text splitting.

Whatever the text and dynamics: no exception but the documented ``ValueError``
(document too long), no tag the text did not come from us, always one well-formed
``<speak>`` document, neural documents with rate and volume only, and the emotion
table monotonic where it should be (rate in wpm, volume in level, pauses and
pitch in intensity, emphasis once reached).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from polycast.domain import ssml
from polycast.domain.models import EMOTIONS, VOLUME_LEVELS, EmotionDynamics
from polycast.domain.text_split import SentenceTooLong, sentences, split_text

# Text with the characters that matter: markup, entities, quotes, controls, astral.
MARKUP = st.sampled_from(
    ["<", ">", "&", '"', "'", "</prosody>", "<break/>", "&amp;", "]]>", "<!--", "\x00", "\x1f"]
)
texts = st.lists(st.text(max_size=40) | MARKUP, min_size=1, max_size=12).map("".join)
dynamics = st.builds(
    EmotionDynamics,
    emotion=st.sampled_from([*EMOTIONS, "bored", ""]) | st.text(max_size=8),
    intensity=st.floats(allow_nan=True, allow_infinity=True),
    rate_wpm=st.integers(min_value=-(10**6), max_value=10**6),
    volume_level=st.sampled_from([*VOLUME_LEVELS, "medium", "LOUD"]) | st.text(max_size=6),
)
engines = st.sampled_from(ssml.ENGINES)

AMAZON = "https://aws.amazon.com/ssml"  # any URI: Polly's prefix is only declared for parsing
OUR_TAGS = {"speak", "prosody", "emphasis", "break", f"{{{AMAZON}}}effect"}
OUR_ATTRIBUTES = {
    "prosody": {"rate", "volume", "pitch"},
    f"{{{AMAZON}}}effect": {"name"},
    "emphasis": {"level"},
    "break": {"time"},
    "speak": set(),
}
VOLUME_ORDER = ["x-soft", "soft", "medium", "loud", "x-loud"]


def document(text: str, emotion: EmotionDynamics, engine: str) -> str | None:
    """The SSML, or None when the documented refusal (too long) applies."""
    try:
        return ssml.build_ssml(text, emotion, engine=engine)
    except ValueError as exc:
        assert "characters" in str(exc)
        return None


def parse(doc: str) -> ET.Element:
    """Parse as Polly does: ``amazon:`` is Polly's prefix, undeclared in its SSML."""
    declared = doc.replace("<speak>", f'<speak xmlns:amazon="{AMAZON}">', 1)
    return ET.fromstring(declared)


@settings(max_examples=300, deadline=None)
@given(text=texts, emotion=dynamics, engine=engines)
def test_no_exception_no_injection_always_well_formed(
    text: str, emotion: EmotionDynamics, engine: str
) -> None:
    doc = document(text, emotion, engine)
    if doc is None:
        return
    root = parse(doc)  # well-formed, or this raises
    assert root.tag == "speak"
    elements = list(root.iter())
    assert {el.tag for el in elements} <= OUR_TAGS
    assert sum(el.tag == "prosody" for el in elements) == 1
    assert sum(el.tag == "emphasis" for el in elements) <= 1
    for el in elements:
        assert set(el.attrib) <= OUR_ATTRIBUTES[el.tag]
        if el.tag == "break":
            assert re.fullmatch(r"\d+ms", el.attrib["time"])
    # Everything the text said is still text (whitespace aside), nothing became markup.
    spoken = "".join("".join(root.itertext()).split())
    assert spoken == "".join(ssml._NOT_XML.sub("", text).split())
    if engine == "neural":
        assert {el.tag for el in elements} == {"speak", "prosody"}
        assert set(root[0].attrib) == {"rate", "volume"}
    assert len(doc) <= ssml.POLLY_MAX_SSML_CHARS


@given(low=st.integers(-1000, 2000), high=st.integers(-1000, 2000))
def test_rate_follows_words_per_minute_monotonically(low: int, high: int) -> None:
    assume(low <= high)
    assert ssml.rate_percent(low) <= ssml.rate_percent(high)
    assert ssml.MIN_RATE_PERCENT <= ssml.rate_percent(low) <= ssml.MAX_RATE_PERCENT


def test_volume_follows_the_level_in_order() -> None:
    levels = [level for level in VOLUME_LEVELS if level != "whisper"]
    mapped = [ssml.VOLUMES[level] for level in levels]
    assert [VOLUME_ORDER.index(v) for v in mapped] == sorted(VOLUME_ORDER.index(v) for v in mapped)
    assert len(set(mapped)) == len(mapped)
    # whisper is the softest level (and the whispered effect where the voice has it)
    assert ssml.VOLUMES["whisper"] == mapped[0]


@given(
    emotion=st.sampled_from(EMOTIONS),
    low=st.floats(0, 1),
    high=st.floats(0, 1),
)
def test_intensity_never_weakens_the_expression(emotion: str, low: float, high: float) -> None:
    assume(low <= high)
    soft, strong = EmotionDynamics(emotion, low), EmotionDynamics(emotion, high)
    assert ssml.pause_ms(soft) <= ssml.pause_ms(strong)
    assert abs(ssml.pitch_percent(soft)) <= abs(ssml.pitch_percent(strong))
    if ssml.emphasis_level(soft) is not None:
        assert ssml.emphasis_level(strong) == ssml.emphasis_level(soft)


@given(
    emotion=dynamics,
    wpm=st.integers(40, 400),
    level=st.sampled_from(VOLUME_LEVELS),
    engine=engines,
)
def test_the_document_carries_the_table_values(
    emotion: EmotionDynamics, wpm: int, level: str, engine: str
) -> None:
    dynamics_ = EmotionDynamics(emotion.emotion, 0.5, wpm, level)
    doc = document("Hello there, friend. How are you?", dynamics_, engine)
    assert doc is not None
    prosody = next(parse(doc).iter("prosody"))
    assert prosody.attrib["rate"] == f"{ssml.rate_percent(wpm)}%"
    assert prosody.attrib["volume"] == ssml.VOLUMES[level]


# ---- splitting for Translate and Polly ------------------------------------------------

sentence_texts = st.lists(
    st.text(
        st.characters(blacklist_characters=".!?…。！？\"'”’»)]", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=60,
    )
    .map(str.strip)
    .filter(bool)
    .map(lambda s: s + "."),
    min_size=1,
    max_size=30,
).map(" ".join)


@given(text=sentence_texts, limit=st.integers(20, 400), in_bytes=st.booleans())
def test_split_keeps_whole_sentences_within_the_limit_or_says_why(
    text: str, limit: int, in_bytes: bool
) -> None:
    def size(s: str) -> int:
        return len(s.encode("utf-8")) if in_bytes else len(s)

    try:
        pieces = split_text(text, limit, in_bytes=in_bytes)
    except SentenceTooLong:
        assert any(size(s) > limit for s in sentences(text))
        return
    if size(text) <= limit:
        assert pieces == [text]
        return
    assert all(size(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert [s for p in pieces for s in sentences(p)] == sentences(text)
