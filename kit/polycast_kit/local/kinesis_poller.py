"""Kinesis → function, behaving like Lambda's event source mapping.

Per shard, in order: read records, invoke the function with the event Lambda
sends, and act on the answer the way Lambda does:

- ``{"batchItemFailures": [{"itemIdentifier": seq}]}``: checkpoint before the
  lowest failed sequence number and retry from there (later successes re-run);
- an exception (or an identifier that is not in the batch): the whole batch
  failed; with bisect on, split it in two and retry each half (a split does not
  use up a retry, so a poison record ends up alone);
- after ``retry_attempts`` retries of the same records, send a record like
  Lambda's on-failure destination record (with the reason) to the on-failure
  queue and move past them;
- records older than ``max_record_age_seconds`` go there too, unprocessed.

Polling is push-assisted: ``wake()`` (the runtime calls it when the embedded
moto server accepts a ``PutRecord(s)``) makes every idle shard read now instead
of at its next ``poll_interval``. A wake-up only starts the same read earlier;
batches, order, checkpoints and retry back-off are untouched (a failing shard
still waits out its back-off).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from polycast import wiring
from polycast_kit.local.functions import ACCOUNT_ID

log = logging.getLogger("polycast.local.kinesis")


class Invoker(Protocol):
    """What the poller needs from a function: its ARN and a way to call it."""

    @property
    def arn(self) -> str: ...

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class ShardCursor:
    """Where one shard stands: unprocessed records in order, and the retry state."""

    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 0
    attempts: int = 0
    head: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class BatchOutcome:
    """What one invocation decided: records done, and whether anything failed."""

    processed: int
    failed: bool


def _seq(record: Mapping[str, Any]) -> int:
    return int(record["SequenceNumber"])


def _arrival(record: Mapping[str, Any]) -> float:
    ts = record.get("ApproximateArrivalTimestamp")
    if isinstance(ts, datetime):
        return ts.timestamp()
    if isinstance(ts, int | float):
        return float(ts)
    return time.time()


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class KinesisPoller:
    """The event source mapping from one stream to one function, per shard in order."""

    def __init__(
        self,
        kinesis: Any,
        sqs: Any,
        *,
        stream_name: str,
        function: Invoker,
        on_failure_queue_url: str,
        source: wiring.KinesisSource = wiring.TRANSCRIPT_SOURCE,
        region: str = "us-east-1",
        starting_position: str = "TRIM_HORIZON",
        poll_interval: float = 0.05,
        retry_backoff: float = 0.2,
    ) -> None:
        self.kinesis = kinesis
        self.sqs = sqs
        self.stream_name = stream_name
        self.function = function
        self.on_failure_queue_url = on_failure_queue_url
        self.source = source
        self.region = region
        self.starting_position = starting_position
        self.poll_interval = poll_interval
        self.retry_backoff = retry_backoff
        summary = kinesis.describe_stream_summary(StreamName=stream_name)
        self.stream_arn: str = summary["StreamDescriptionSummary"]["StreamARN"]
        self.cursors: dict[str, ShardCursor] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------

    def open_shards(self) -> None:
        """Take an iterator at the starting position for every shard."""
        shards = self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self.cursors:
                continue
            iterator = self.kinesis.get_shard_iterator(
                StreamName=self.stream_name,
                ShardId=shard_id,
                ShardIteratorType=self.starting_position,
            )["ShardIterator"]
            self.cursors[shard_id] = ShardCursor(shard_id, iterator, limit=self.source.batch_size)

    def start(self) -> None:
        self.open_shards()
        for cursor in self.cursors.values():
            thread = threading.Thread(
                target=self._run, args=(cursor,), name=f"poller-{cursor.shard_id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Records may have arrived: idle shards read now, not at their next interval."""
        for cursor in list(self.cursors.values()):
            cursor.wake.set()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def _run(self, cursor: ShardCursor) -> None:
        while not self._stop.is_set():
            # Cleared before the read: a wake-up during it makes the next read immediate.
            cursor.wake.clear()
            try:
                outcome = self.poll_once(cursor.shard_id)
            except Exception:
                # The emulator went away or hiccuped: keep the position, try again.
                log.exception("polling %s failed", cursor.shard_id)
                self._stop.wait(1.0)
                continue
            if outcome is None:
                cursor.wake.wait(self.poll_interval)
            elif outcome.failed:
                self._stop.wait(self.retry_backoff * min(cursor.attempts, 5))

    # -- one step --------------------------------------------------------------------

    def _fill(self, cursor: ShardCursor) -> None:
        """Read more records into the shard's buffer, up to a batch."""
        if cursor.iterator is None or len(cursor.buffer) >= self.source.batch_size:
            return
        response = self.kinesis.get_records(
            ShardIterator=cursor.iterator, Limit=self.source.batch_size - len(cursor.buffer)
        )
        cursor.iterator = response.get("NextShardIterator")
        cursor.buffer.extend(response.get("Records", []))

    def poll_once(self, shard_id: str) -> BatchOutcome | None:
        """Process at most one batch of one shard; None when there was nothing to do."""
        cursor = self.cursors[shard_id]
        with cursor.lock:
            self._fill(cursor)
            self._expire_old(cursor)
            if not cursor.buffer:
                return None
            batch = cursor.buffer[: max(1, cursor.limit)]
            return self._invoke(cursor, batch)

    def drain(self, max_batches: int = 10_000) -> int:
        """Poll every shard until nothing is left (for tests); returns the invocations."""
        self.open_shards()
        invocations = 0
        idle_rounds = 0
        while invocations < max_batches and idle_rounds < 2:
            worked = False
            for shard_id in list(self.cursors):
                if self.poll_once(shard_id) is not None:
                    invocations += 1
                    worked = True
            idle_rounds = 0 if worked else idle_rounds + 1
        return invocations

    # -- the event Lambda sends ------------------------------------------------------

    def event(self, shard_id: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": record["PartitionKey"],
                        "sequenceNumber": record["SequenceNumber"],
                        "data": base64.b64encode(record["Data"]).decode("ascii"),
                        "approximateArrivalTimestamp": _arrival(record),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{record['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/polycast-local",
                    "awsRegion": self.region,
                    "eventSourceARN": self.stream_arn,
                }
                for record in batch
            ]
        }

    # -- outcomes --------------------------------------------------------------------

    def _invoke(self, cursor: ShardCursor, batch: list[dict[str, Any]]) -> BatchOutcome:
        error: str | None = None
        failed_seq: str | None = None
        try:
            response = self.function.invoke(self.event(cursor.shard_id, batch))
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.warning(
                "%s: function error on %d record(s) from %s: %s",
                cursor.shard_id,
                len(batch),
                batch[0]["SequenceNumber"],
                type(exc).__name__,
            )
        else:
            failures = (
                response.get("batchItemFailures") if isinstance(response, Mapping) else None
            ) or []
            in_batch = {r["SequenceNumber"] for r in batch}
            ids = [f.get("itemIdentifier") if isinstance(f, Mapping) else None for f in failures]
            if any(i not in in_batch for i in ids):
                # Lambda treats an unknown identifier as the whole batch failing.
                error = "batchItemFailures named a record not in the batch"
            elif ids:
                failed_seq = min((str(i) for i in ids), key=int)

        if error is None and failed_seq is None:
            del cursor.buffer[: len(batch)]
            cursor.limit = self.source.batch_size
            cursor.attempts, cursor.head = 0, None
            return BatchOutcome(len(batch), failed=False)

        if failed_seq is not None:
            # Checkpoint: everything before the lowest failed record is done.
            index = next(i for i, r in enumerate(batch) if r["SequenceNumber"] == failed_seq)
            del cursor.buffer[:index]
            self._count_attempt(cursor, failed_seq)
            if cursor.attempts > self.source.retry_attempts:
                failed = cursor.buffer[:1]
                self._give_up(cursor, failed, "reported in batchItemFailures", None)
                del cursor.buffer[:1]
                cursor.attempts, cursor.head = 0, None
            return BatchOutcome(index, failed=True)

        if self.source.bisect_batch_on_error and len(batch) > 1:
            cursor.limit = len(batch) // 2
            return BatchOutcome(0, failed=True)
        self._count_attempt(cursor, batch[0]["SequenceNumber"])
        if cursor.attempts > self.source.retry_attempts:
            self._give_up(cursor, batch, error or "function error", "Unhandled")
            del cursor.buffer[: len(batch)]
            cursor.attempts, cursor.head = 0, None
            cursor.limit = self.source.batch_size
        return BatchOutcome(0, failed=True)

    @staticmethod
    def _count_attempt(cursor: ShardCursor, head: str) -> None:
        if cursor.head == head:
            cursor.attempts += 1
        else:
            cursor.head, cursor.attempts = head, 1

    def _expire_old(self, cursor: ShardCursor) -> None:
        max_age = self.source.max_record_age_seconds
        if max_age <= 0:
            return
        now = time.time()
        old = 0
        while old < len(cursor.buffer) and now - _arrival(cursor.buffer[old]) > max_age:
            old += 1
        if old:
            self._give_up(
                cursor,
                cursor.buffer[:old],
                "record age exceeded",
                None,
                condition="RecordAgeExceeded",
                invokes=0,
            )
            del cursor.buffer[:old]

    def _give_up(
        self,
        cursor: ShardCursor,
        records: list[dict[str, Any]],
        reason: str,
        function_error: str | None,
        *,
        condition: str = "RetryAttemptsExhausted",
        invokes: int | None = None,
    ) -> None:
        """Send Lambda's on-failure destination record (plus the reason) and move on."""
        first, last = records[0], records[-1]
        message: dict[str, Any] = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": condition,
                "approximateInvokeCount": cursor.attempts if invokes is None else invokes,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": function_error or "",
            },
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "reason": reason,
            "KinesisBatchInfo": {
                "shardId": cursor.shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(_arrival(first)),
                "approximateArrivalOfLastRecord": _iso(_arrival(last)),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(message))
        log.warning(
            "%s: gave up on %d record(s) %s..%s (%s); sent to the on-failure queue",
            cursor.shard_id,
            len(records),
            first["SequenceNumber"],
            last["SequenceNumber"],
            condition,
        )
