"""The local event source mapping against moto's Kinesis: the event shape Lambda
sends, checkpointing at the lowest failed sequence number, bisect on error, the
retry limit and the on-failure queue, and order per shard. Tiny handlers of our own."""

from __future__ import annotations

import base64
import json
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
    arn: str = "arn:aws:lambda:us-east-1:123456789012:function:tiny"

    def invoke(self, event: dict[str, Any]) -> Any:
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
    out = []
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
