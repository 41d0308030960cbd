"""RecordWriter on Kinesis: one session's records, one partition key, never mixed.

One record is one ``PutRecord`` (plain JSON, readable by any consumer); several
pending records of the session go as ONE KPL aggregate (aws-kinesis-agg), which the
processor's edge unpacks (:mod:`.kinesis_records`). Retries are botocore's (see
:mod:`.clients`); what still fails is a TransientError the speaker sees as an error
with the sentence's sequence, and resends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_kinesis_agg.aggregator import RecordAggregator
from botocore.exceptions import BotoCoreError, ClientError

from polycast.errors import PolycastError, TransientError

MAX_AGGREGATE_BYTES = 1024 * 1024 - 4096  # a Kinesis record is at most 1 MiB
_TRANSIENT = frozenset(
    {"ProvisionedThroughputExceededException", "KMSThrottlingException", "InternalFailure"}
)


def encode(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def aggregate(partition_key: str, records: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """The KPL aggregates of ``records``, in order (more than one only past 1 MiB)."""
    aggregator = RecordAggregator(max_size=MAX_AGGREGATE_BYTES)
    out: list[bytes] = []
    for record in records:
        full = aggregator.add_user_record(partition_key, encode(record))
        if full is not None:
            out.append(full.get_contents()[2])
    last = aggregator.clear_and_get()
    if last is not None and last.get_num_user_records() > 0:
        out.append(last.get_contents()[2])
    return out


class KinesisRecordWriter:
    def __init__(self, client: Any, stream_name: str) -> None:
        self._kinesis = client
        self._stream = stream_name

    def put(self, partition_key: str, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return
        blobs = [encode(records[0])] if len(records) == 1 else aggregate(partition_key, records)
        for data in blobs:  # in order: each waits for the one before
            try:
                self._kinesis.put_record(
                    StreamName=self._stream, PartitionKey=partition_key, Data=data
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                if code in _TRANSIENT or status >= 500:
                    raise TransientError(f"Kinesis PutRecord: {code or status}") from exc
                raise PolycastError(f"Kinesis PutRecord: {code or status}") from exc
            except BotoCoreError as exc:
                raise TransientError(f"Kinesis PutRecord: {type(exc).__name__}") from exc
