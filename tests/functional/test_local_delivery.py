"""Push-based delivery in the local runtime: moto's accepted ``PutRecord(s)`` wake the
Kinesis poller, and events still go ``PutEvents`` → moto's rules → SQS → drains, so a
rule a user adds on the bus receives every event the broadcaster gets."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from polycast_kit.local.aws import KINESIS_PUTS, EmbeddedAws
from polycast_kit.local.runtime import LocalRuntime

LANGUAGES = ("es", "fr", "ca")


def client(service: Any, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def test_a_subscriber_hears_an_accepted_put_with_the_record_already_readable() -> None:
    aws = EmbeddedAws(port=0)
    aws.start()
    try:
        kinesis = client("kinesis", aws.endpoint_url)
        kinesis.create_stream(StreamName="observed", ShardCount=1)
        shard_iterator = kinesis.get_shard_iterator(
            StreamName="observed", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        readable: list[int] = []

        def on_put() -> None:  # runs on moto's request thread, after moto answered
            reader = client("kinesis", aws.endpoint_url)
            readable.append(len(reader.get_records(ShardIterator=shard_iterator)["Records"]))

        aws.observe(KINESIS_PUTS, on_put)
        kinesis.put_record(StreamName="observed", PartitionKey="k", Data=b"1")
        kinesis.put_records(
            StreamName="observed", Records=[{"PartitionKey": "k", "Data": b"2"}] * 2
        )
        kinesis.describe_stream_summary(StreamName="observed")  # not observed
        with pytest.raises(ClientError):  # refused by moto: no call
            kinesis.put_record(StreamName="missing", PartitionKey="k", Data=b"x")
        assert readable == [1, 3]
    finally:
        aws.stop()


class Pipeline:
    """A processor that publishes one SegmentReady per language, and a broadcaster
    that records what it got (no listeners needed)."""

    def __init__(self) -> None:
        self.broadcast: list[tuple[str, int]] = []
        self.processed_at: dict[int, float] = {}
        self.lock = threading.Lock()

    def processor(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        events = boto3.client("events")
        for record in event["Records"]:
            body = json.loads(base64.b64decode(record["kinesis"]["data"]))
            self.processed_at.setdefault(body["sequence"], time.monotonic())
            events.put_events(
                Entries=[
                    {
                        "Source": "polycast",
                        "DetailType": "SegmentReady",
                        "EventBusName": os.environ["EVENT_BUS_NAME"],
                        "Detail": json.dumps(
                            {"sessionId": body["sessionId"], "language": lang, **body}
                        ),
                    }
                    for lang in LANGUAGES
                ]
            )
        return {"batchItemFailures": []}

    def broadcaster(self, event: dict[str, Any], context: Any) -> None:
        detail = event["detail"]
        with self.lock:
            self.broadcast.append((detail["language"], detail["sequence"]))


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[LocalRuntime, Pipeline]]:
    pipeline = Pipeline()
    runtime = LocalRuntime(
        aws_port=0,
        ws_port=0,
        state_dir=None,
        handlers={
            "ConnectionHandler": lambda event, context: {"statusCode": 200},
            "TranscriptProcessor": pipeline.processor,
            "Broadcaster": pipeline.broadcaster,
            "SessionSweeper": lambda event, context: None,
            "Speaker": lambda event, context: None,
        },
    )
    with runtime:
        yield runtime, pipeline


def test_puts_wake_the_poller_and_a_users_rule_gets_every_event(
    running: tuple[LocalRuntime, Pipeline],
) -> None:
    runtime, pipeline = running
    endpoints = runtime.endpoints
    assert endpoints is not None
    assert runtime.poller is not None
    # Only a wake-up can make the poller read within this test from now on.
    runtime.poller.poll_interval = 600.0
    time.sleep(1.5)  # the wait already under way (the runtime's 1 s fallback) runs out

    sqs = client("sqs", endpoints.aws_endpoint)
    events = client("events", endpoints.aws_endpoint)
    queue_url = sqs.create_queue(QueueName="users-own-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="users-own-rule",
        EventBusName=endpoints.event_bus,
        EventPattern=json.dumps({"source": ["polycast"], "detail-type": ["SegmentReady"]}),
    )
    events.put_targets(
        Rule="users-own-rule",
        EventBusName=endpoints.event_bus,
        Targets=[{"Id": "queue", "Arn": queue_arn}],
    )

    kinesis = client("kinesis", endpoints.aws_endpoint)
    put_at: dict[int, float] = {}
    count = 12
    for n in range(1, count + 1):
        put_at[n] = time.monotonic()
        body = {"sessionId": "wake-test", "sequence": n, "transcriptText": f"t{n}"}
        if n % 2:
            kinesis.put_record(
                StreamName=endpoints.transcript_stream,
                PartitionKey="wake-test",
                Data=json.dumps(body).encode(),
            )
        else:
            kinesis.put_records(
                StreamName=endpoints.transcript_stream,
                Records=[{"PartitionKey": "wake-test", "Data": json.dumps(body).encode()}],
            )
        time.sleep(0.05)
    expected = {(lang, n) for lang in LANGUAGES for n in range(1, count + 1)}
    wait_until(lambda: set(pipeline.broadcast) >= expected, 60, "every event at the broadcaster")
    for lang in LANGUAGES:  # one lane per (session, language): in order
        assert [n for lg, n in pipeline.broadcast if lg == lang] == list(range(1, count + 1))

    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 30
    while len(seen) < len(expected) and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            detail = json.loads(message["Body"])["detail"]
            seen.append((detail["language"], detail["sequence"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(seen) == sorted(expected)  # every event, once
