"""Emotion hints are advisory: read what a producer sent, never reject a sentence for it.

``emotionDynamics`` only shapes how a sentence sounds; the text is what a listener
must not lose. Common words a producer may send are mapped to the table's values
(``whisper`` → the softest level, spoken whispered where the voice can;
``shout`` → ``x-loud``; ``joyful`` → ``happy`` …). A field that is of the wrong type,
out of range or an unknown word falls back to its default and is named in the
returned ``replaced`` tuple, which the processor counts (metric
``EmotionHintsReplaced``) and reports on the delivered ``SegmentReady``
(``hintsReplaced``). The table lives in docs/emotion-ssml.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from polycast.domain.models import EMOTIONS, VOLUME_LEVELS, EmotionDynamics

MIN_WPM, MAX_WPM = 40, 400
PREFIX = "emotionDynamics"
MAX_REPLACED = 16  # names reported on an event (schemas/events/SegmentReady.json)

# Words producers send → the volume levels of the table.
VOLUME_WORDS: dict[str, str] = {
    "whisper": "whisper",
    "whispering": "whisper",
    "whispered": "whisper",
    "very quiet": "x-soft",
    "very soft": "x-soft",
    "quiet": "soft",
    "low": "soft",
    "medium": "normal",
    "moderate": "normal",
    "default": "normal",
    "high": "loud",
    "raised": "loud",
    "very loud": "x-loud",
    "shout": "x-loud",
    "shouting": "x-loud",
    "shouted": "x-loud",
    "yell": "x-loud",
    "yelling": "x-loud",
}

# Words producers send → the emotions of the table.
EMOTION_WORDS: dict[str, str] = {
    "joy": "happy",
    "joyful": "happy",
    "glad": "happy",
    "cheerful": "happy",
    "enthusiastic": "excited",
    "thrilled": "excited",
    "surprise": "surprised",
    "amazed": "surprised",
    "anger": "angry",
    "mad": "angry",
    "furious": "angry",
    "fear": "fearful",
    "afraid": "fearful",
    "scared": "fearful",
    "anxious": "fearful",
    "sadness": "sad",
    "unhappy": "sad",
    "relaxed": "calm",
    "serene": "calm",
    "none": "neutral",
}


def _word(value: object, known: tuple[str, ...], words: Mapping[str, str]) -> str | None:
    if not isinstance(value, str):
        return None
    word = " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())
    for candidate in (value, word, word.replace(" ", "-")):
        if candidate in known:
            return candidate
    return words.get(word)


def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if low <= number <= high else None


def read_emotion(data: object) -> tuple[EmotionDynamics, tuple[str, ...]]:
    """(dynamics, fields replaced by their default) from a record's ``emotionDynamics``."""
    defaults = EmotionDynamics()
    if data is None:
        return defaults, ()
    if not isinstance(data, Mapping):
        return defaults, (PREFIX,)
    replaced: list[str] = []

    def given(name: str) -> bool:
        return name in data and data[name] is not None

    emotion = _word(data.get("emotion"), EMOTIONS, EMOTION_WORDS)
    if emotion is None:
        emotion = defaults.emotion
        if given("emotion"):
            replaced.append(f"{PREFIX}.emotion")
    intensity = _number(data.get("intensity"), 0.0, 1.0)
    if intensity is None:
        intensity = defaults.intensity
        if given("intensity"):
            replaced.append(f"{PREFIX}.intensity")
    wpm = _number(data.get("rateWpm"), MIN_WPM, MAX_WPM)
    if wpm is None:
        wpm = defaults.rate_wpm
        if given("rateWpm"):
            replaced.append(f"{PREFIX}.rateWpm")
    volume = _word(data.get("volumeLevel"), VOLUME_LEVELS, VOLUME_WORDS)
    if volume is None:
        volume = defaults.volume_level
        if given("volumeLevel"):
            replaced.append(f"{PREFIX}.volumeLevel")
    known = ("emotion", "intensity", "rateWpm", "volumeLevel")
    replaced.extend(f"{PREFIX}.{name}"[:64] for name in sorted(map(str, data)) if name not in known)
    return (
        EmotionDynamics(
            emotion=emotion, intensity=intensity, rate_wpm=round(wpm), volume_level=volume
        ),
        tuple(replaced[:MAX_REPLACED]),
    )
