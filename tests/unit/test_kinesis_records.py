"""The processor's edge: Lambda Kinesis events → decoded StreamRecords (base64, KPL)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from aws_lambda_powertools.utilities.data_classes import KinesisStreamEvent

from polycast.adapters.aws.kinesis_records import (
    KPL_MAGIC,
    is_kinesis_event,
    stream_records,
)
from polycast.domain.stream import StreamRecord
from tests.unit.processor_world import kinesis

PARENT = "49590338271490256608559692538361571095921575989136588898"


def lambda_record(
    data: bytes, *, seq: str = PARENT, key: str = "golden-eagle-427"
) -> dict[str, Any]:
    """A record as Lambda's Kinesis event source mapping delivers it."""
    return kinesis(data, key, seq)


def kpl(records: list[tuple[str, bytes]]) -> bytes:
    agg = RecordAggregator()
    for key, data in records:
        assert agg.add_user_record(key, data) is None
    _, _, data = agg.clear_and_get().get_contents()
    return bytes(data)


def test_a_plain_record_is_decoded_and_keeps_its_numbers() -> None:
    body = json.dumps({"sessionId": "golden-eagle-427", "transcriptText": "Hi."}).encode()
    event = {"Records": [lambda_record(body)]}
    assert stream_records(event) == [StreamRecord(PARENT, body, partition_key="golden-eagle-427")]
    # The Powertools data class is accepted as is.
    assert stream_records(KinesisStreamEvent(event)) == stream_records(event)


def test_an_aggregate_without_arrival_time_is_unpacked_in_order_under_its_parent() -> None:
    """Both aws-kinesis-agg traps: no approximateArrivalTimestamp (it would yield
    nothing), and sub-records carry the parent's sequenceNumber."""
    bodies = [json.dumps({"n": n}).encode() for n in range(3)]
    record = lambda_record(kpl([("golden-eagle-427", b) for b in bodies]))
    del record["kinesis"]["approximateArrivalTimestamp"]
    users = stream_records({"Records": [record]})
    assert [u.data for u in users] == bodies
    assert {u.sequence_number for u in users} == {PARENT}
    assert [u.sub_sequence_number for u in users] == [0, 1, 2]
    assert [u.record_id for u in users] == [f"{PARENT}:{n}" for n in range(3)]
    assert all(u.undecodable is None for u in users)


def test_sub_records_keep_their_own_partition_keys() -> None:
    data = kpl([("golden-eagle-427", b"{}"), ("quiet-otter-12", b"{}")])
    users = stream_records({"Records": [lambda_record(data)]})
    assert [u.partition_key for u in users] == ["golden-eagle-427", "quiet-otter-12"]


def test_records_keep_stream_order_across_plain_and_aggregated() -> None:
    first = lambda_record(b'{"a":1}', seq="1")
    middle = lambda_record(kpl([("k", b"x"), ("k", b"y")]), seq="2")
    last = lambda_record(b'{"b":2}', seq="3")
    users = stream_records({"Records": [first, middle, last]})
    assert [(u.sequence_number, u.data) for u in users] == [
        ("1", b'{"a":1}'),
        ("2", b"x"),
        ("2", b"y"),
        ("3", b'{"b":2}'),
    ]


def test_data_that_is_not_base64_is_undecodable_not_an_exception() -> None:
    record = lambda_record(b"")
    record["kinesis"]["data"] = "***not base64***"
    (user,) = stream_records({"Records": [record]})
    assert user.undecodable == "data is not base64"
    assert user.data == b""
    assert user.sequence_number == PARENT


def test_an_aggregate_that_yields_nothing_is_undecodable() -> None:
    """A valid KPL envelope (magic, MD5) around an AggregatedRecord with a partition
    key table and zero records."""
    message = b"\x0a\x01k"  # field 1 (partition_key_table) = "k"
    data = KPL_MAGIC + message + hashlib.md5(message).digest()  # noqa: S324 (KPL's digest)
    (user,) = stream_records({"Records": [lambda_record(data)]})
    assert user.undecodable == "aggregated record could not be unpacked"


def test_a_corrupt_aggregate_passes_through_as_bytes_for_the_processor_to_reject() -> None:
    data = KPL_MAGIC + b"not protobuf at all, and a wrong digest 0123456789"
    (user,) = stream_records({"Records": [lambda_record(data)]})
    assert user.data == data
    assert user.undecodable is None


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"Records": [lambda_record(b"{}")]}, True),
        ({"Records": []}, True),
        ({"sessionId": "golden-eagle-427", "transcriptText": "Hi."}, False),
        ({"Records": [{"eventSource": "aws:sqs"}]}, False),
        ([], False),
    ],
)
def test_kinesis_events_are_told_from_the_direct_invoke(event: Any, expected: bool) -> None:
    assert is_kinesis_event(event) is expected
