"""How a sentence was said, measured from the audio: volume level, emotion, intensity.

``volumeLevel`` compares the sentence's loudness (RMS, dBFS) with the speaker's
own running level, so a quiet microphone or a loud one does not make everyone
"soft" or "loud"; the running level is an exponential average over the speaker's
sentences (the first sentence sets it and is ``normal``).

``emotion`` and ``intensity`` follow one rule on arousal — how much louder and
faster than usual the sentence was — documented in docs/emotion-ssml.md:

    arousal = ½ · clamp(Δloudness / 12 dB) + ½ · clamp((rateWpm − 150) / 75)   ∈ [−1, 1]
    arousal ≥ 0.4 → excited;  ≤ −0.5 and soft or x-soft → sad;  ≤ −0.3 → calm;
    otherwise neutral;  intensity = 0.5 + |arousal| / 2 (neutral: 0.5)

Recognizers do not hear feelings, and these words are names from the SSML table
(:mod:`polycast.domain.ssml`), chosen for how the synthesized voice should carry
the sentence: livelier, calmer, or as it was. Pure: no I/O.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from polycast.domain.models import EmotionDynamics

SAMPLE_RATE = 16000
# Δ dB against the running level → volumeLevel (upper bounds, exclusive).
VOLUME_STEPS: tuple[tuple[float, str], ...] = (
    (-9.0, "x-soft"),
    (-3.0, "soft"),
    (3.0, "normal"),
    (9.0, "loud"),
)
LOUDEST = "x-loud"
LEVEL_SMOOTHING = 0.25  # weight of the newest sentence in the running level
SILENCE_DBFS = -90.0  # below this a sentence is silence: x-soft, level untouched
BASE_WPM = 150
EXCITED_AT = 0.4
CALM_AT = -0.3
SAD_AT = -0.5


def rms_dbfs(pcm: bytes) -> float:
    """Loudness of 16-bit little-endian PCM in dB relative to full scale."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return -math.inf
    mean_square = sum(s * s for s in samples) / len(samples)
    if mean_square == 0:
        return -math.inf
    return 10 * math.log10(mean_square / (32768.0 * 32768.0))


def pcm_slice(pcm: bytes, start_ms: int, end_ms: int, sample_rate: int = SAMPLE_RATE) -> bytes:
    """The bytes of mono 16-bit PCM between two stream times."""
    per_ms = sample_rate * 2 / 1000
    start = max(0, int(start_ms * per_ms)) & ~1
    end = max(start, int(end_ms * per_ms)) & ~1
    return pcm[start:end]


def volume_bucket(delta_db: float) -> str:
    for bound, name in VOLUME_STEPS:
        if delta_db < bound:
            return name
    return LOUDEST


@dataclass
class SpeakerLevel:
    """The speaker's running loudness; :meth:`judge` classifies a sentence, then learns it."""

    level_db: float | None = None
    smoothing: float = LEVEL_SMOOTHING

    def judge(self, dbfs: float) -> tuple[str, float]:
        """(volumeLevel, Δ dB against the running level) for one sentence."""
        if dbfs < SILENCE_DBFS:
            return "x-soft", -math.inf
        if self.level_db is None:
            self.level_db = dbfs
            return "normal", 0.0
        delta = dbfs - self.level_db
        self.level_db += self.smoothing * delta
        return volume_bucket(delta), delta


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


def arousal(delta_db: float, rate_wpm: float) -> float:
    loudness = _clamp(delta_db / 12.0) if math.isfinite(delta_db) else -1.0
    pace = _clamp((rate_wpm - BASE_WPM) / 75.0)
    return (loudness + pace) / 2


def emotion_for(delta_db: float, rate_wpm: float, volume_level: str) -> tuple[str, float]:
    """(emotion, intensity) by the documented arousal rule."""
    value = arousal(delta_db, rate_wpm)
    intensity = round(0.5 + abs(value) / 2, 2)
    if value >= EXCITED_AT:
        return "excited", intensity
    if value <= SAD_AT and volume_level in ("soft", "x-soft"):
        return "sad", intensity
    if value <= CALM_AT:
        return "calm", intensity
    return "neutral", 0.5


@dataclass
class DeliveryMeter:
    """One speaker's meter: a sentence's audio and rate in, its ``EmotionDynamics`` out."""

    level: SpeakerLevel = field(default_factory=SpeakerLevel)

    def measure(self, pcm: bytes, rate_wpm: int | None) -> EmotionDynamics:
        volume, delta = self.level.judge(rms_dbfs(pcm))
        rate = rate_wpm if rate_wpm is not None else BASE_WPM
        emotion, intensity = emotion_for(delta, rate, volume)
        return EmotionDynamics(
            emotion=emotion, intensity=intensity, rate_wpm=rate, volume_level=volume
        )
