"""The parts of a broadcast that do not depend on what is broadcast: which share of
an audience an invocation serves (:class:`AudienceSlice`), the tally of one fan-out
(:class:`BroadcastResult`) and its report (:func:`completed`, :func:`report`), a
segment's frames (:func:`encode_segment`: inline,
in parts, by presigned URL, or text only for a captions-only listener), and an
audience whose first page is read while the broadcaster does its own check
(:class:`ReadAhead`).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from typing import Any, Literal

from polycast.domain import events, messages
from polycast.domain.models import Connection, Segment
from polycast.errors import BadRequest, PolycastError
from polycast.ports import AudioStore, EventPublisher

logger = logging.getLogger(__name__)

# The $connect handler stores the connection before API Gateway completes the
# upgrade; a post in between answers 410. Such a young connection is not pruned
# (its $disconnect, or the TTL, cleans up if it really went away). A gateway that
# holds posts until the upgrade completes (the local one) may set 0.
CONNECTING_GRACE_SECONDS = 10.0
Outcome = Literal["delivered", "gone", "failed", "skipped"]


@dataclass(frozen=True)
class AudienceSlice:
    """Share ``index`` of ``count`` of an audience, chosen by a stable hash of the id.

    Several broadcaster invocations given the slices 0..count-1 of one segment
    together reach every listener exactly once.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise BadRequest(f"bad audience slice {self.index}/{self.count}")

    def includes(self, connection_id: str) -> bool:
        return zlib.crc32(connection_id.encode("utf-8")) % self.count == self.index

    @classmethod
    def from_detail(cls, raw: object) -> AudienceSlice | None:
        """The optional ``slice: {index, count}`` of an event detail."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise BadRequest("slice must be an object {index, count}")
        index, count = raw.get("index"), raw.get("count")
        if not isinstance(index, int) or not isinstance(count, int):
            raise BadRequest("slice needs integer index and count")
        return cls(index, count)


@dataclass
class BroadcastResult:
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    skipped: int = 0
    duration_ms: float = 0.0
    duplicate: bool = False
    slices: int = 0  # > 0: the audience was split and handed to this many invocations

    @property
    def attempted(self) -> int:
        """Listeners a delivery was owed to (a gone listener is churn, not a failure)."""
        return self.delivered + self.failed

    @property
    def success_rate(self) -> float | None:
        """Percent delivered, or None when nobody was owed a delivery."""
        return 100.0 * self.delivered / self.attempted if self.attempted else None

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def completed(
    segment: Segment, result: BroadcastResult, audience_slice: AudienceSlice | None
) -> dict[str, Any]:
    """The ``BroadcastCompleted`` detail of one segment's fan-out (or of one slice)."""
    return events.broadcast_completed(
        session_id=segment.session_id,
        sequence=segment.sequence,
        language=segment.language,
        delivered=result.delivered,
        gone=result.gone,
        failed=result.failed,
        skipped=result.skipped,
        duration_ms=result.duration_ms,
        slice=(audience_slice.index, audience_slice.count) if audience_slice else None,
    )


def report(publisher: EventPublisher, detail_type: str, details: list[dict[str, Any]]) -> None:
    """Events are a report, not the delivery: a failure is logged, not raised."""
    try:
        outcome = publisher.publish([(detail_type, d) for d in details])
    except PolycastError as exc:
        logger.warning("%s not published: %s", detail_type, exc.code)
        return
    if outcome.failed:
        logger.warning("%s not published: %d failed", detail_type, len(outcome.failed))


def encode_segment(
    segment: Segment,
    *,
    audio: AudioStore | None,
    max_message_bytes: int = messages.DEFAULT_MAX_MESSAGE_BYTES,
) -> list[bytes]:
    """The frames of one segment: inline, in parts, or by presigned S3 URL.

    When a referenced clip cannot be presigned the listener still gets the text.
    """
    ref = segment.audio
    if ref is not None and ref.data_b64 is None:
        url: str | None = None
        if audio is not None:
            try:
                url = audio.url(ref)
            except PolycastError as exc:
                logger.warning("audio url failed, sending text only: %s", exc.code)
        if url is None:
            segment = replace(segment, audio=None)
        return [
            messages.encode(m)
            for m in messages.segment_messages(
                segment, audio_url=url, max_message_bytes=max_message_bytes
            )
        ]
    return [
        messages.encode(m)
        for m in messages.segment_messages(segment, max_message_bytes=max_message_bytes)
    ]


def flatten(pages: Iterable[list[Connection]]) -> Iterator[Connection]:
    for page in pages:
        yield from page


class ReadAhead:
    """An audience whose first page is read on ``pool`` while the caller makes its own
    DynamoDB call (the Segments record or read), so the two round trips overlap.

    Iterating waits for that page, then pages on as a plain query would; a failed
    read raises there. Unused (a duplicate or a late caption), the page is wasted:
    one query, against a round trip saved on every delivery.
    """

    def __init__(self, pages: Iterator[list[Connection]], pool: Executor) -> None:
        self._pages = pages
        self._first: Future[list[Connection] | None] = pool.submit(next, pages, None)

    def __iter__(self) -> Iterator[list[Connection]]:
        first = self._first.result()
        if first is not None:
            yield first
            yield from self._pages
