"""The transcript stream, one Kinesis batch at a time.

Why not Powertools' ``BatchProcessor`` as is: it runs records one after another,
but a batch holds many sessions and each transcript waits on
Translate and Polly for hundreds of milliseconds. So the batch is grouped by
session, the groups run concurrently in a thread pool, and each group runs
strictly in order. We build the same partial batch response Powertools would
(``{"batchItemFailures": [{"itemIdentifier": <sequenceNumber>}]}``).

Rules, in the order a record meets them:

* The edge (``polycast.adapters.aws.kinesis_records``) has already decoded base64
  and unpacked KPL aggregates: records arrive as :class:`StreamRecord` s, bytes
  plus the Kinesis ``sequenceNumber`` (a sub-record's is its parent's, so a failure
  is reported by the number Lambda knows). One the edge could not decode, or
  whose bytes are not a valid record, is rejected.
* A record that can never succeed (``BadRequest``, an ended session) becomes a
  ``TranscriptRejected`` event and is NOT reported failed: it must not stall the
  shard.
* A transient failure (or a bug) fails that record AND every later record of the
  same session in this batch — order within a session is sacred — while other
  sessions go on. Lambda then retries from the lowest failed sequence number.
* Everything is idempotent (Powertools idempotency, DynamoDB conditional writes):
  a transcript on (sessionId, sequence); a stream-order sequence on the Kinesis
  record id; session start and end once per session; a pause or resume on its
  Kinesis record id. Redelivered records emit nothing new.
* While the speaker has paused the session (``sessionPaused`` until
  ``sessionResumed``), a transcript is not translated or synthesized: it is
  recorded as a ``TranscriptRejected`` with code ``SESSION_PAUSED`` (the decision
  is part of the idempotent step, so a replay after the resume does not send it).
* A ``partial`` record goes to :class:`~polycast.services.live_captions.LiveCaptions`:
  captions only, never stored, retried or failed; dropped once its final was processed.
* Every transcript refreshes the session's activity (at most once per
  ``activity_every_seconds``, from the Sessions read it already makes), which
  keeps the sweeper from ending it as idle and pushes back its TTL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from polycast.domain import events
from polycast.domain.models import (
    Partial,
    Record,
    Session,
    SessionEnd,
    SessionPause,
    SessionResume,
    SessionStart,
    Transcript,
)
from polycast.domain.records import parse_direct_invoke, parse_record, record_session_id
from polycast.domain.stream import StreamRecord
from polycast.errors import (
    BadRequest,
    InvalidRecord,
    PolycastError,
    SessionNotFound,
    TransientError,
)
from polycast.errors import SessionEnded as SessionEndedError
from polycast.ports import EventPublisher, SessionStore
from polycast.services.connections import hash_join_code
from polycast.services.live_captions import LiveCaptions
from polycast.services.orchestrator import Orchestrator, Outcome

log = logging.getLogger(__name__)

TRANSCRIPT_REJECTED = "TranscriptRejected"
SESSION_STARTED = "SessionStarted"
SESSION_ENDED = "SessionEnded"
SESSION_PAUSED = "SessionPaused"
SESSION_RESUMED = "SessionResumed"


@dataclass
class _Item:
    """One user record of the batch, parsed (or why it cannot be)."""

    parent: str  # the Kinesis sequenceNumber reported on failure
    record_id: str
    session_id: str | None
    record: Record | None = None
    rejection: BadRequest | None = None

    @classmethod
    def parse(cls, user: StreamRecord) -> _Item:
        parent, record_id = user.sequence_number, user.record_id
        if user.undecodable is not None:
            bad = InvalidRecord(user.undecodable)
            return cls(parent, record_id, user.partition_key, rejection=bad)
        session_id = record_session_id(user.data) or user.partition_key
        try:
            record = parse_record(user.data)
        except BadRequest as exc:
            return cls(parent, record_id, session_id, rejection=exc)
        return cls(parent, record_id, record.session_id, record=record)


@dataclass
class BatchResult:
    failed: list[str] = field(default_factory=list)  # parent sequence numbers, batch order
    outcomes: list[Outcome] = field(default_factory=list)  # transcripts processed now
    rejected: int = 0
    replayed: int = 0  # records already done by an earlier delivery

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in self.failed]}


@dataclass
class _GroupResult:
    failed: set[str] = field(default_factory=set)
    outcomes: list[Outcome] = field(default_factory=list)
    rejected: int = 0
    replayed: int = 0


class TranscriptProcessor:
    """Built once per container. ``idempotency_store`` makes one persistence layer per
    idempotent step (Powertools reconfigures a layer per call, so steps running on
    different threads must not share one)."""

    def __init__(
        self,
        *,
        orchestrator: Orchestrator,
        sessions: SessionStore,
        publisher: EventPublisher,
        idempotency_store: Callable[[], BasePersistenceLayer],
        idempotency_ttl_seconds: int = 6 * 3600,
        # A batch of 100 records can hold 100 sessions, and each waits on Translate and
        # Polly, not on the CPU: 16 made a 20-session batch take two rounds.
        max_parallel_sessions: int = 64,
        activity_every_seconds: int = 60,
        clock: Callable[[], float] = time.time,
        live_captions: LiveCaptions | None = None,
    ) -> None:
        self.live_captions = live_captions or LiveCaptions(
            sessions=sessions,
            translator=orchestrator.translator,
            publisher=publisher,
            limits=orchestrator.limits,
        )
        self.activity_every_seconds = activity_every_seconds
        self.clock = clock
        self.orchestrator = orchestrator
        self.sessions = sessions
        self.publisher = publisher
        self.idempotency = IdempotencyConfig(expires_after_seconds=idempotency_ttl_seconds)
        self._pool = ThreadPoolExecutor(
            max_workers=max_parallel_sessions, thread_name_prefix="session"
        )

        def once(step: Callable[..., dict[str, Any]], prefix: str) -> Callable[..., dict[str, Any]]:
            wrapped: Callable[..., dict[str, Any]] = idempotent_function(
                step,
                data_keyword_argument="key",
                persistence_store=idempotency_store(),
                config=self.idempotency,
                key_prefix=f"polycast.{prefix}",
            )
            return wrapped

        self._transcript_once = once(self._transcript_step, "transcript")
        self._sequence_once = once(self._sequence_step, "sequence")
        self._start_once = once(self._start_step, "sessionStarted")
        self._end_once = once(self._end_step, "sessionEnded")
        self._control_once = once(self._control_step, "sessionControl")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.live_captions.close()

    # ---- entry points -------------------------------------------------------------

    def process_batch(self, records: Sequence[StreamRecord], context: Any = None) -> BatchResult:
        """One batch of decoded records, in stream order (see the module's rules)."""
        self._register(context)
        order: dict[str, int] = {}
        for user in records:
            order.setdefault(user.sequence_number, len(order))
        result = BatchResult()

        groups: dict[str, list[_Item]] = {}
        for item in map(_Item.parse, records):
            groups.setdefault(item.session_id or f"?{item.record_id}", []).append(item)
        failed: set[str] = set()
        for group in self._pool.map(self._run_group, groups.values()):
            failed |= group.failed
            result.outcomes.extend(group.outcomes)
            result.rejected += group.rejected
            result.replayed += group.replayed
        result.failed = sorted(failed, key=lambda seq: order.get(seq, len(order)))
        return result

    def process_direct(self, event: Mapping[str, Any], context: Any = None) -> Outcome:
        """The seed's direct-invoke event. BadRequest propagates (the handler answers 400)."""
        self._register(context)
        transcript = parse_direct_invoke(event)
        session = self._ensure_session(transcript)
        sequence = transcript.sequence
        if sequence is None:
            sequence = self.sessions.next_sequence(transcript.session_id)
        outcome, _ = self._transcript(transcript, sequence, session)
        return outcome

    def _register(self, context: Any) -> None:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self.idempotency.register_lambda_context(context)

    # ---- one session's records, in order ------------------------------------------

    def _run_group(self, items: Sequence[_Item]) -> _GroupResult:
        result = _GroupResult()
        for index, item in enumerate(items):
            try:
                if item.rejection is not None:
                    self._reject(item, item.rejection)
                    result.rejected += 1
                    continue
                try:
                    outcome, ran = self._handle(item)
                except (BadRequest, SessionEndedError) as exc:
                    self._reject(item, exc)
                    result.rejected += 1
                    continue
                if outcome is not None and ran:
                    result.outcomes.append(outcome)
                elif not ran:
                    result.replayed += 1
            except Exception as exc:
                later = {i.parent for i in items[index:]}
                result.failed |= later
                log.warning(
                    "record failed; it and the session's later records will be retried",
                    extra={
                        "sessionId": item.session_id,
                        "recordId": item.record_id,
                        "error": _code(exc),
                        "held": len(items) - index - 1,
                    },
                )
                break
        return result

    def _handle(self, item: _Item) -> tuple[Outcome | None, bool]:
        record = item.record
        if isinstance(record, SessionStart):
            return None, self._start(record)
        if isinstance(record, SessionEnd):
            return None, self._end(record)
        if isinstance(record, SessionPause | SessionResume):
            ran: list[bool] = []
            self._control_once(
                key={"sessionId": record.session_id, "recordId": item.record_id},
                control=record,
                ran=ran,
            )
            return None, bool(ran)
        if isinstance(record, Partial):
            self.live_captions.offer(record)  # disposable: never fails the record
            return None, True
        assert isinstance(record, Transcript)
        session = self._ensure_session(record)
        sequence = record.sequence
        if sequence is None:
            ran = []
            sequence = int(
                self._sequence_once(
                    key={"sessionId": record.session_id, "recordId": item.record_id},
                    session_id=record.session_id,
                    ran=ran,
                )["sequence"]
            )
        done = self._transcript(record, sequence, session)
        self.live_captions.finished(record.session_id, sequence)
        return done

    def _reject(self, item: _Item, error: PolycastError) -> None:
        """Bad input: tell the bus why, and never retry it (unless the bus refused)."""
        record = item.record
        sequence = record.sequence if isinstance(record, Transcript) else None
        detail = events.transcript_rejected(
            code=error.code,
            reason=str(error),
            session_id=item.session_id,
            sequence=sequence,
            record_id=item.record_id,
        )
        log.info(
            "record rejected",
            extra={"sessionId": item.session_id, "recordId": item.record_id, "code": error.code},
        )
        self._publish_or_raise([(TRANSCRIPT_REJECTED, detail)])

    def _publish_or_raise(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        result = self.publisher.publish(entries)
        if result.failed:
            raise TransientError(f"event bus refused {len(result.failed)} event(s)")

    # ---- idempotent steps ----------------------------------------------------------

    def _transcript(
        self, transcript: Transcript, sequence: int, session: Session | None
    ) -> tuple[Outcome, bool]:
        ran: list[bool] = []
        try:
            data = self._transcript_once(
                key={"sessionId": transcript.session_id, "sequence": sequence},
                transcript=transcript,
                session=session,
                ran=ran,
            )
        except IdempotencyAlreadyInProgressError as exc:
            raise TransientError("the same transcript is being processed elsewhere") from exc
        return Outcome.from_json(data), bool(ran)

    def _transcript_step(
        self,
        *,
        key: dict[str, Any],
        transcript: Transcript,
        session: Session | None,
        ran: list[bool],
    ) -> dict[str, Any]:
        ran.append(True)
        if session is not None and session.status == "ended":
            raise SessionEndedError(f"session {transcript.session_id} has ended")
        if session is not None and session.paused:
            sequence = int(key["sequence"])
            rejected = events.transcript_rejected(
                code="SESSION_PAUSED",
                reason="the speaker paused the session; the transcript was not translated",
                session_id=transcript.session_id,
                sequence=sequence,
            )
            self._publish_or_raise([(TRANSCRIPT_REJECTED, rejected)])
            skipped = Outcome(
                session_id=transcript.session_id,
                sequence=sequence,
                listener_count=session.listener_count,
                skipped="session paused",
            )
            return skipped.to_json()
        # None: the session was started by this very transcript, so nobody listens yet.
        session = session or Session(transcript.session_id, transcript.source_language)
        outcome = self.orchestrator.process(transcript, int(key["sequence"]), session=session)
        if outcome.events_failed:
            raise TransientError(f"event bus refused {outcome.events_failed} SegmentReady event(s)")
        return outcome.to_json()

    def _sequence_step(
        self, *, key: dict[str, Any], session_id: str, ran: list[bool]
    ) -> dict[str, Any]:
        ran.append(True)
        return {"sequence": self.sessions.next_sequence(session_id)}

    def _ensure_session(self, transcript: Transcript) -> Session | None:
        """The ONE Sessions read per transcript; an unknown session is started (once).

        A session started just now has no listeners yet, so its transcript is skipped.
        """
        session = self.sessions.get(transcript.session_id)
        if session is None or session.status == "created":
            # A created session's listeners are waiting: its first transcript starts it
            # and is delivered to them.
            self._start(
                SessionStart(
                    transcript.session_id,
                    session.source_language if session else transcript.source_language,
                )
            )
        elif (
            session.status == "active"
            and self.clock() - session.last_activity_at >= self.activity_every_seconds
        ):
            self.sessions.touch(transcript.session_id)
        return session

    def _start(self, start: SessionStart) -> bool:
        ran: list[bool] = []
        self._start_once(key={"sessionId": start.session_id}, start=start, ran=ran)
        return bool(ran)

    def _start_step(
        self, *, key: dict[str, Any], start: SessionStart, ran: list[bool]
    ) -> dict[str, Any]:
        ran.append(True)
        code_hash = hash_join_code(start.join_code) if start.join_code else None
        created = self.sessions.start(
            start.session_id, start.source_language, join_code_hash=code_hash
        )
        detail = events.session_started(start.session_id, start.source_language)
        self._publish_or_raise([(SESSION_STARTED, detail)])
        return {"created": created}

    def _control_step(
        self, *, key: dict[str, Any], control: SessionPause | SessionResume, ran: list[bool]
    ) -> dict[str, Any]:
        """Speaker pause or resume: store it, then tell the listeners (via the bus).

        Each record is told once (idempotent on its record id), even when it repeats
        the current state: a listener page treats it as idempotent too.
        """
        ran.append(True)
        paused = isinstance(control, SessionPause)
        try:
            changed = self.sessions.set_paused(control.session_id, paused)
        except SessionNotFound as exc:
            raise BadRequest(str(exc), code="SESSION_NOT_FOUND") from exc
        if isinstance(control, SessionPause):
            entry = (SESSION_PAUSED, events.session_paused(control.session_id, control.reason))
        else:
            entry = (SESSION_RESUMED, events.session_resumed(control.session_id))
        self._publish_or_raise([entry])
        return {"paused": paused, "changed": changed}

    def _end(self, end: SessionEnd) -> bool:
        ran: list[bool] = []
        self._end_once(key={"sessionId": end.session_id}, end=end, ran=ran)
        return bool(ran)

    def _end_step(self, *, key: dict[str, Any], end: SessionEnd, ran: list[bool]) -> dict[str, Any]:
        ran.append(True)
        if self.sessions.get(end.session_id) is None:
            return {"ended": False}
        ended = self.sessions.end(end.session_id, reason=end.reason)
        self._publish_or_raise([(SESSION_ENDED, events.session_ended(end.session_id, end.reason))])
        return {"ended": ended}


def _code(exc: BaseException) -> str:
    return exc.code if isinstance(exc, PolycastError) else type(exc).__name__
