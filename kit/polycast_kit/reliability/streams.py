"""Kinesis and SQS for the harness: an in-memory single-shard stream and a queue.

They answer the calls the local runtime's :class:`KinesisPoller` makes, so the
harness reads its records with the poller's own batching, checkpoints, retries
and on-failure destination.
"""

from __future__ import annotations

import json
import time
from typing import Any


class MemoryKinesis:
    """The four Kinesis calls the poller makes, on an in-memory single-shard stream."""

    shard_id = "shardId-000000000000"
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/polycast-transcripts"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def put(self, partition_key: str, data: bytes) -> str:
        sequence = f"4959{len(self.records) + 1:052d}"
        self.records.append(
            {
                "SequenceNumber": sequence,
                "PartitionKey": partition_key,
                "Data": data,
                "ApproximateArrivalTimestamp": time.time(),
            }
        )
        return sequence

    def describe_stream_summary(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescriptionSummary": {"StreamARN": self.arn}}

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {"Shards": [{"ShardId": self.shard_id}]}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        batch = self.records[start : start + Limit]
        return {"Records": batch, "NextShardIterator": str(start + len(batch))}


class MemoryQueue:
    """``send_message`` of the on-failure queue."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_message(self, *, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.messages.append(json.loads(MessageBody))
        return {"MessageId": str(len(self.messages))}
