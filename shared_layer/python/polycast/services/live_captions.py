"""Live captions: ``partial`` records → one ``PartialReady`` per listened-to language.

A live caption is disposable: it is never stored, never retried and never synthesized.
Whatever goes wrong with one (a refused translation, a throttled bus) is logged and
the caption dropped — the final segment of the sentence follows anyway. So a partial
never fails a Kinesis batch or holds up the transcripts behind it.

Per session (in this container's memory, bounded): the pacer
(:class:`polycast.domain.partial_pacing.PartialPacer`: stable prefix grew, at most
``1 / min_interval`` a second), the caption drafts of the sentence in progress per
language (the chunk rule of :mod:`polycast.domain.live_captions`), and the last
sequence whose final transcript was processed: a partial of it, or of an earlier
sentence, comes too late and is dropped. A container that never saw the session
simply starts a fresh draft (the first chunk is then the whole stable prefix).

Cost: one Sessions read per paced partial (the languages that have listeners, O(1)
in listeners), one TranslateText per language and new chunk, one PutEvents.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from polycast.domain import events
from polycast.domain.live_captions import CaptionDraft, Chunk, next_chunk
from polycast.domain.models import LiveCaption, Partial, Session
from polycast.domain.partial_pacing import MIN_INTERVAL_SECONDS, PartialPacer
from polycast.errors import PolycastError
from polycast.ports import EventPublisher, SessionStore, Translator
from polycast.services.rate_governor import ServiceLimits

log = logging.getLogger(__name__)

PARTIAL_READY = "PartialReady"


@dataclass
class _SessionCaptions:
    pacer: PartialPacer
    sequence: int = -1  # the sentence the drafts belong to
    drafts: dict[str, CaptionDraft] = field(default_factory=dict)
    finished_sequence: int = -1  # the last sentence whose final transcript was processed
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class CaptionOutcome:
    """What one partial record led to (for metrics and tests)."""

    published: int = 0
    translated_chars: int = 0  # source characters sent to the translator
    skipped: str | None = None  # why nothing was published


class LiveCaptions:
    """Built once per container; thread-safe (sessions of a batch run concurrently)."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        translator: Translator,
        publisher: EventPublisher,
        limits: ServiceLimits | None = None,
        min_interval: float = MIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 4096,
        max_workers: int = 8,
    ) -> None:
        self.sessions = sessions
        self.translator = translator
        self.publisher = publisher
        self.limits = limits or ServiceLimits.unlimited()
        self.min_interval = min_interval
        self.clock = clock
        self.max_sessions = max_sessions
        self._state: OrderedDict[str, _SessionCaptions] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="caption")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _session(self, session_id: str) -> _SessionCaptions:
        with self._lock:
            state = self._state.get(session_id)
            if state is None:
                state = _SessionCaptions(PartialPacer(min_interval=self.min_interval))
                self._state[session_id] = state
                while len(self._state) > self.max_sessions:
                    self._state.popitem(last=False)
            else:
                self._state.move_to_end(session_id)
            return state

    def finished(self, session_id: str, sequence: int) -> None:
        """The final transcript of ``sequence`` was processed: its partials are over."""
        state = self._session(session_id)
        with state.lock:
            state.finished_sequence = max(state.finished_sequence, sequence)
            if state.sequence <= sequence:
                state.drafts.clear()

    def offer(self, partial: Partial) -> CaptionOutcome:
        """Caption one partial record if it is due; never raises."""
        try:
            return self._offer(partial)
        except Exception as exc:  # disposable: the final segment follows anyway
            code = exc.code if isinstance(exc, PolycastError) else type(exc).__name__
            log.warning(
                "live caption dropped",
                extra={"sessionId": partial.session_id, "sequence": partial.sequence, "code": code},
            )
            return CaptionOutcome(skipped=code)

    def _offer(self, partial: Partial) -> CaptionOutcome:
        state = self._session(partial.session_id)
        with state.lock:  # one partial of a session at a time, in stream order
            if partial.sequence <= state.finished_sequence or partial.sequence < state.sequence:
                return CaptionOutcome(skipped="late")
            if not state.pacer.offer(partial.sequence, partial.stable_text, self.clock()):
                return CaptionOutcome(skipped="paced")
            if partial.sequence != state.sequence:
                state.sequence, state.drafts = partial.sequence, {}
            session = self.sessions.get(partial.session_id)
            # A created session's listeners are waiting: they see the first sentence
            # grow too (its final transcript starts the session).
            if session is None or session.status == "ended" or session.paused:
                return CaptionOutcome(skipped="session not live")
            if session.listener_count <= 0 or not session.active_languages:
                return CaptionOutcome(skipped="no listeners")
            return self._caption(partial, session, state)

    def _caption(
        self, partial: Partial, session: Session, state: _SessionCaptions
    ) -> CaptionOutcome:
        outcome = CaptionOutcome()
        work: dict[str, Chunk] = {}
        for language in session.active_languages:
            draft = state.drafts.get(language, CaptionDraft())
            chunk = next_chunk(partial.stable_text, draft.covered_words)
            if chunk is not None:
                work[language] = chunk
        if not work:
            outcome.skipped = "no new clause"
            return outcome
        futures = {
            language: self._pool.submit(self._translate, chunk.text, partial, language)
            for language, chunk in work.items()
        }
        captions: list[LiveCaption] = []
        for language, future in futures.items():
            chunk = work[language]
            try:
                translated = future.result()
            except Exception as exc:
                code = exc.code if isinstance(exc, PolycastError) else type(exc).__name__
                log.warning(
                    "live caption translation failed",
                    extra={"sessionId": partial.session_id, "language": language, "error": code},
                )
                continue
            if language != partial.source_language:
                outcome.translated_chars += len(chunk.text)
            draft = state.drafts.get(language, CaptionDraft()).extended(translated, chunk.words)
            state.drafts[language] = draft
            captions.append(
                LiveCaption(
                    session_id=partial.session_id,
                    sequence=partial.sequence,
                    language=language,
                    source_language=partial.source_language,
                    text=draft.text,
                    revision=draft.covered_words,
                )
            )
        if not captions:
            outcome.skipped = "translation failed"
            return outcome
        result = self.publisher.publish(
            (PARTIAL_READY, events.partial_ready(caption)) for caption in captions
        )
        outcome.published = result.published
        if result.failed:
            log.warning(
                "live captions not published",
                extra={"sessionId": partial.session_id, "failed": len(result.failed)},
            )
        return outcome

    def _translate(self, text: str, partial: Partial, language: str) -> str:
        if language == partial.source_language:  # its listeners read the original
            return text
        if not self.limits.acquire("translate", max_wait=0.0):
            # Finals come first: a live caption never queues behind the governor.
            raise PolycastError("Translate: over the governed rate; caption skipped")
        return self.translator.translate(text, source=partial.source_language, target=language)
