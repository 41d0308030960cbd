"""Broadcaster: one segment to every listener of its language, once.

EventBridge delivers at least once and in no order, so each (session, sequence,
language) is recorded in the SegmentLog before fan-out and marked delivered after
it. A redelivery finds the record: marked delivered → dropped; recorded but not
marked (the previous run crashed mid fan-out) → fanned out again, the safer side.
Two copies of one event running at the same moment can both fan out; EventBridge
rarely does that, and the listener page drops a sequence it already has.

Fan-out posts with at most ``max_concurrent`` PostToConnection calls in flight.
410 Gone prunes the connection and its count; throttling and 5xx are retried by
the SDK (the one retry level; docs/architecture.md, "Retries") and then counted
failed.

A language with more listeners than ``audience_slice_size`` (the count comes from
the one Sessions item) is split: this invocation publishes one ``BroadcastSlice``
per :class:`AudienceSlice` and each is delivered by its own broadcaster
invocation, deduplicated per (session, sequence, language, slice).

Live captions (``PartialReady``: the live ones, and the early final caption the
orchestrator publishes ahead of the audio) go to the same listeners as text-only
``partial`` messages, never after their sentence's segment and never twice from one
container (:mod:`polycast.services.partial_marks`). A captions-only listener (the
``audio`` action) gets every segment without its audio. The audience-independent
parts (slices, tallies, frames, read-ahead) are in :mod:`polycast.services.fan_out`.

Reads before the first post overlap: a segment's Sessions read with its Segments
record; a slice's record, or a caption's Segments read, with its first page of
listeners (one call at a time when ``max_concurrent`` is 1).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Any

from polycast.domain import events, messages
from polycast.domain.models import Connection, LiveCaption, Segment
from polycast.errors import BadRequest, ConnectionGone, PolycastError, TransientError
from polycast.ports import (
    AudioStore,
    ConnectionStore,
    EventPublisher,
    ListenerRegistry,
    SegmentLog,
    Sender,
    SessionStore,
)
from polycast.services.fan_out import (
    CONNECTING_GRACE_SECONDS,
    AudienceSlice,
    BroadcastResult,
    Outcome,
    ReadAhead,
    completed,
    encode_segment,
    flatten,
    report,
)
from polycast.services.partial_marks import PartialMarks

__all__ = [
    "CONNECTING_GRACE_SECONDS",
    "AudienceSlice",
    "BroadcastResult",
    "Broadcaster",
    "encode_segment",
]

logger = logging.getLogger(__name__)

READ_WORKERS = 8  # DynamoDB reads overlapped with the broadcaster's own (ReadAhead)


class Broadcaster:
    def __init__(
        self,
        *,
        connections: ConnectionStore,
        listeners: ListenerRegistry,
        sessions: SessionStore,
        segments: SegmentLog,
        sender: Sender,
        publisher: EventPublisher,
        audio: AudioStore | None = None,
        max_concurrent: int = 100,
        segment_ttl_seconds: int = 3600,
        max_message_bytes: int = messages.DEFAULT_MAX_MESSAGE_BYTES,
        audience_slice_size: int = 2000,
        clock: Callable[[], float] = time.time,
        prune_grace_seconds: float = CONNECTING_GRACE_SECONDS,
    ) -> None:
        self.connections = connections
        self.listeners = listeners
        self.prune_grace_seconds = prune_grace_seconds
        self.sessions = sessions
        self.segments = segments
        self.sender = sender
        self.publisher = publisher
        self.audio = audio
        self.max_concurrent = max(1, max_concurrent)
        self.segment_ttl_seconds = segment_ttl_seconds
        self.max_message_bytes = max_message_bytes
        self.audience_slice_size = audience_slice_size  # 0: never split
        self.clock = clock
        self.partial_marks = PartialMarks()
        # Pools for the container's life: starting max_concurrent threads per
        # segment costs more than the posts' own CPU on a busy machine.
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._pool_lock = threading.Lock()

    def _pool(self, name: str, workers: int) -> ThreadPoolExecutor:
        with self._pool_lock:
            if name not in self._pools:
                self._pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=name)
            return self._pools[name]

    def _reads(self) -> ThreadPoolExecutor | None:
        """The pool that overlaps reads; None: one call at a time (``max_concurrent`` 1)."""
        return self._pool("broadcast-read", READ_WORKERS) if self.max_concurrent > 1 else None

    def _listeners(self, session_id: str, language: str) -> Iterable[list[Connection]]:
        pages, reads = self.connections.listeners(session_id, language), self._reads()
        return pages if reads is None else ReadAhead(pages, reads)

    def close(self) -> None:
        with self._pool_lock:
            for pool in self._pools.values():
                pool.shutdown(wait=True)
            self._pools.clear()

    # -- entry point -------------------------------------------------------------

    def handle(self, detail_type: str, detail: Mapping[str, Any]) -> BroadcastResult:
        """One EventBridge event: ``SegmentReady``, ``BroadcastSlice``, ``PartialReady``,
        ``SessionEnded``, ``SessionPaused`` or ``SessionResumed``."""
        if detail_type == "PartialReady":
            try:
                caption = events.caption_from_detail(detail)
            except (KeyError, TypeError, ValueError) as exc:
                raise BadRequest(f"malformed PartialReady detail: {exc!r}") from exc
            return self.broadcast_partial(caption)
        if detail_type in ("SegmentReady", "BroadcastSlice"):
            try:
                segment = events.segment_from_detail(detail)
            except (KeyError, TypeError, ValueError) as exc:
                raise BadRequest(f"malformed {detail_type} detail: {exc!r}") from exc
            audience_slice = AudienceSlice.from_detail(detail.get("slice"))
            if detail_type == "BroadcastSlice" and audience_slice is None:
                raise BadRequest("BroadcastSlice detail lacks slice")
            if audience_slice is None and self.audience_slice_size > 0:
                return self._segment_ready(segment)
            return self.broadcast_segment(segment, audience_slice=audience_slice)
        if detail_type == "SessionEnded":
            session_id = detail.get("sessionId")
            if not isinstance(session_id, str):
                raise BadRequest("SessionEnded detail lacks sessionId")
            return self.end_session(session_id, str(detail.get("reason") or "ended"))
        if detail_type in ("SessionPaused", "SessionResumed"):
            session_id = detail.get("sessionId")
            if not isinstance(session_id, str):
                raise BadRequest(f"{detail_type} detail lacks sessionId")
            reason = detail.get("reason")
            message = (
                messages.session_paused_message(
                    session_id, reason if isinstance(reason, str) else None
                )
                if detail_type == "SessionPaused"
                else messages.session_resumed_message(session_id)
            )
            return self.notify_session(session_id, message)
        raise BadRequest(f"the broadcaster does not handle {detail_type!r}")

    # -- segments ----------------------------------------------------------------

    def _segment_ready(self, segment: Segment) -> BroadcastResult:
        """Split or broadcast; the Sessions read runs while the segment is recorded."""
        reads = self._reads()
        counting = reads.submit(self.slice_count, segment) if reads is not None else None
        first = self.segments.record(segment, ttl_seconds=self.segment_ttl_seconds)
        count = counting.result() if counting is not None else self.slice_count(segment)
        if count > 1:
            return self.split(segment, count, recorded=first)
        return self.broadcast_segment(segment, recorded=first)

    def slice_count(self, segment: Segment) -> int:
        """How many invocations the segment's audience needs (one Sessions read)."""
        if self.audience_slice_size <= 0:
            return 1
        session = self.sessions.get(segment.session_id)
        listeners = session.language_counts.get(segment.language, 0) if session else 0
        return max(1, math.ceil(listeners / self.audience_slice_size))

    def split(
        self, segment: Segment, count: int, *, recorded: bool | None = None
    ) -> BroadcastResult:
        """Hand each of ``count`` slices of the audience to its own invocation.

        The segment is recorded (for catch-up) and, once every ``BroadcastSlice`` is
        on the bus, marked delivered, so a redelivered SegmentReady is dropped; each
        slice deduplicates itself by its own mark. If the bus refuses a slice this
        raises, and the retried event publishes the slices again (delivered ones
        are dropped by their marks).
        """
        started = time.monotonic()
        first = recorded
        if first is None:
            first = self.segments.record(segment, ttl_seconds=self.segment_ttl_seconds)
        if not first and self.segments.is_delivered(
            segment.session_id, segment.language, segment.sequence
        ):
            return BroadcastResult(duplicate=True)
        published = self.publisher.publish(
            ("BroadcastSlice", events.broadcast_slice(segment, index, count))
            for index in range(count)
        )
        if published.failed:
            raise TransientError(f"event bus refused {len(published.failed)} of {count} slices")
        self.segments.mark_delivered(segment)
        logger.info(
            "audience split",
            extra={"sequence": segment.sequence, "language": segment.language, "slices": count},
        )
        return BroadcastResult(slices=count, duration_ms=(time.monotonic() - started) * 1000.0)

    def broadcast_segment(
        self,
        segment: Segment,
        *,
        audience_slice: AudienceSlice | None = None,
        recorded: bool | None = None,
    ) -> BroadcastResult:
        """``recorded``: the result of the caller's own Segments record, if it made it."""
        started = time.monotonic()
        mark = (
            (audience_slice.index, audience_slice.count)
            if audience_slice is not None and audience_slice.count > 1
            else None
        )
        audience: Iterable[list[Connection]]
        first = recorded
        if first is None:  # the record and the first page of listeners at once
            audience = self._listeners(segment.session_id, segment.language)
            first = self.segments.record(segment, ttl_seconds=self.segment_ttl_seconds)
        else:
            audience = self.connections.listeners(segment.session_id, segment.language)
        if not first and self.segments.is_delivered(
            segment.session_id, segment.language, segment.sequence, audience_slice=mark
        ):
            logger.info(
                "duplicate segment dropped",
                extra={"sequence": segment.sequence, "language": segment.language, "slice": mark},
            )
            return BroadcastResult(duplicate=True)

        self.partial_marks.finished(segment.session_id, segment.language, segment.sequence)
        frames = encode_segment(segment, audio=self.audio, max_message_bytes=self.max_message_bytes)
        text_only = frames
        if segment.audio is not None:
            text_only = encode_segment(replace(segment, audio=None), audio=None)
        result = self.fan_out(
            audience, frames, audience_slice=audience_slice, captions_frames=text_only
        )
        result.duration_ms = (time.monotonic() - started) * 1000.0

        try:
            self.segments.mark_delivered(segment, audience_slice=mark)
        except PolycastError as exc:
            # The fan-out is done and its report must not be lost: raising here made
            # the event come again, find the mark (a write that timed out after it
            # took effect) and drop the report with its failed deliveries. Unmarked,
            # a redelivery fans out again and the listener page drops the repeats.
            logger.warning("segment delivered but not marked: %s", exc.code)
        report(self.publisher, "BroadcastCompleted", [completed(segment, result, audience_slice)])
        logger.info(
            "segment broadcast",
            extra={
                "sequence": segment.sequence,
                "language": segment.language,
                "delivered": result.delivered,
                "gone": result.gone,
                "failed": result.failed,
                "skipped": result.skipped,
                "frames": len(frames),
            },
        )
        return result

    # -- live captions -----------------------------------------------------------

    def broadcast_partial(self, caption: LiveCaption) -> BroadcastResult:
        """A live caption to the language's listeners, unless it is stale: a repeat
        or overtaken copy (the in-memory mark), or its segment is recorded already
        (one Segments read, beside the first page of listeners). No
        ``BroadcastCompleted``: captions are disposable."""
        if not self.partial_marks.claim(caption):
            return BroadcastResult(duplicate=True)
        audience = self._listeners(caption.session_id, caption.language)
        later = self.segments.since(
            caption.session_id, caption.language, caption.sequence - 1, limit=1
        )
        if later and later[0].sequence >= caption.sequence:
            self.partial_marks.finished(caption.session_id, caption.language, later[0].sequence)
            return BroadcastResult(duplicate=True)
        started = time.monotonic()
        frame = messages.encode(messages.partial_message(caption))
        result = self.fan_out(audience, [frame])
        result.duration_ms = (time.monotonic() - started) * 1000.0
        logger.debug(
            "live caption broadcast",
            extra={"sequence": caption.sequence, "delivered": result.delivered},
        )
        return result

    # -- session end -------------------------------------------------------------

    def end_session(
        self, session_id: str, reason: str, *, audience_slice: AudienceSlice | None = None
    ) -> BroadcastResult:
        """Tell every listener of the session, all languages, that it is over."""
        started = time.monotonic()
        frame = messages.encode(messages.session_ended_message(session_id, reason))
        audience = self.connections.listeners(session_id, None)
        result = self.fan_out(audience, [frame], audience_slice=audience_slice, paused_too=True)
        result.duration_ms = (time.monotonic() - started) * 1000.0
        logger.info(
            "session end broadcast",
            extra={"delivered": result.delivered, "gone": result.gone, "failed": result.failed},
        )
        return result

    def notify_session(self, session_id: str, message: dict[str, Any]) -> BroadcastResult:
        """A speaker-side control message (``sessionPaused`` / ``sessionResumed``) to
        every listener of the session, all languages, paused listeners too."""
        started = time.monotonic()
        frame = messages.encode(message)
        audience = self.connections.listeners(session_id, None)
        result = self.fan_out(audience, [frame], paused_too=True)
        result.duration_ms = (time.monotonic() - started) * 1000.0
        logger.info(
            "session notice broadcast",
            extra={"notice": message.get("type"), "delivered": result.delivered},
        )
        return result

    # -- fan-out -----------------------------------------------------------------

    def fan_out(
        self,
        audience: Iterable[list[Connection]],
        frames: list[bytes],
        *,
        audience_slice: AudienceSlice | None = None,
        paused_too: bool = False,
        captions_frames: list[bytes] | None = None,
    ) -> BroadcastResult:
        """Post ``frames`` in order to each listener, at most ``max_concurrent`` at once
        (``captions_frames`` instead to a captions-only listener, when given).

        Pages are read lazily and at most ``2 * max_concurrent`` posts are queued, so
        memory stays flat however large the audience.
        """
        result = BroadcastResult()
        left: list[dict[str, Any]] = []
        lock = threading.Lock()

        def deliver_or_prune(connection: Connection) -> Outcome:
            chosen = frames if connection.audio or captions_frames is None else captions_frames
            outcome = self.deliver(connection, chosen)
            if outcome == "gone" and self._connecting(connection):
                return "skipped"  # not upgraded yet: it will hear the next segment
            if outcome == "gone":
                detail = self.prune(connection)
                if detail is not None:
                    with lock:
                        left.append(detail)
            return outcome

        def tally(future: Future[Outcome]) -> None:
            with lock:
                result.count(future.result())

        pending: set[Future[Outcome]] = set()
        pool = self._pool("fan-out", self.max_concurrent)
        for connection in flatten(audience):
            if audience_slice is not None and not audience_slice.includes(connection.connection_id):
                continue
            if connection.paused and not paused_too:
                result.count("skipped")
                continue
            if len(pending) >= 2 * self.max_concurrent:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    tally(future)
            pending.add(pool.submit(deliver_or_prune, connection))
        for future in wait(pending).done:
            tally(future)
        if left:
            report(self.publisher, "ListenerLeft", left)
        return result

    def deliver(self, connection: Connection, frames: list[bytes]) -> Outcome:
        """All frames of one message to one listener, in order; never raises."""
        try:
            for frame in frames:
                self.sender.post(connection.connection_id, frame)
        except ConnectionGone:
            return "gone"
        except TransientError as exc:
            logger.warning("delivery failed: %s", exc.code)
            return "failed"
        except Exception as exc:  # a listener must never take the others down
            logger.warning("delivery failed: %s", type(exc).__name__)
            return "failed"
        return "delivered"

    def _connecting(self, connection: Connection) -> bool:
        return self.clock() - connection.connected_at < self.prune_grace_seconds

    def prune(self, connection: Connection) -> dict[str, Any] | None:
        """Forget a connection API Gateway says is gone, and count it out once.

        Returns the ListenerLeft detail when this call removed it (None when the
        ``$disconnect`` handler, or an earlier 410, got there first).
        """
        try:
            outcome = self.listeners.remove(connection.connection_id)
        except PolycastError as exc:
            # The TTL sweeps the item; a later 410 retries the decrement.
            logger.warning("pruning a gone connection failed: %s", exc.code)
            return None
        if outcome is None:
            return None
        removed, session = outcome
        return events.listener_left(
            removed.session_id,
            removed.language,
            session.listener_count if session else 0,
            session.language_counts.get(removed.language, 0) if session else 0,
            reason="gone",
        )
