"""``polycast produce FILE|-``: a talk into the transcript stream, as a speaker app would.

``polycast produce --session ID --start|--pause|--resume|--end [--reason TEXT]``
sends just that control record (``sessionStarted``, ``sessionPaused``,
``sessionResumed``, ``sessionEnded``), as the speaker's buttons would: ``--start``
starts a session without a talk, so listeners can join before the first sentence.

Input is JSONL records (the record formats are in docs/events.md and schemas/records;
``offsetMs`` paces ``--realtime``) or plain text, one sentence a line. Each record is
checked against schemas/ before anything is sent; a problem names the file, line and
field, and ``--force`` sends anyway. Records are KPL-aggregated per session (one partition key per
aggregate), each ``put_records`` call holds at most one aggregate per session so a
retry can never reorder a session, and throughput errors are retried with
exponential backoff.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aws_kinesis_agg.aggregator import RecordAggregator
from botocore.exceptions import ClientError

from polycast.domain.events import now_iso
from polycast.domain.session_ids import new_session_id
from polycast_kit.cli.endpoints import add_target_arguments, resolve_target
from polycast_kit.cli.talk_file import (
    TalkFileError,
    TimedRecord,
    check_records,
    talk_records,
)

# Kinesis: 1 MB per record (partition key included), 500 records or 5 MB per call.
MAX_AGGREGATE_BYTES = 1_000_000
MAX_ENTRIES_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "InternalFailure",
    "ServiceUnavailable",
    "ThrottlingException",
    "KMSThrottlingException",
}


@dataclass
class ProduceStats:
    records: int = 0
    aggregates: int = 0
    put_calls: int = 0
    retries: int = 0


class TranscriptProducer:
    """Puts records into the stream: aggregated per session, retried, in order per session."""

    def __init__(
        self,
        kinesis: Any,
        stream_name: str,
        *,
        aggregate: bool = True,
        max_attempts: int = 8,
        base_delay: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.aggregate = aggregate
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.sleep = sleep
        self.stats = ProduceStats()

    def entries(self, records: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
        """(partition key, data) per Kinesis record, in order; aggregates never mix sessions."""
        out: list[tuple[str, bytes]] = []
        if not self.aggregate:
            for record in records:
                out.append((str(record["sessionId"]), _encode(record)))
            return out
        aggregators: dict[str, RecordAggregator] = {}
        order: list[str] = []
        pending: dict[str, list[bytes]] = {}
        for record in records:
            key = str(record["sessionId"])
            if key not in aggregators:
                aggregators[key] = RecordAggregator(max_size=MAX_AGGREGATE_BYTES)
                order.append(key)
                pending[key] = []
            full = aggregators[key].add_user_record(key, _encode(record))
            if full is not None:
                pending[key].append(full.get_contents()[2])
        for key in order:
            last = aggregators[key].clear_and_get()
            if last is not None and last.get_num_user_records() > 0:
                pending[key].append(last.get_contents()[2])
        # Interleave sessions: call n carries each session's n-th aggregate.
        depth = max((len(v) for v in pending.values()), default=0)
        for n in range(depth):
            for key in order:
                if n < len(pending[key]):
                    out.append((key, pending[key][n]))
        return out

    def send(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        self.stats.records += len(records)
        entries = self.entries(records)
        self.stats.aggregates += len(entries)
        for call in _calls(entries):
            self._put_with_retries(call)

    def _put_with_retries(self, call: list[tuple[str, bytes]]) -> None:
        remaining = call
        for attempt in range(self.max_attempts):
            try:
                self.stats.put_calls += 1
                response = self.kinesis.put_records(
                    StreamName=self.stream_name,
                    Records=[{"PartitionKey": pk, "Data": data} for pk, data in remaining],
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in RETRYABLE or attempt == self.max_attempts - 1:
                    raise
                self._backoff(attempt)
                continue
            if not response.get("FailedRecordCount"):
                return
            results = response["Records"]
            failed = [
                entry
                for entry, result in zip(remaining, results, strict=True)
                if result.get("ErrorCode")
            ]
            codes = {result.get("ErrorCode") for result in results if result.get("ErrorCode")}
            if not codes <= RETRYABLE or attempt == self.max_attempts - 1:
                raise RuntimeError(
                    f"put_records failed for {len(failed)} record(s): {sorted(codes)}"
                )
            remaining = failed
            self._backoff(attempt)
        raise RuntimeError("put_records: retries exhausted")

    def _backoff(self, attempt: int) -> None:
        self.stats.retries += 1
        self.sleep(min(5.0, self.base_delay * 2**attempt) * (0.5 + random.random() / 2))


def _encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _calls(entries: list[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
    """put_records calls: size limits, and at most one entry per partition key each."""
    call: list[tuple[str, bytes]] = []
    keys: set[str] = set()
    size = 0
    for pk, data in entries:
        entry_size = len(pk.encode()) + len(data)
        if call and (
            pk in keys
            or len(call) >= MAX_ENTRIES_PER_CALL
            or size + entry_size > MAX_BYTES_PER_CALL
        ):
            yield call
            call, keys, size = [], set(), 0
        call.append((pk, data))
        keys.add(pk)
        size += entry_size
    if call:
        yield call


def produce_talk(
    producer: TranscriptProducer,
    timed: Iterable[TimedRecord],
    *,
    realtime: bool = False,
    speed: float = 1.0,
    on_sent: Callable[[list[dict[str, Any]]], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Send the records; in real time each when its offset comes, else all at once."""
    items = list(timed)
    if not realtime:
        records = [_stamp(t.record) for t in items]
        producer.send(records)
        if on_sent:
            on_sent(records)
        return
    started = time.monotonic()
    index = 0
    while index < len(items) and not should_stop():
        due_at = items[index].offset_ms / 1000 / speed
        wait = due_at - (time.monotonic() - started)
        if wait > 0:
            time.sleep(min(wait, 0.25))
            continue
        batch = []
        while (
            index < len(items)
            and items[index].offset_ms / 1000 / speed <= time.monotonic() - started
        ):
            batch.append(_stamp(items[index].record))
            index += 1
        producer.send(batch)
        if on_sent:
            on_sent(batch)


def _stamp(record: dict[str, Any]) -> dict[str, Any]:
    if record.get("type") == "transcript" and "timestamp" not in record:
        return {**record, "timestamp": now_iso()}
    return record


def session_records(
    timed: list[TimedRecord], *, session_id: str, language: str, start: bool, end: bool
) -> list[TimedRecord]:
    """The talk framed by ``sessionStarted`` (right away, so listeners can join before
    the first sentence) and ``sessionEnded`` (with the last one)."""
    out = list(timed)
    first = 0.0
    last = out[-1].offset_ms if out else 0.0
    if start:
        out.insert(
            0,
            TimedRecord(
                first,
                {"type": "sessionStarted", "sessionId": session_id, "sourceLanguage": language},
            ),
        )
    if end:
        out.append(TimedRecord(last, {"type": "sessionEnded", "sessionId": session_id}))
    return out


# -- command -------------------------------------------------------------------------


CONTROLS = {
    "start": "sessionStarted",
    "pause": "sessionPaused",
    "resume": "sessionResumed",
    "end": "sessionEnded",
}


def control_record(
    kind: str, session_id: str, reason: str | None = None, *, language: str = "en"
) -> dict[str, Any]:
    """One session control record (``schemas/records``): start, pause, resume or end."""
    record: dict[str, Any] = {"type": CONTROLS[kind], "sessionId": session_id}
    if kind == "start":
        record["sourceLanguage"] = language
    elif reason and kind != "resume":
        record["reason"] = reason
    record["timestamp"] = now_iso()
    return record


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "produce",
        help="send a talk (JSONL records or plain text lines) into the transcript stream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "file", nargs="?", help="JSONL or text file, or - for stdin (not with a control flag)"
    )
    parser.add_argument("--session", help="session id (default: a new human-readable one)")
    parser.add_argument("--language", default="en", help="source language (default: en)")
    parser.add_argument("--realtime", action="store_true", help="pace records by offsetMs")
    parser.add_argument("--speed", type=float, default=1.0, help="realtime speed factor")
    parser.add_argument("--no-start", action="store_true", help="do not send sessionStarted")
    parser.add_argument("--no-end", action="store_true", help="do not send sessionEnded")
    parser.add_argument("--no-aggregate", action="store_true", help="one Kinesis record each")
    parser.add_argument(
        "--force", action="store_true", help="send records that fail the schema check anyway"
    )
    control = parser.add_mutually_exclusive_group()
    control.add_argument(
        "--start",
        action="store_true",
        help="send only sessionStarted for --session (listeners join before the talk)",
    )
    control.add_argument(
        "--pause", action="store_true", help="send only sessionPaused for --session"
    )
    control.add_argument(
        "--resume", action="store_true", help="send only sessionResumed for --session"
    )
    control.add_argument("--end", action="store_true", help="send only sessionEnded for --session")
    parser.add_argument("--reason", help="with --pause or --end: the reason listeners are shown")
    add_target_arguments(parser)
    parser.set_defaults(run=run)


def _read_lines(name: str) -> list[str]:
    if name == "-":
        return sys.stdin.read().splitlines()
    return Path(name).read_text(encoding="utf-8").splitlines()


def _control(args: argparse.Namespace) -> str | None:
    for kind in CONTROLS:
        if getattr(args, kind, False):
            return kind
    return None


def run_control(args: argparse.Namespace, kind: str, out: TextIO = sys.stdout) -> int:
    """``--pause`` / ``--resume`` / ``--end``: one control record for an existing session."""
    if args.file:
        print(f"polycast produce: --{kind} sends no talk; leave out the file", file=sys.stderr)
        return 2
    if not args.session:
        print(f"polycast produce: --{kind} needs --session <id>", file=sys.stderr)
        return 2
    target = resolve_target(args)
    record = control_record(kind, args.session, args.reason, language=args.language)
    producer = TranscriptProducer(target.client("kinesis"), target.stream, aggregate=False)
    try:
        producer.send([record])
    except RuntimeError as exc:
        print(f"polycast produce: {exc}", file=sys.stderr)
        return 1
    print(
        f"session {args.session}: {record['type']} sent to {target.describe()}",
        file=out,
        flush=True,
    )
    return 0


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    kind = _control(args)
    if kind is not None:
        return run_control(args, kind, out)
    if not args.file:
        print(
            "polycast produce: give a file (or - for stdin), or --start/--pause/--resume/--end",
            file=sys.stderr,
        )
        return 2
    session_id = args.session or new_session_id()
    name = "<stdin>" if args.file == "-" else args.file
    try:
        lines = _read_lines(args.file)
        timed = list(talk_records(lines, session_id=session_id, language=args.language, name=name))
    except TalkFileError as exc:
        print(f"polycast produce: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"polycast produce: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    check = check_records(timed, name=name)
    for warning in check.warnings:
        print(f"polycast produce: warning: {warning}", file=sys.stderr)
    for error in check.errors[:20]:
        print(f"polycast produce: {error}", file=sys.stderr)
    if check.errors and not args.force:
        hidden = f" ({len(check.errors) - 20} not shown)" if len(check.errors) > 20 else ""
        print(
            f"polycast produce: {len(check.errors)} problem(s){hidden}; "
            "nothing sent (--force sends anyway)",
            file=sys.stderr,
        )
        return 2
    target = resolve_target(args)
    timed = session_records(
        timed,
        session_id=session_id,
        language=args.language,
        start=not args.no_start,
        end=not args.no_end,
    )
    total = len(timed)
    print(f"session {session_id}: {total} records to {target.describe()}", file=out, flush=True)
    producer = TranscriptProducer(
        target.client("kinesis"), target.stream, aggregate=not args.no_aggregate
    )
    sent = 0
    tty = out.isatty()

    def progress(batch: list[dict[str, Any]]) -> None:
        nonlocal sent
        sent += len(batch)
        line = (
            f"sent {sent}/{total} records in {producer.stats.put_calls} put_records "
            f"call(s), {producer.stats.retries} retries"
        )
        if tty:
            print("\r" + line, end="", file=out, flush=True)
        elif sent == total:
            print(line, file=out, flush=True)

    try:
        produce_talk(producer, timed, realtime=args.realtime, speed=args.speed, on_sent=progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted after {sent}/{total} records", file=out)
        return 130
    except RuntimeError as exc:
        print(f"\npolycast produce: {exc}", file=sys.stderr)
        return 1
    if tty:
        print(file=out)
    return 0


__all__ = [
    "ProduceStats",
    "TimedRecord",
    "TranscriptProducer",
    "control_record",
    "produce_talk",
    "talk_records",
]
