"""Process one transcript: translate and synthesize once per listened-to language.

Reads one Sessions item (active languages and listener count: O(1) in listeners),
looks every language up in the translation cache in one batch, then runs one
pipeline per language in parallel — translate (on a miss), build SSML for the
voice's engine, synthesize (unless the audio cache already has the exact SSML),
publish its ``SegmentReady``. Each language publishes as soon as it is ready
(one PutEvents entry per language, so the bill per entry is unchanged): a language
never waits for a slower one, and the broadcaster invocations of a segment start
as their languages finish instead of all at once when the slowest one does.
``process`` returns once every language is on the bus, so a session's segments
still reach the bus in sequence order, language by language.

Failure policy, per language: a translation that fails for good (an unsupported
pair) skips the language and is counted. A transient one (throttling, 5xx,
timeouts — after the SDK's own retries, the only ones on this path; see "Retries"
in docs/architecture.md) is not retried here: the segments of the other languages
are published and then the transcript raises :class:`TransientError`, so the
stream retries it (the broadcaster drops the repeats) and, after the retry limit,
the record reaches the on-failure destination: nothing is lost silently.

Service limits: a :class:`ServiceLimits` governor paces Translate and each Polly
engine. Under pressure synthesis degrades in a fixed order instead of failing —
the neural voice, then the standard voice, then text only (``audio`` null) — and
each step is recorded in ``Outcome.degraded`` (the handler turns it into the
``DegradedSegments`` metric, dimension ``Step``). Languages start most-listened
first, so they take the governor's earliest slots.

Captions only: a language whose listeners all chose captions only (the ``audio``
action; ``Session.captions_only_counts``, read from the same Sessions item) is
translated but not synthesized; its segment carries ``audio: null``.

Audio: synthesized once per (SSML, voice, engine, format) — the audio cache is
keyed by their hash. Text over Polly's 3,000 billed characters is synthesized in
runs of whole sentences and the MP3s concatenated; a sentence too long on its own
is sent as text only (``SENTENCE_TOO_LONG``). Audio travels by S3 reference (the
claim check) when it is larger than ``inline_audio_max_bytes`` or when the
language has at least ``reference_audio_audience`` listeners.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from polycast.domain import events
from polycast.domain.cache_keys import audio_key
from polycast.domain.glossary import Glossary
from polycast.domain.models import AudioRef, EmotionDynamics, Segment, Session, Transcript
from polycast.domain.ssml import build_ssml
from polycast.domain.text_split import POLLY_MAX_BILLED_CHARS, SentenceTooLong, split_text
from polycast.domain.translation_settings import NO_SETTINGS, TranslationSettings
from polycast.domain.voices import Voice, voice_for
from polycast.errors import PolycastError, Throttled, TransientError
from polycast.ports import AudioStore, EventPublisher, SessionStore, Synthesizer, Translator
from polycast.services.outcome import Outcome
from polycast.services.rate_governor import ServiceLimits
from polycast.services.translation_cache import TranslationCache

log = logging.getLogger(__name__)

__all__ = ["STANDARD_VOICE", "TEXT_ONLY", "Orchestrator", "Outcome"]

SEGMENT_READY = "SegmentReady"

# Degradation steps, in order (the values of ``Outcome.degraded``).
STANDARD_VOICE = "standard_voice"
TEXT_ONLY = "text_only"


@dataclass
class _LanguageResult:
    language: str
    text: str | None = None
    audio: AudioRef | None = None
    error: Exception | None = None
    audio_missing: str | None = None
    degraded: str | None = None
    translate_ms: float = 0.0
    synthesize_ms: float = 0.0
    events_published: int = 0
    events_failed: int = 0
    publish_error: Exception | None = None


class Orchestrator:
    """Built once per container; thread-safe, so many sessions can share it.

    ``max_workers`` bounds the language pipelines in flight across all sessions;
    the tasks never wait on each other, so a shared pool cannot deadlock.
    ``fallback_synthesizers`` are the degradation steps after ``synthesizer``
    (on AWS: Polly standard after Polly neural).
    """

    def __init__(
        self,
        *,
        sessions: SessionStore,
        translator: Translator,
        synthesizer: Synthesizer,
        cache: TranslationCache,
        audio: AudioStore,
        publisher: EventPublisher,
        audio_bucket: str,
        inline_audio_max_bytes: int = 64 * 1024,
        max_workers: int = 32,
        clock: Callable[[], float] = time.perf_counter,
        fallback_synthesizers: Sequence[Synthesizer] = (),
        limits: ServiceLimits | None = None,
        reference_audio_audience: int = 1000,
    ) -> None:
        self.sessions = sessions
        self.translator = translator
        self.synthesizer = synthesizer
        self.cache = cache
        self.audio = audio
        self.publisher = publisher
        self.audio_bucket = audio_bucket
        self.inline_audio_max_bytes = inline_audio_max_bytes
        self.fallback_synthesizers = tuple(fallback_synthesizers)
        self.limits = limits or ServiceLimits.unlimited()
        self.reference_audio_audience = reference_audio_audience
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="language")
        self._glossaries: dict[str, Glossary] = {}  # by digest: a container reads each once

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def process(
        self, transcript: Transcript, sequence: int, *, session: Session | None = None
    ) -> Outcome:
        started = self._clock()
        outcome = Outcome(
            session_id=transcript.session_id,
            sequence=sequence,
            hints_replaced=len(transcript.hints_replaced),
        )
        if session is None:
            session = self.sessions.get(transcript.session_id)
        if session is None or session.listener_count <= 0 or not session.active_languages:
            outcome.listener_count = session.listener_count if session else 0
            outcome.skipped = "no listeners"
            outcome.duration_ms = (self._clock() - started) * 1000
            return outcome
        outcome.listener_count = session.listener_count
        targets = session.active_languages
        source = transcript.source_language
        settings = self._settings(session)

        lookup = self.cache.lookup(
            transcript.text, source, [t for t in targets if t != source], settings.variant
        )
        outcome.cache_hits, outcome.cache_misses = lookup.hits, lookup.misses
        known = dict(lookup.found)
        for target in targets:
            if target == source:  # listeners of the source language hear the original
                known[target] = transcript.text

        # Most-listened first (``active_languages`` is sorted by count): under
        # pressure they take the governors' earliest slots.
        futures = [
            self._pool.submit(
                self._language_published,
                transcript,
                target,
                sequence=sequence,
                known=known.get(target),
                audience=session.language_counts.get(target, 0),
                audio=session.wants_audio(target),
                started=started,
                settings=settings,
            )
            for target in targets
        ]
        results = [f.result() for f in futures]  # every language is on the bus (or failed)

        fresh = {
            r.language: r.text
            for r in results
            if r.text is not None and r.language not in known and r.language != source
        }
        self.cache.store_translations(transcript.text, source, fresh, settings.variant)
        for r in results:
            if r.publish_error is not None:  # the bus itself broke: retry the transcript
                raise r.publish_error

        failed = [r for r in results if r.error is not None]
        for r in failed:
            err = r.error
            outcome.failed_languages[r.language] = (
                err.code if isinstance(err, PolycastError) else type(err).__name__
            )
        for r in results:
            if r.error is None and r.audio_missing:
                outcome.audio_missing[r.language] = r.audio_missing
            if r.error is None and r.degraded:
                outcome.degraded[r.language] = r.degraded
        outcome.languages_processed = sum(1 for r in results if r.error is None)
        outcome.events_published = sum(r.events_published for r in results)
        outcome.events_failed = sum(r.events_failed for r in results)
        transient = sorted(r.language for r in failed if isinstance(r.error, TransientError))
        if transient:
            # The others are on the bus already; the retry re-publishes them from the
            # caches and the broadcaster drops what it has delivered.
            raise TransientError(
                f"translation failed transiently for {', '.join(transient)}; "
                "retrying the transcript"
            )
        outcome.duration_ms = (self._clock() - started) * 1000
        return outcome

    def _language_published(
        self,
        transcript: Transcript,
        target: str,
        *,
        sequence: int,
        known: str | None,
        audience: int,
        audio: bool,
        started: float,
        settings: TranslationSettings = NO_SETTINGS,
    ) -> _LanguageResult:
        """One language's pipeline, then its ``SegmentReady`` at once."""
        result = self._language(transcript, target, known, audience, settings, audio=audio)
        if result.error is None:
            total_ms = (self._clock() - started) * 1000
            segment = self._segment(transcript, sequence, result, total_ms)
            try:
                published = self.publisher.publish([(SEGMENT_READY, events.segment_ready(segment))])
            except Exception as exc:  # raised by ``process`` once every language is done
                result.publish_error = exc
                return result
            result.events_published = published.published
            result.events_failed = len(published.failed)
        return result

    def _language(
        self,
        transcript: Transcript,
        target: str,
        known: str | None,
        audience: int,
        settings: TranslationSettings = NO_SETTINGS,
        *,
        audio: bool,
    ) -> _LanguageResult:
        """Translate (unless known) then synthesize one language (unless nobody listens
        to audio); never raises."""
        result = _LanguageResult(language=target, text=known)
        if result.text is None:
            t0 = self._clock()
            try:
                result.text = self._translate(transcript, target, settings)
            except Exception as exc:
                log.warning(
                    "translation failed",
                    extra={
                        "sessionId": transcript.session_id,
                        "language": target,
                        "error": _code(exc),
                    },
                )
                result.error = exc
                return result
            finally:
                result.translate_ms = (self._clock() - t0) * 1000
        if not audio:
            return result
        t1 = self._clock()
        result.audio, result.audio_missing, result.degraded = self._audio(
            result.text, target, transcript, audience
        )
        result.synthesize_ms = (self._clock() - t1) * 1000
        return result

    def _settings(self, session: Session) -> TranslationSettings:
        """The session's translation settings; its glossary read once per version."""
        glossary = None
        ref = session.glossary
        if ref is not None:
            glossary = self._glossaries.get(ref.digest)
            if glossary is None:
                glossary = self.sessions.get_glossary(session.session_id)
                if glossary is not None:
                    if len(self._glossaries) >= 64:
                        self._glossaries.pop(next(iter(self._glossaries)))
                    self._glossaries[ref.digest] = glossary
        if glossary is None and not session.formality and not session.profanity:
            return NO_SETTINGS
        return TranslationSettings(
            glossary=glossary,
            terminology=ref.name if ref is not None and glossary is not None else None,
            formality=session.formality,
            profanity=session.profanity,
        )

    def _translate(
        self, transcript: Transcript, target: str, settings: TranslationSettings = NO_SETTINGS
    ) -> str:
        """One translation within the governor's rate (retried by the SDK, not here)."""
        if not self.limits.acquire("translate"):
            raise Throttled("Translate: over the governed rate")
        return self.translator.translate(
            transcript.text, source=transcript.source_language, target=target, settings=settings
        )

    def _audio(
        self, text: str, language: str, transcript: Transcript, audience: int
    ) -> tuple[AudioRef | None, str | None, str | None]:
        """(audio, why none, degradation step) for one language.

        Walks the synthesizers in degradation order; each step tries the audio cache,
        then the governor, then the engine. Pressure (the governor refusing, or a
        transient error) moves to the next step; anything else ends with text only.
        """
        emotion = transcript.emotion or EmotionDynamics()
        try:
            pieces = split_text(text, POLLY_MAX_BILLED_CHARS)
        except SentenceTooLong:
            return None, "SENTENCE_TOO_LONG", None
        tried: set[str] = set()
        missing: str | None = None
        pressured = False
        for synthesizer in (self.synthesizer, *self.fallback_synthesizers):
            voice = voice_for(language, synthesizer.engine)
            if voice is None or voice.engine in tried:
                continue
            tried.add(voice.engine)
            try:
                ssml = [build_ssml(p, emotion, engine=voice.engine) for p in pieces]
            except ValueError:
                return None, "SSML_TOO_LONG", None
            key = audio_key("\x1e".join(ssml), voice.voice_id, voice.engine, "mp3")
            data = self._cached_audio(key)
            stored = data is not None
            if data is None:
                try:
                    data = self._synthesize(synthesizer, voice, ssml, language)
                except TransientError as exc:
                    missing, pressured = _code(exc), True
                    log.warning(
                        "synthesis under pressure; degrading",
                        extra={
                            "sessionId": transcript.session_id,
                            "language": language,
                            "engine": voice.engine,
                            "error": missing,
                        },
                    )
                    continue
                except Exception as exc:
                    log.warning(
                        "synthesis failed; sending text only",
                        extra={
                            "sessionId": transcript.session_id,
                            "language": language,
                            "error": _code(exc),
                        },
                    )
                    return None, _code(exc), None
            step = STANDARD_VOICE if pressured else None
            audio, why = self._deliverable(key, data, stored, language, audience)
            return audio, why, step
        if missing is None:
            return None, "NO_VOICE", None
        return None, missing, TEXT_ONLY

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
    ) -> tuple[AudioRef | None, str | None]:
        """Cache the audio, then choose inline bytes or the S3 claim check."""
        if not stored:
            try:
                self.audio.put(key, data)
                stored = True
            except Exception as exc:
                log.warning(
                    "audio cache write failed", extra={"language": language, "error": _code(exc)}
                )
        large = len(data) > self.inline_audio_max_bytes
        crowded = audience >= self.reference_audio_audience > 0
        if stored and (large or crowded):
            return AudioRef(format="mp3", bucket=self.audio_bucket, key=key, size=len(data)), None
        if large:
            return None, "AUDIO_STORE_FAILED"
        return AudioRef(format="mp3", data_b64=base64.b64encode(data).decode("ascii")), None

    def _cached_audio(self, key: str) -> bytes | None:
        try:
            return self.audio.get(key)
        except Exception as exc:  # the cache is an optimization: synthesize instead
            log.warning("audio cache read failed", extra={"error": _code(exc)})
            return None

    @staticmethod
    def _segment(
        transcript: Transcript, sequence: int, result: _LanguageResult, total_ms: float
    ) -> Segment:
        assert result.text is not None
        return Segment(
            session_id=transcript.session_id,
            sequence=sequence,
            language=result.language,
            source_language=transcript.source_language,
            text=result.text,
            source_text=transcript.text,
            audio=result.audio,
            hints_replaced=transcript.hints_replaced,
            spoken_at=transcript.timestamp,
            start_ms=transcript.start_ms,
            end_ms=transcript.end_ms,
            timings={
                "translateMs": round(result.translate_ms, 3),
                "synthesizeMs": round(result.synthesize_ms, 3),
                "totalMs": round(total_ms, 3),
            },
        )


def _code(exc: BaseException) -> str:
    return exc.code if isinstance(exc, PolycastError) else type(exc).__name__
