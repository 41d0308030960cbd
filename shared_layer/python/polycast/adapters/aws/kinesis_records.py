"""The transcript processor's edge: a Lambda Kinesis event → :class:`StreamRecord` s.

Transport work only — the processor never sees base64 or KPL aggregates:

* base64 is decoded here; data that is not base64 becomes an ``undecodable``
  record, which the processor rejects (``INVALID_RECORD``) instead of retrying.
* KPL aggregates (the magic header ``F3 89 9A C2``) are unpacked with
  aws-kinesis-agg, in order. Two traps of that library (docs/architecture.md):
  its deaggregator silently yields nothing — after printing the raw payload to
  stderr — when ``approximateArrivalTimestamp`` is missing, so we fill it in; and a
  sub-record keeps its parent's ``sequenceNumber`` (plus ``subSequenceNumber``),
  which is right: ``batchItemFailures`` must name the parent, the only number
  Lambda knows. An aggregate that still yields nothing is ``undecodable``.
* Records that are not aggregated (most of them) skip the library entirely.

The event is read through Powertools' :class:`KinesisStreamEvent` data class.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from typing import Any

import aws_kinesis_agg
from aws_kinesis_agg.deaggregator import deaggregate_records
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)

from polycast.domain.stream import StreamRecord

KPL_MAGIC: bytes = aws_kinesis_agg.MAGIC


def is_kinesis_event(event: Any) -> bool:
    """A batch from a Kinesis event source mapping (not the seed's direct invoke)."""
    if not isinstance(event, Mapping) or not isinstance(event.get("Records"), list):
        return False
    return all(isinstance(r, Mapping) and "kinesis" in r for r in event["Records"])


def stream_records(event: KinesisStreamEvent | Mapping[str, Any]) -> list[StreamRecord]:
    """Every user record of the batch, in stream order (sub-records in place)."""
    batch = event if isinstance(event, KinesisStreamEvent) else KinesisStreamEvent(dict(event))
    return [user for record in batch.records for user in unpack(record)]


def unpack(record: KinesisStreamRecord) -> list[StreamRecord]:
    """One Kinesis record → its user records (one, or an aggregate's sub-records)."""
    kinesis: Mapping[str, Any] = record.raw_event.get("kinesis") or {}
    sequence = str(kinesis.get("sequenceNumber", ""))
    key = kinesis.get("partitionKey")
    partition_key = key if isinstance(key, str) else None
    try:
        data = base64.b64decode(kinesis.get("data") or b"", validate=True)
    except (binascii.Error, ValueError, TypeError):
        bad = "data is not base64"
        return [StreamRecord(sequence, partition_key=partition_key, undecodable=bad)]
    if not data.startswith(KPL_MAGIC):
        return [StreamRecord(sequence, data, partition_key=partition_key)]
    return _deaggregate(record.raw_event, sequence, partition_key)


def _deaggregate(
    raw: Mapping[str, Any], sequence: str, partition_key: str | None
) -> list[StreamRecord]:
    fixed = {**raw, "kinesis": dict(raw.get("kinesis") or {})}
    meta = fixed["kinesis"]
    meta.setdefault("approximateArrivalTimestamp", time.time())
    meta.setdefault("kinesisSchemaVersion", "1.0")
    try:
        subs = deaggregate_records([fixed])
    except (binascii.Error, ValueError, KeyError, TypeError):
        subs = []
    out: list[StreamRecord] = []
    for sub in subs:
        sub_meta = sub["kinesis"]
        aggregated = bool(sub_meta.get("aggregated"))
        sub_key = sub_meta.get("partitionKey")
        out.append(
            StreamRecord(
                sequence,  # the parent's: what Lambda checkpoints on
                base64.b64decode(sub_meta.get("data") or b""),
                sub_sequence_number=int(sub_meta["subSequenceNumber"]) if aggregated else None,
                partition_key=sub_key if isinstance(sub_key, str) else partition_key,
            )
        )
    if not out:
        undecodable = "aggregated record could not be unpacked"
        return [StreamRecord(sequence, partition_key=partition_key, undecodable=undecodable)]
    return out
