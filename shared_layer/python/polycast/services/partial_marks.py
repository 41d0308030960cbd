"""Which live captions a broadcaster may still send: never twice, never backwards,
never after the sentence's segment.

Partials are disposable, so they get no stored idempotency record (a DynamoDB
write per caption per language would cost more than the caption). Two marks keep
them honest instead:

* the **Segments table** (the broadcaster's own record of the finals), read once
  per caption: a segment of this sequence or a later one recorded for the
  language means the caption comes too late — it is dropped;
* this **in-memory mark** per (session, language): the newest caption sent, by
  (sequence, final, revision), and the newest segment this container broadcast. A
  redelivered or overtaken ``PartialReady`` (EventBridge is at-least-once and
  unordered) is not newer than the mark and is dropped without a read.

The early final caption (``final``: the whole sentence's translation, published
ahead of its audio) ranks above every live caption of its sequence whatever their
revision (a recognizer may have counted its stable words differently from the
final's), so a live caption overtaken by it is dropped; a final caption whose text
is the one already sent for its sequence moves the mark but is not sent again.

The in-memory mark is per container. Locally one broadcaster serves every event of
a (session, language) in order, so nothing is ever sent twice or after its segment.
Deployed, two containers can each send one copy of a redelivered caption; the
listener page and ``polycast listen`` replace the live line in place and ignore a
partial whose sequence already has its segment, so a listener never sees it. In
the same rare case a container that did not see a sentence's final caption can
send a live caption it overtook: the live line shows the shorter text until the
segment (the ``partial`` message carries no revision to tell them apart by).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from polycast.domain.models import LiveCaption


@dataclass
class _Mark:
    sequence: int = -1
    final_caption: bool = False
    revision: int = 0
    text: str = ""  # the caption sent at (sequence, final_caption, revision)
    finished: int = -1  # the newest segment broadcast for (session, language)

    @property
    def rank(self) -> tuple[int, bool, int]:
        return (self.sequence, self.final_caption, self.revision)


class PartialMarks:
    """Thread-safe, bounded (least recently used (session, language) marks go first)."""

    def __init__(self, max_streams: int = 10_000) -> None:
        self.max_streams = max_streams
        self._marks: OrderedDict[tuple[str, str], _Mark] = OrderedDict()
        self._lock = threading.Lock()

    def _mark(self, session_id: str, language: str) -> _Mark:
        key = (session_id, language)
        mark = self._marks.get(key)
        if mark is None:
            mark = self._marks[key] = _Mark()
            while len(self._marks) > self.max_streams:
                self._marks.popitem(last=False)
        else:
            self._marks.move_to_end(key)
        return mark

    def claim(self, caption: LiveCaption) -> bool:
        """True when ``caption`` is newer than everything sent for its stream (and is
        now the mark); False: a repeat, an overtaken caption, its segment is out, or
        the text its listeners already read."""
        with self._lock:
            mark = self._mark(caption.session_id, caption.language)
            if caption.sequence <= mark.finished:
                return False
            if (caption.sequence, caption.final, caption.revision) <= mark.rank:
                return False
            unchanged = caption.sequence == mark.sequence and caption.text == mark.text
            mark.sequence, mark.final_caption = caption.sequence, caption.final
            mark.revision, mark.text = caption.revision, caption.text
            return not unchanged

    def finished(self, session_id: str, language: str, sequence: int) -> None:
        """The segment of ``sequence`` is going out: its captions are over."""
        with self._lock:
            mark = self._mark(session_id, language)
            mark.finished = max(mark.finished, sequence)
