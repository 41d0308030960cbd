"""The local event source mapping against moto's Kinesis: the event shape Lambda
sends, checkpointing at the lowest failed sequence number, bisect on error, the
retry limit and the on-failure queue, and order per shard. Tiny handlers of our own."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast import wiring
from polycast_kit.local.kinesis_poller import KinesisPoller

STREAM = "poller-test"
SOURCE = wiring.KinesisSource(batch_size=10, retry_attempts=2, bisect_batch_on_error=True)


@dataclass
class Recorder:
    """A function that records what it got and fails on request."""

    poison: set[int] = field(default_factory=set)  # raise when a batch holds one of these
    reject: set[int] = field(default_factory=set)  # report these in batchItemFailures
    reject_times: int = 10**9  # ...this many times each
    batches: list[list[int]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    rejected: dict[int, int] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)  # monotonic time of each invocation
    arn: str = "arn:aws:lambda:us-east-1:123456789012:function:tiny"

    def invoke(self, event: dict[str, Any]) -> Any:
        self.times.append(time.monotonic())
        self.events.append(event)
        records = event["Records"]
        values = [json.loads(base64.b64decode(r["kinesis"]["data"]))["n"] for r in records]
        self.batches.append(values)
        if self.poison & set(values):
            raise ValueError("poison in batch")
        failures = []
        for record, value in zip(records, values, strict=True):
            if value in self.reject and self.rejected.get(value, 0) < self.reject_times:
                self.rejected[value] = self.rejected.get(value, 0) + 1
                failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            else:
                self.done.append(value)
        return {"batchItemFailures": failures}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        yield {"kinesis": kinesis, "sqs": sqs, "queue": queue}


def make_poller(aws: dict[str, Any], function: Recorder, shards: int = 1) -> KinesisPoller:
    aws["kinesis"].create_stream(StreamName=STREAM, ShardCount=shards)
    return KinesisPoller(
        aws["kinesis"],
        aws["sqs"],
        stream_name=STREAM,
        function=function,
        on_failure_queue_url=aws["queue"],
        source=SOURCE,
    )


def put(aws: dict[str, Any], values: range | list[int], key: str = "s") -> None:
    for n in values:
        aws["kinesis"].put_record(
            StreamName=STREAM,
            PartitionKey=f"{key}{n % 7}" if key == "*" else key,
            Data=json.dumps({"n": n}).encode(),
        )


def failures(aws: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(json.loads(message["Body"]))
            aws["sqs"].delete_message(QueueUrl=aws["queue"], ReceiptHandle=message["ReceiptHandle"])


def test_the_event_has_lambdas_kinesis_shape(aws: dict[str, Any]) -> None:
    function = Recorder()
    poller = make_poller(aws, function)
    put(aws, [1])
    poller.drain()
    record = function.events[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventVersion"] == "1.0"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"].endswith(f":stream/{STREAM}")
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert record["invokeIdentityArn"].startswith("arn:aws:iam::")
    kinesis = record["kinesis"]
    assert kinesis["kinesisSchemaVersion"] == "1.0"
    assert kinesis["partitionKey"] == "s"
    assert isinstance(kinesis["approximateArrivalTimestamp"], float)
    assert json.loads(base64.b64decode(kinesis["data"])) == {"n": 1}


def test_batches_respect_the_batch_size(aws: dict[str, Any]) -> None:
    function = Recorder()
    poller = make_poller(aws, function)
    put(aws, range(25))
    poller.drain()
    assert [len(b) for b in function.batches] == [10, 10, 5]
    assert function.done == list(range(25))


def test_a_partial_failure_resumes_at_the_lowest_failed_sequence(aws: dict[str, Any]) -> None:
    function = Recorder(reject={3, 6}, reject_times=1)
    poller = make_poller(aws, function)
    put(aws, range(10))
    poller.drain()
    # First batch: 0..9, 3 and 6 fail -> resume at 3; 4, 5, 7, 8, 9 run again.
    assert function.batches[0] == list(range(10))
    assert function.batches[1] == list(range(3, 10))
    assert function.done[:8] == [0, 1, 2, 4, 5, 7, 8, 9]
    assert sorted(set(function.done)) == list(range(10))
    assert failures(aws) == []


def test_bisect_isolates_a_poison_record_and_sends_it_to_the_on_failure_queue(
    aws: dict[str, Any],
) -> None:
    function = Recorder(poison={5})
    poller = make_poller(aws, function)
    put(aws, range(10))
    poller.drain()
    assert sorted(set(function.done)) == [n for n in range(10) if n != 5]
    # The poison record ended up alone, tried once plus retry_attempts times.
    alone = [b for b in function.batches if b == [5]]
    assert len(alone) == SOURCE.retry_attempts + 1
    (failure,) = failures(aws)
    info = failure["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["shardId"] == "shardId-000000000000"
    assert info["streamArn"].endswith(f":stream/{STREAM}")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"] == function.arn
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert "ValueError" in failure["reason"]


def test_a_record_always_reported_failed_is_retried_then_given_up(aws: dict[str, Any]) -> None:
    function = Recorder(reject={2})
    poller = make_poller(aws, function)
    put(aws, range(5))
    poller.drain()
    assert function.rejected[2] == SOURCE.retry_attempts + 1
    assert sorted(set(function.done)) == [0, 1, 3, 4]
    (failure,) = failures(aws)
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["reason"] == "reported in batchItemFailures"


def test_without_bisect_a_failing_batch_goes_to_the_queue_whole(aws: dict[str, Any]) -> None:
    function = Recorder(poison={1})
    aws["kinesis"].create_stream(StreamName=STREAM, ShardCount=1)
    poller = KinesisPoller(
        aws["kinesis"],
        aws["sqs"],
        stream_name=STREAM,
        function=function,
        on_failure_queue_url=aws["queue"],
        source=wiring.KinesisSource(batch_size=3, retry_attempts=1, bisect_batch_on_error=False),
    )
    put(aws, range(6))
    poller.drain()
    assert function.batches[:2] == [[0, 1, 2], [0, 1, 2]]
    assert function.done == [3, 4, 5]
    (failure,) = failures(aws)
    assert failure["KinesisBatchInfo"]["batchSize"] == 3


def test_order_is_kept_per_shard(aws: dict[str, Any]) -> None:
    function = Recorder(reject={4, 11}, reject_times=2)
    poller = make_poller(aws, function, shards=3)
    put(aws, range(30), key="*")
    poller.drain()
    by_shard: dict[str, list[int]] = {}
    for event in function.events:
        for record in event["Records"]:
            shard = record["eventID"].split(":")[0]
            n = json.loads(base64.b64decode(record["kinesis"]["data"]))["n"]
            by_shard.setdefault(shard, []).append(n)
    assert len(by_shard) > 1
    for values in by_shard.values():
        # Each shard's first pass over its records is in put order.
        first_seen = list(dict.fromkeys(values))
        assert first_seen == sorted(first_seen)
    assert sorted(set(function.done)) == list(range(30))


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.01)


def test_a_wake_up_reads_now_instead_of_at_the_next_interval(aws: dict[str, Any]) -> None:
    function = Recorder()
    poller = make_poller(aws, function)
    poller.poll_interval = 60.0  # only a wake-up can make it read within the test
    put(aws, [0])
    poller.start()
    try:
        wait_until(lambda: function.done == [0], 20, "the first record")
        time.sleep(0.5)  # the shard is idle now, waiting out its 60 s interval
        put(aws, [1])
        time.sleep(1.0)
        assert function.done == [0], "read without a wake-up: the interval is not in force"
        poller.wake()
        wait_until(lambda: function.done == [0, 1], 20, "the record after a wake-up")
        for n in range(2, 6):
            put(aws, [n])
            poller.wake()
        wait_until(lambda: function.done == list(range(6)), 20, "records after wake-ups")
    finally:
        poller.stop()


def test_wake_ups_keep_order_checkpoints_and_the_retry_back_off(aws: dict[str, Any]) -> None:
    function = Recorder(reject={3, 7}, reject_times=1)
    poller = make_poller(aws, function)
    poller.poll_interval = 60.0
    poller.retry_backoff = 0.5
    storm = threading.Event()

    def wake_storm() -> None:  # a wake-up every millisecond, as a busy producer would cause
        while not storm.is_set():
            poller.wake()
            time.sleep(0.001)

    waker = threading.Thread(target=wake_storm, daemon=True)
    poller.start()
    waker.start()
    try:
        put(aws, range(10))
        wait_until(lambda: set(function.done) == set(range(10)), 30, "every record")
    finally:
        storm.set()
        waker.join()
        poller.stop()
    # Order and checkpoints: every batch is a run of consecutive records in put order,
    # starting at the checkpoint (after the last batch, or at its lowest failed record).
    expected_start, rejected_so_far = 0, dict.fromkeys(function.reject, 0)
    for batch in function.batches:
        assert batch == list(range(batch[0], batch[0] + len(batch)))
        assert batch[0] == expected_start
        failed = [n for n in batch if n in function.reject and rejected_so_far[n] < 1]
        for n in failed:
            rejected_so_far[n] += 1
        expected_start = min(failed) if failed else batch[-1] + 1
    assert expected_start == 10
    assert function.rejected == {3: 1, 7: 1}
    # Back-off: a batch after a failed one waits retry_backoff × attempts, wake-ups or not.
    failed_at = [i for i, batch in enumerate(function.batches) if any(n in (3, 7) for n in batch)]
    for i in failed_at:
        if i + 1 < len(function.times) and function.batches[i + 1][0] in (3, 7):
            assert function.times[i + 1] - function.times[i] >= 0.5 * 0.95
    assert failures(aws) == []
