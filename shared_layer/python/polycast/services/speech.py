"""One language's audio for a segment: the audio cache, the synthesizers in their
degradation order, and inline bytes or the S3 claim check.

Audio is synthesized once per (SSML, voice, engine, format): the audio cache is
keyed by their hash. It is looked up only when the text could have been voiced
before — a translation from the translation cache, or the source language's own
text. A translation made just now is new text (its audio could be cached only if
another sentence happened to translate to the very same words: then it is
synthesized again), so its lookup would be a wasted S3 round trip on the path to
the first audio byte.

Text over Polly's 3,000 billed characters is synthesized in runs of whole
sentences and the MP3s concatenated; a sentence too long on its own is sent as
text only (``SENTENCE_TOO_LONG``). Under pressure (the governor refusing, or a
transient error) synthesis degrades in a fixed order instead of failing — the
neural voice, then the standard voice, then text only — and the step is reported.

Audio travels by S3 reference (the claim check) when it is larger than
``inline_audio_max_bytes`` or the language has at least ``reference_audio_audience``
listeners: then the object is written before the event that names it. Inline audio
needs no object, so its cache write waits until the segment is on the bus
(:meth:`Speech.keep`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from polycast.domain.cache_keys import audio_key
from polycast.domain.models import AudioRef, EmotionDynamics
from polycast.domain.ssml import build_ssml
from polycast.domain.text_split import POLLY_MAX_BILLED_CHARS, SentenceTooLong, split_text
from polycast.domain.voices import Voice, voice_for
from polycast.errors import PolycastError, Throttled, TransientError
from polycast.ports import AudioStore, Synthesizer
from polycast.services.rate_governor import ServiceLimits

log = logging.getLogger(__name__)

# Degradation steps, in order (the values of ``Outcome.degraded``).
STANDARD_VOICE = "standard_voice"
TEXT_ONLY = "text_only"


@dataclass
class Voiced:
    """One language's audio, or why there is none; ``unstored``: inline audio still
    to be written to the cache (after its segment is published)."""

    audio: AudioRef | None = None
    missing: str | None = None
    degraded: str | None = None
    unstored: tuple[str, bytes] | None = None


class Speech:
    """Thread-safe; shared by the language pipelines of every session."""

    def __init__(
        self,
        *,
        synthesizer: Synthesizer,
        audio: AudioStore,
        audio_bucket: str,
        limits: ServiceLimits,
        fallback_synthesizers: Sequence[Synthesizer] = (),
        inline_audio_max_bytes: int = 64 * 1024,
        reference_audio_audience: int = 1000,
    ) -> None:
        self.synthesizers = (synthesizer, *fallback_synthesizers)
        self.audio = audio
        self.audio_bucket = audio_bucket
        self.limits = limits
        self.inline_audio_max_bytes = inline_audio_max_bytes
        self.reference_audio_audience = reference_audio_audience

    def voice(
        self,
        text: str,
        language: str,
        emotion: EmotionDynamics,
        *,
        audience: int,
        look_up: bool,
        before_synthesis: Callable[[], None],
        session_id: str,
    ) -> Voiced:
        """The audio of ``text`` for one language; never raises.

        Walks the synthesizers in degradation order; each step tries the audio cache
        (when ``look_up``), then the governor, then the engine. Pressure moves to the
        next step; anything else ends with text only. ``before_synthesis`` is called
        once, just before the first synthesis is asked for (not on a cache hit, nor
        when the text is known to go without audio).
        """
        try:
            pieces = split_text(text, POLLY_MAX_BILLED_CHARS)
        except SentenceTooLong:
            return Voiced(missing="SENTENCE_TOO_LONG")
        tried: set[str] = set()
        missing: str | None = None
        pressured = announced = False
        for synthesizer in self.synthesizers:
            voice = voice_for(language, synthesizer.engine)
            if voice is None or voice.engine in tried:
                continue
            tried.add(voice.engine)
            try:
                ssml = [build_ssml(p, emotion, engine=voice.engine) for p in pieces]
            except ValueError:
                return Voiced(missing="SSML_TOO_LONG")
            key = audio_key("\x1e".join(ssml), voice.voice_id, voice.engine, "mp3")
            data = self._cached_audio(key) if look_up else None
            stored = data is not None
            if data is None:
                if not announced:
                    before_synthesis()
                    announced = True
                try:
                    data = self._synthesize(synthesizer, voice, ssml, language)
                except TransientError as exc:
                    missing, pressured = _code(exc), True
                    log.warning(
                        "synthesis under pressure; degrading",
                        extra={
                            "sessionId": session_id,
                            "language": language,
                            "engine": voice.engine,
                            "error": missing,
                        },
                    )
                    continue
                except Exception as exc:
                    log.warning(
                        "synthesis failed; sending text only",
                        extra={"sessionId": session_id, "language": language, "error": _code(exc)},
                    )
                    return Voiced(missing=_code(exc))
            voiced = self._deliverable(key, data, stored, language, audience)
            voiced.degraded = STANDARD_VOICE if pressured else None
            return voiced
        if missing is None:
            return Voiced(missing="NO_VOICE")
        return Voiced(missing=missing, degraded=TEXT_ONLY)

    def keep(self, voiced: Voiced, language: str) -> None:
        """Write inline audio to the cache, once its segment is on the bus."""
        if voiced.unstored is None:
            return
        key, data = voiced.unstored
        voiced.unstored = None
        self._store(key, data, language)

    def _synthesize(
        self, synthesizer: Synthesizer, voice: Voice, ssml: list[str], language: str
    ) -> bytes:
        """Every piece within the engine's governed rate; MP3 pieces concatenate."""
        out = []
        for document in ssml:
            if not self.limits.acquire(voice.engine):
                raise Throttled(f"{voice.engine} synthesis: over the governed rate")
            out.append(synthesizer.synthesize(document, language=language))
        return b"".join(out)

    def _deliverable(
        self, key: str, data: bytes, stored: bool, language: str, audience: int
    ) -> Voiced:
        """Inline bytes (cached later), or the S3 claim check (cached first)."""
        large = len(data) > self.inline_audio_max_bytes
        crowded = audience >= self.reference_audio_audience > 0
        if large or crowded:
            if stored or self._store(key, data, language):
                ref = AudioRef(format="mp3", bucket=self.audio_bucket, key=key, size=len(data))
                return Voiced(audio=ref)
            if large:
                return Voiced(missing="AUDIO_STORE_FAILED")
            # Crowded but small, and the object could not be written: inline after all.
            stored = True  # the write just failed: not tried again after publishing
        inline = AudioRef(format="mp3", data_b64=base64.b64encode(data).decode("ascii"))
        return Voiced(audio=inline, unstored=None if stored else (key, data))

    def _store(self, key: str, data: bytes, language: str) -> bool:
        try:
            self.audio.put(key, data)
        except Exception as exc:  # the cache is an optimization
            log.warning(
                "audio cache write failed", extra={"language": language, "error": _code(exc)}
            )
            return False
        return True

    def _cached_audio(self, key: str) -> bytes | None:
        try:
            return self.audio.get(key)
        except Exception as exc:  # the cache is an optimization: synthesize instead
            log.warning("audio cache read failed", extra={"error": _code(exc)})
            return None


def _code(exc: BaseException) -> str:
    return exc.code if isinstance(exc, PolycastError) else type(exc).__name__
