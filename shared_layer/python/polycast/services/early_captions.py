"""The final caption ahead of its audio: one ``PartialReady`` with ``final: true``.

A language that is about to be synthesized would otherwise show its final caption
only with the ``segment``, after Polly. So, as soon as the text is ready and the
synthesizer is about to be asked, the orchestrator hands the whole translation to
:meth:`EarlyCaptions.announce`, which publishes it on a small pool of its own while
the language's thread goes on to synthesize. The broadcaster sends it as a
``partial`` (the listener message is text only), and the segment replaces it.

Disposable, like every caption: a failure to publish is logged (codes, never the
text) and never fails the transcript. Before the segment is published,
:meth:`EarlyCaptions.ahead_of` gives the caption up to ``lead_seconds`` more to be
on the bus first (synthesis takes far longer than a PutEvents, so it nearly always
is already); a later one that reaches the broadcaster after its segment is dropped
there, as any caption is. The language's thread then waits for it
(:meth:`EarlyCaptions.settle`), so no publish outlives the invocation.

With ``max_workers`` 0 the caption is published on the caller's thread, before
synthesis: one call at a time (an orchestrator with one worker, as the seeded
fault runs use, stays reproducible).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait

from polycast.domain import events
from polycast.domain.live_captions import stable_words
from polycast.domain.models import LiveCaption, Transcript
from polycast.errors import PolycastError
from polycast.ports import EventPublisher
from polycast.services.live_captions import PARTIAL_READY

log = logging.getLogger(__name__)


def final_caption(transcript: Transcript, sequence: int, language: str, text: str) -> LiveCaption:
    """The final caption of ``sequence`` in ``language``; its revision covers every
    source word (a live caption never covers more)."""
    return LiveCaption(
        session_id=transcript.session_id,
        sequence=sequence,
        language=language,
        source_language=transcript.source_language,
        text=text,
        revision=max(1, len(stable_words(transcript.text))),
        final=True,
    )


EARLY_CAPTION_WORKERS = 4


class EarlyCaptions:
    """Thread-safe; ``max_workers`` publishes in flight (a PutEvents each)."""

    def __init__(
        self,
        publisher: EventPublisher,
        *,
        lead_seconds: float = 0.1,
        max_workers: int = EARLY_CAPTION_WORKERS,
    ) -> None:
        self.publisher = publisher
        self.lead_seconds = lead_seconds
        self._pool = (
            ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="caption")
            if max_workers > 0
            else None
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def announce(self, caption: LiveCaption) -> Future[bool]:
        """Publish ``caption`` on the pool (the caller does not wait), or at once."""
        if self._pool is not None:
            return self._pool.submit(self._publish, caption)
        done: Future[bool] = Future()
        done.set_result(self._publish(caption))
        return done

    def ahead_of(self, pending: Future[bool]) -> None:
        """The segment is about to be published: the caption gets up to
        ``lead_seconds`` to be on the bus first."""
        wait([pending], timeout=self.lead_seconds)

    @staticmethod
    def settle(pending: Future[bool]) -> bool:
        """Wait for the publish; True when the caption went on the bus."""
        return not pending.cancelled() and pending.result()

    def _publish(self, caption: LiveCaption) -> bool:
        where = {
            "sessionId": caption.session_id,
            "sequence": caption.sequence,
            "language": caption.language,
        }
        try:
            result = self.publisher.publish([(PARTIAL_READY, events.partial_ready(caption))])
        except Exception as exc:  # disposable: the segment follows anyway
            code = exc.code if isinstance(exc, PolycastError) else type(exc).__name__
            log.warning("early caption not published", extra={**where, "error": code})
            return False
        if result.failed:
            log.warning("early caption not published", extra={**where, "error": "refused"})
            return False
        return True
