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
still reach the bus in sequence order, language by language. The translation
cache write (and the processor's idempotency update) come after that.

Final caption first: a language about to be synthesized publishes its whole
translation as a ``PartialReady`` with ``final: true`` just before it asks the
synthesizer (:mod:`polycast.services.early_captions`; on its own pool, so synthesis
starts at once), and its listeners read the sentence while Polly speaks it. The
source language too: its listeners hear the original synthesized, so they would
wait for Polly as well. Not for a captions-only language, an audio-cache hit, or
text known to go without audio (no voice, too long): their segment follows at
once. A language that degrades to text only under pressure has had its caption
already; the segment follows it.

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

Audio (:mod:`polycast.services.speech`): the audio cache, looked up only for a
translation from the translation cache or the source language's text; the
degradation steps; inline bytes, written to the cache after the segment is
published, or the S3 claim check, written before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from polycast.domain import events
from polycast.domain.glossary import Glossary
from polycast.domain.models import EmotionDynamics, Segment, Session, Transcript
from polycast.domain.translation_settings import NO_SETTINGS, TranslationSettings
from polycast.errors import PolycastError, Throttled, TransientError
from polycast.ports import AudioStore, EventPublisher, SessionStore, Synthesizer, Translator
from polycast.services.early_captions import EARLY_CAPTION_WORKERS, EarlyCaptions, final_caption
from polycast.services.outcome import Outcome
from polycast.services.rate_governor import ServiceLimits
from polycast.services.speech import STANDARD_VOICE, TEXT_ONLY, Speech, Voiced
from polycast.services.translation_cache import TranslationCache

log = logging.getLogger(__name__)

__all__ = ["STANDARD_VOICE", "TEXT_ONLY", "Orchestrator", "Outcome"]

SEGMENT_READY = "SegmentReady"


@dataclass
class _LanguageResult:
    language: str
    text: str | None = None
    voiced: Voiced = field(default_factory=Voiced)
    error: Exception | None = None
    translate_ms: float = 0.0
    synthesize_ms: float = 0.0
    events_published: int = 0
    events_failed: int = 0
    publish_error: Exception | None = None
    early_caption: Future[bool] | None = None


class Orchestrator:
    """Built once per container; thread-safe, so many sessions can share it.

    ``max_workers`` bounds the language pipelines in flight across all sessions;
    the tasks never wait on each other, so a shared pool cannot deadlock.
    ``fallback_synthesizers`` are the degradation steps after ``synthesizer``
    (on AWS: Polly standard after Polly neural). ``caption_lead_seconds``: how long a
    segment waits, at most, for its early caption's publish to finish first.
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
        caption_lead_seconds: float = 0.1,
        final_caption_first: bool = True,
    ) -> None:
        self.sessions = sessions
        self.translator = translator
        self.cache = cache
        self.publisher = publisher
        self.limits = limits or ServiceLimits.unlimited()
        self.final_caption_first = final_caption_first
        self._clock = clock
        self.speech = Speech(
            synthesizer=synthesizer,
            fallback_synthesizers=fallback_synthesizers,
            audio=audio,
            audio_bucket=audio_bucket,
            limits=self.limits,
            inline_audio_max_bytes=inline_audio_max_bytes,
            reference_audio_audience=reference_audio_audience,
        )
        # One worker: one call at a time, the early caption included (reproducible runs).
        self.early_captions = EarlyCaptions(
            publisher,
            lead_seconds=caption_lead_seconds,
            max_workers=EARLY_CAPTION_WORKERS if max_workers > 1 else 0,
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="language")
        self._glossaries: dict[str, Glossary] = {}  # by digest: a container reads each once

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.early_captions.close()

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
            if r.error is None and r.voiced.missing:
                outcome.audio_missing[r.language] = r.voiced.missing
            if r.error is None and r.voiced.degraded:
                outcome.degraded[r.language] = r.voiced.degraded
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
        """One language's pipeline, then its ``SegmentReady`` at once; its early
        caption (if any) is on the bus or given up when this returns."""
        result = self._language(
            transcript, target, known, audience, settings, audio=audio, sequence=sequence
        )
        early = result.early_caption
        if early is not None:
            self.early_captions.ahead_of(early)
        try:
            if result.error is None:
                self._publish_segment(transcript, sequence, result, started)
        finally:
            if early is not None:
                self.early_captions.settle(early)
        return result

    def _publish_segment(
        self, transcript: Transcript, sequence: int, result: _LanguageResult, started: float
    ) -> None:
        total_ms = (self._clock() - started) * 1000
        segment = self._segment(transcript, sequence, result, total_ms)
        try:
            published = self.publisher.publish([(SEGMENT_READY, events.segment_ready(segment))])
        except Exception as exc:  # raised by ``process`` once every language is done
            result.publish_error = exc
            return
        finally:  # inline audio, cached once the segment is out (or for the retry)
            self.speech.keep(result.voiced, result.language)
        result.events_published = published.published
        result.events_failed = len(published.failed)

    def _language(
        self,
        transcript: Transcript,
        target: str,
        known: str | None,
        audience: int,
        settings: TranslationSettings = NO_SETTINGS,
        *,
        audio: bool,
        sequence: int,
    ) -> _LanguageResult:
        """Translate (unless known) then synthesize one language (unless nobody listens
        to audio), announcing its final caption just before synthesis; never raises."""
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
        text = result.text

        def announce() -> None:
            if not self.final_caption_first:
                return  # the caption comes with its audio
            caption = final_caption(transcript, sequence, target, text)
            result.early_caption = self.early_captions.announce(caption)

        t1 = self._clock()
        result.voiced = self.speech.voice(
            text,
            target,
            transcript.emotion or EmotionDynamics(),
            audience=audience,
            look_up=known is not None,  # a cached translation, or the source's own text
            before_synthesis=announce,
            session_id=transcript.session_id,
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
            audio=result.voiced.audio,
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
