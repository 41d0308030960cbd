"""Domain values. Pure Python: no boto3, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from polycast.domain.glossary import GlossaryRef

Emotion = Literal["neutral", "happy", "sad", "angry", "excited", "calm", "fearful", "surprised"]
EMOTIONS: tuple[str, ...] = (
    "neutral",
    "happy",
    "sad",
    "angry",
    "excited",
    "calm",
    "fearful",
    "surprised",
)
# "whisper" is the softest level, spoken whispered where the voice can (docs/emotion-ssml.md).
VolumeLevel = Literal["whisper", "x-soft", "soft", "normal", "loud", "x-loud"]
VOLUME_LEVELS: tuple[str, ...] = ("whisper", "x-soft", "soft", "normal", "loud", "x-loud")


@dataclass(frozen=True)
class EmotionDynamics:
    """How the speaker sounded. Defaults (docs/emotion-ssml.md): neutral, 0.5, 150 wpm, normal."""

    emotion: str = "neutral"
    intensity: float = 0.5
    rate_wpm: int = 150
    volume_level: str = "normal"

    def to_json(self) -> dict[str, Any]:
        return {
            "emotion": self.emotion,
            "intensity": self.intensity,
            "rateWpm": self.rate_wpm,
            "volumeLevel": self.volume_level,
        }


@dataclass(frozen=True)
class Transcript:
    """One sentence the speaker said. ``sequence`` is None when the producer sent none."""

    session_id: str
    source_language: str
    text: str
    emotion: EmotionDynamics = field(default_factory=EmotionDynamics)
    sequence: int | None = None
    timestamp: str | None = None
    # Emotion hints replaced by their defaults (advisory: the sentence is delivered).
    hints_replaced: tuple[str, ...] = ()
    # Where the sentence sits in the talk, when the speaker side measured it.
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class SessionStart:
    session_id: str
    source_language: str
    join_code: str | None = None


@dataclass(frozen=True)
class SessionEnd:
    session_id: str
    reason: str = "ended by speaker"


@dataclass(frozen=True)
class SessionPause:
    """The speaker paused: transcripts until the resume are skipped, not translated."""

    session_id: str
    reason: str | None = None


@dataclass(frozen=True)
class SessionResume:
    session_id: str


@dataclass(frozen=True)
class Partial:
    """The sentence still being spoken (``schemas/records/partial.json``).

    ``stable_text`` is the prefix the recognizer will not revise: only it is
    translated, for captions (never synthesized). ``sequence`` is the one the
    sentence's final transcript will carry.
    """

    session_id: str
    source_language: str
    sequence: int
    text: str
    stable_text: str = ""


Record = Transcript | SessionStart | SessionEnd | SessionPause | SessionResume | Partial


@dataclass(frozen=True)
class Session:
    """What the processor learns from one Sessions item (O(1) in listeners)."""

    session_id: str
    source_language: str
    # created: made by `polycast session create`, listeners may wait; active once the
    # first record (or sessionStarted) arrives; ended.
    status: Literal["created", "active", "ended"] = "active"
    listener_count: int = 0
    language_counts: dict[str, int] = field(default_factory=dict)
    last_sequence: int = 0
    join_code_hash: str | None = None
    # Speaker-side pause (sessionPaused / sessionResumed records).
    paused: bool = False
    # Epoch seconds: when it started, and the last record seen (idle and max-duration ends).
    created_at: int = 0
    last_activity_at: int = 0
    # Languages the organizer announced at create time (listeners may pick others).
    languages: tuple[str, ...] = ()
    # How translations are made (docs/organizers.md): set at create time.
    formality: str | None = None
    profanity: bool = False
    glossary: GlossaryRef | None = None
    ended_at: int = 0
    end_reason: str | None = None
    # Per language: listeners who chose captions only (the ``audio`` action, off).
    captions_only_counts: dict[str, int] = field(default_factory=dict)

    @property
    def active_languages(self) -> list[str]:
        """Languages with at least one listener, most listeners first."""
        langs = [lang for lang, n in self.language_counts.items() if n > 0]
        return sorted(langs, key=lambda lang: (-self.language_counts[lang], lang))

    def wants_audio(self, language: str) -> bool:
        """False when every listener of ``language`` chose captions only."""
        listeners = self.language_counts.get(language, 0)
        return listeners > self.captions_only_counts.get(language, 0)


@dataclass(frozen=True)
class AudioRef:
    """Audio for one segment: inline bytes (base64 on the wire) or an S3 object."""

    format: str = "mp3"
    data_b64: str | None = None
    bucket: str | None = None
    key: str | None = None
    size: int = 0


@dataclass(frozen=True)
class Segment:
    """One sentence, translated into one language: the payload of ``SegmentReady``."""

    session_id: str
    sequence: int
    language: str
    source_language: str
    text: str
    source_text: str
    audio: AudioRef | None
    timings: dict[str, float] = field(default_factory=dict)
    hints_replaced: tuple[str, ...] = ()  # emotion hints that fell back to defaults
    spoken_at: str | None = None  # the transcript's timestamp (RFC 3339)
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class LiveCaption:
    """The translated stable prefix of a sentence still being spoken, in one language:
    the payload of ``PartialReady``. ``revision`` counts the stable source words it
    covers, so it grows within a sequence.

    ``final``: the whole final transcript's translation, published by the orchestrator
    ahead of its audio (``revision`` = every source word); no live caption of the same
    sequence supersedes it."""

    session_id: str
    sequence: int
    language: str
    source_language: str
    text: str
    revision: int
    final: bool = False


@dataclass(frozen=True)
class Connection:
    connection_id: str
    session_id: str
    language: str
    connected_at: int = 0
    paused: bool = False
    audio: bool = True  # False: captions only (the ``audio`` action)
