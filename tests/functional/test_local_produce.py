"""``polycast produce``: reading talks, KPL aggregation per session, put_records retries,
and the records as a Lambda sees them after deaggregation (moto's Kinesis)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.deaggregator import deaggregate_records
from botocore.exceptions import ClientError
from moto import mock_aws

from polycast.schemas import validate
from polycast_kit.cli.produce import (
    TranscriptProducer,
    _calls,
    produce_talk,
    session_records,
    talk_records,
)


def lambda_records(entries: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Entries shaped like Lambda's Kinesis records, deaggregated as the processor does."""
    shaped = [
        {
            "kinesis": {
                "partitionKey": pk,
                "data": base64.b64encode(data).decode(),
                "sequenceNumber": str(n),
                "approximateArrivalTimestamp": 1.0,
                "kinesisSchemaVersion": "1.0",
            },
            "eventSource": "aws:kinesis",
        }
        for n, (pk, data) in enumerate(entries)
    ]
    return list(deaggregate_records(shaped))


def test_plain_text_lines_become_numbered_transcripts() -> None:
    timed = list(
        talk_records(
            ["Hello there.", "", "# a comment", "Second line here."],
            session_id="golden-eagle-427",
            language="en",
        )
    )
    records = [t.record for t in timed]
    assert [r["sequence"] for r in records] == [1, 2]
    assert records[0]["transcriptText"] == "Hello there."
    assert timed[1].offset_ms > timed[0].offset_ms
    for record in records:
        validate("records/transcript", record)


def test_jsonl_offsets_pace_and_are_stripped() -> None:
    lines = [
        json.dumps({"sessionId": "other", "transcriptText": "One.", "offsetMs": 500}),
        json.dumps({"transcriptText": "Two.", "offsetMs": 2500, "sequence": 7}),
        json.dumps({"transcriptText": "Three."}),
    ]
    timed = list(talk_records(lines, session_id="s-1"))
    assert [t.offset_ms for t in timed[:2]] == [500, 2500]
    assert timed[2].offset_ms > 2500
    assert [t.record["sequence"] for t in timed] == [1, 7, 8]
    assert all(t.record["sessionId"] == "s-1" for t in timed)
    assert all("offsetMs" not in t.record for t in timed)
    framed = session_records(timed, session_id="s-1", language="en", start=True, end=True)
    assert framed[0].record["type"] == "sessionStarted"
    assert framed[-1].record["type"] == "sessionEnded"
    validate("records/sessionStarted", framed[0].record)
    validate("records/sessionEnded", framed[-1].record)


def test_aggregates_never_mix_sessions_and_keep_order() -> None:
    producer = TranscriptProducer(kinesis=None, stream_name="s")
    records = [
        {
            "type": "transcript",
            "sessionId": f"s-{n % 3}",
            "sequence": n,
            "sourceLanguage": "en",
            "transcriptText": f"sentence {n}",
        }
        for n in range(30)
    ]
    entries = producer.entries(records)
    assert len(entries) == 3  # one aggregate per session
    for pk, data in entries:
        subs = lambda_records([(pk, data)])
        bodies = [json.loads(base64.b64decode(s["kinesis"]["data"])) for s in subs]
        assert {b["sessionId"] for b in bodies} == {pk}
        assert [b["sequence"] for b in bodies] == sorted(b["sequence"] for b in bodies)
    for call in _calls(entries + entries):
        keys = [pk for pk, _ in call]
        assert len(keys) == len(set(keys))


class FlakyKinesis:
    """Throttles the first call, fails one entry of the second, then accepts."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.accepted: list[tuple[str, bytes]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append([r["PartitionKey"] for r in Records])
        if len(self.calls) == 1:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "PutRecords",
            )
        results = []
        for n, record in enumerate(Records):
            if len(self.calls) == 2 and n == 0:
                results.append(
                    {
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": "slow down",
                    }
                )
            else:
                self.accepted.append((record["PartitionKey"], record["Data"]))
                results.append({"SequenceNumber": str(len(self.accepted)), "ShardId": "0"})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedRecordCount": failed, "Records": results}


def test_throughput_errors_and_partial_failures_are_retried() -> None:
    kinesis = FlakyKinesis()
    producer = TranscriptProducer(kinesis, "s", aggregate=False, sleep=lambda s: None)
    producer.send(
        [
            {
                "type": "transcript",
                "sessionId": "a",
                "sequence": 1,
                "sourceLanguage": "en",
                "transcriptText": "x",
            },
            {
                "type": "transcript",
                "sessionId": "b",
                "sequence": 1,
                "sourceLanguage": "en",
                "transcriptText": "y",
            },
        ]
    )
    assert sorted(pk for pk, _ in kinesis.accepted) == ["a", "b"]
    assert producer.stats.retries == 2
    assert kinesis.calls == [["a", "b"], ["a", "b"], ["a"]]


def test_a_non_retryable_error_is_raised() -> None:
    class Broken:
        def put_records(self, **kw: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "PutRecords"
            )

    producer = TranscriptProducer(Broken(), "s", sleep=lambda s: None)
    with pytest.raises(ClientError):
        producer.send([{"sessionId": "a", "transcriptText": "x"}])


@pytest.fixture
def kinesis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("kinesis", region_name="us-east-1")
        client.create_stream(StreamName="talks", ShardCount=1)
        yield client


def test_a_talk_reads_back_in_order_through_kinesis(kinesis: Any) -> None:
    timed = list(
        talk_records([f"Sentence number {n}." for n in range(1, 6)], session_id="golden-eagle-427")
    )
    framed = session_records(
        timed, session_id="golden-eagle-427", language="en", start=True, end=True
    )
    produce_talk(TranscriptProducer(kinesis, "talks"), framed)
    shard = kinesis.list_shards(StreamName="talks")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="talks", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = kinesis.get_records(ShardIterator=iterator)["Records"]
    subs = lambda_records([(r["PartitionKey"], r["Data"]) for r in raw])
    bodies = [json.loads(base64.b64decode(s["kinesis"]["data"])) for s in subs]
    assert [b.get("type") for b in bodies] == ["sessionStarted"] + ["transcript"] * 5 + [
        "sessionEnded"
    ]
    assert [b["sequence"] for b in bodies[1:-1]] == [1, 2, 3, 4, 5]
    assert all("timestamp" in b for b in bodies[1:-1])
