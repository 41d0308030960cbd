"""What a listener hears: the listener page's ordering rule, applied to what was sent."""

from __future__ import annotations


class ListenerPlayback:
    """The listener page's rule (``reorder.js`` ``SegmentOrder``), without the clock.

    The first segment seen sets where the listener starts; segments are played in
    ``sequence`` order, each sequence once; one after a gap is held until the gap
    fills. One that arrives after its turn has passed is *late*: shown, not played.
    (The page also skips a gap still open after 3 s; here gaps are held to the end,
    then what is held is played in order.)
    """

    def __init__(self) -> None:
        self.played: list[int] = []
        self.late = 0
        self._held: set[int] = set()
        self._seen: set[int] = set()
        self._next: int | None = None

    def receive(self, sequence: int) -> None:
        if sequence in self._seen:
            return  # a repeat: dropped
        self._seen.add(sequence)
        if self._next is None:
            self._next = sequence
        if sequence < self._next:
            self.late += 1
            return
        self._held.add(sequence)
        while self._next in self._held:
            self._held.discard(self._next)
            self.played.append(self._next)
            self._next += 1

    def finish(self) -> list[int]:
        """Play what is still held, in order (gaps that never filled are skipped)."""
        self.played.extend(sorted(self._held))
        self._held.clear()
        return self.played
