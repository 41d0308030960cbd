"""Which live (partial) captions go out: at most ~2 a second, and only real progress.

A recognizer sends a partial result every few hundred milliseconds, most of them
revising words that are not stable yet. Each ``partial`` record costs a Kinesis
write, a translation per language and a message per listener, so a session sends
one only when the stable prefix grew, and not sooner than :data:`MIN_INTERVAL_SECONDS`
after the last one. A new sentence (a new ``sequence``) starts afresh. Pure: the
caller passes the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_INTERVAL_SECONDS = 0.5


def stable_words(text: str) -> int:
    return len(text.split())


@dataclass
class PartialPacer:
    """One speaker session's partial captions. :meth:`offer` says whether to send."""

    min_interval: float = MIN_INTERVAL_SECONDS
    _sequence: int | None = None
    _sent_words: int = 0
    _sent_at: float | None = None

    def offer(self, sequence: int, stable_text: str, now: float) -> bool:
        """True when this partial should be sent (and is then counted as sent)."""
        if sequence != self._sequence:
            self._sequence = sequence
            self._sent_words = 0
        words = stable_words(stable_text)
        if words <= self._sent_words:
            return False
        if self._sent_at is not None and now - self._sent_at < self.min_interval:
            return False
        self._sent_words = words
        self._sent_at = now
        return True
