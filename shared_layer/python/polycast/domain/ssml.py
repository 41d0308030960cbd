"""Emotion dynamics → SSML: one table, aware of what each speech engine honours.

The whole mapping lives in :data:`EMOTION_STYLES` and the three rules below it
(documented with examples in ``docs/emotion-ssml.md``):

* **rate** follows words per minute: 150 wpm is 100 %, clamped to Polly's 20–200 %;
* **volume** follows the volume level (``normal`` is SSML's ``medium``);
* **pitch, emphasis and pauses** come from the emotion, scaled by intensity, and
  only for engines that honour them: Polly *neural* voices ignore ``emphasis``
  and prosody ``pitch`` (docs/emotion-ssml.md), so for ``neural`` we emit rate and
  volume only. ``standard`` (Polly) and ``espeak`` (local) get everything;
* **whisper** is the softest volume, and on Polly *standard* voices (the only ones
  with the effect) the sentence is wrapped in ``<amazon:effect name="whispered">``.

Transcript text is XML-escaped (and stripped of characters XML cannot carry)
before anything else touches it, so a transcript can never inject tags; the
result is always one well-formed ``<speak>`` document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from polycast.domain.models import EmotionDynamics

SsmlEngine = Literal["neural", "standard", "espeak"]
ENGINES: tuple[str, ...] = ("neural", "standard", "espeak")

BASE_WPM = 150  # the speaking rate that maps to 100 %
MIN_RATE_PERCENT = 20  # Polly's prosody rate range
MAX_RATE_PERCENT = 200
MAX_PITCH_PERCENT = 30
MAX_BREAK_MS = 1000
EMPHASIS_MIN_INTENSITY = 0.6  # below this, no emphasis: calm delivery stays calm
POLLY_MAX_SSML_CHARS = 6000  # Polly's limit on the whole SSML document

# volumeLevel on the wire → SSML prosody volume.
VOLUMES: dict[str, str] = {
    "whisper": "x-soft",  # and Polly's whispered effect on standard voices
    "x-soft": "x-soft",
    "soft": "soft",
    "normal": "medium",
    "loud": "loud",
    "x-loud": "x-loud",
}


@dataclass(frozen=True)
class EmotionStyle:
    """How one emotion sounds at intensity 0.5; intensity scales pitch and pauses.

    ``pitch_percent``: prosody pitch shift. ``emphasis``: SSML emphasis level used
    when intensity ≥ :data:`EMPHASIS_MIN_INTENSITY` (None: never). ``pause_ms``: a
    break after each clause or sentence inside the text (0: none).
    """

    pitch_percent: int
    emphasis: str | None
    pause_ms: int


# THE table. Change it here and in docs/emotion-ssml.md together.
EMOTION_STYLES: dict[str, EmotionStyle] = {
    "neutral": EmotionStyle(pitch_percent=0, emphasis=None, pause_ms=0),
    "happy": EmotionStyle(pitch_percent=8, emphasis="moderate", pause_ms=100),
    "excited": EmotionStyle(pitch_percent=12, emphasis="strong", pause_ms=50),
    "surprised": EmotionStyle(pitch_percent=15, emphasis="moderate", pause_ms=150),
    "angry": EmotionStyle(pitch_percent=4, emphasis="strong", pause_ms=150),
    "fearful": EmotionStyle(pitch_percent=6, emphasis="moderate", pause_ms=200),
    "sad": EmotionStyle(pitch_percent=-8, emphasis="reduced", pause_ms=400),
    "calm": EmotionStyle(pitch_percent=-4, emphasis="reduced", pause_ms=300),
}

# Characters XML 1.0 cannot carry at all (most C0 controls); dropped, not escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Where a pause goes: after clause or sentence punctuation followed by more text.
_PAUSE_AFTER = re.compile(r"(?<=[,;:.!?…])\s+(?=\S)")


def escape_text(text: str) -> str:
    """Text made safe to sit inside an XML element: it can never open a tag."""
    return escape(_NOT_XML.sub("", text), {'"': "&quot;", "'": "&apos;"})


def rate_percent(rate_wpm: float) -> int:
    """Speaking rate as Polly's prosody percentage: 150 wpm → 100 %."""
    percent = round(rate_wpm / BASE_WPM * 100)
    return max(MIN_RATE_PERCENT, min(MAX_RATE_PERCENT, percent))


def _scale(intensity: float) -> float:
    """Intensity 0.5 is the table's value; 0 halves it, 1 makes it 1.5×."""
    return 0.5 + max(0.0, min(1.0, intensity))


def pitch_percent(emotion: EmotionDynamics) -> int:
    style = style_for(emotion.emotion)
    value = round(style.pitch_percent * _scale(emotion.intensity))
    return max(-MAX_PITCH_PERCENT, min(MAX_PITCH_PERCENT, value))


def pause_ms(emotion: EmotionDynamics) -> int:
    style = style_for(emotion.emotion)
    return min(MAX_BREAK_MS, round(style.pause_ms * _scale(emotion.intensity)))


def emphasis_level(emotion: EmotionDynamics) -> str | None:
    if emotion.intensity < EMPHASIS_MIN_INTENSITY:
        return None
    return style_for(emotion.emotion).emphasis


def style_for(emotion: str) -> EmotionStyle:
    """Unknown emotions sound neutral rather than failing the segment."""
    return EMOTION_STYLES.get(emotion, EMOTION_STYLES["neutral"])


def _with_pauses(text: str, ms: int) -> str:
    """Escape each piece, then join with breaks: the breaks are ours, never the text's."""
    pieces = _PAUSE_AFTER.split(text)
    escaped = [escape_text(piece) for piece in pieces]
    if ms <= 0:
        return " ".join(escaped)
    return f' <break time="{ms}ms"/> '.join(escaped)


def build_ssml(
    text: str,
    emotion: EmotionDynamics | None = None,
    *,
    engine: str = "neural",
    max_chars: int = POLLY_MAX_SSML_CHARS,
) -> str:
    """One ``<speak>`` document for ``text`` spoken with ``emotion`` on ``engine``.

    When the full document would exceed ``max_chars`` the expressive parts
    (pauses, emphasis, pitch) are dropped first; if even the plain document is too
    long a ``ValueError`` says so (the caller then sends text without audio).
    """
    emotion = emotion or EmotionDynamics()
    if engine not in ENGINES:
        raise ValueError(f"unknown SSML engine {engine!r}; expected one of {ENGINES}")
    expressive = engine != "neural"
    # Drop what XML cannot carry before looking for pauses: a form feed between two
    # characters is white space to the pause rule but nothing once dropped.
    text = _NOT_XML.sub("", text)
    # Polly's whispered effect exists on standard voices only (not neural, not espeak).
    ssml = _document(text, emotion, expressive=expressive, whispered=engine == "standard")
    if len(ssml) > max_chars and expressive:
        ssml = _document(text, emotion, expressive=False)
    if len(ssml) > max_chars:
        raise ValueError(f"SSML is {len(ssml)} characters; the engine accepts {max_chars}")
    return ssml


def _document(
    text: str, emotion: EmotionDynamics, *, expressive: bool, whispered: bool = False
) -> str:
    attrs = [
        f'rate="{rate_percent(emotion.rate_wpm)}%"',
        f'volume="{VOLUMES.get(emotion.volume_level, "medium")}"',
    ]
    if not expressive:
        return f"<speak><prosody {' '.join(attrs)}>{escape_text(text)}</prosody></speak>"
    pitch = pitch_percent(emotion)
    if pitch:
        attrs.append(f'pitch="{pitch:+d}%"')
    body = _with_pauses(text, pause_ms(emotion))
    level = emphasis_level(emotion)
    if level:
        body = f'<emphasis level="{level}">{body}</emphasis>'
    prosody = f"<prosody {' '.join(attrs)}>{body}</prosody>"
    if whispered and emotion.volume_level == "whisper":
        prosody = f'<amazon:effect name="whispered">{prosody}</amazon:effect>'
    return f"<speak>{prosody}</speak>"
