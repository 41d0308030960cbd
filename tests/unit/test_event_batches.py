"""PutEvents batching: at most 10 entries and 256 KB per call, order kept."""

from __future__ import annotations

from typing import Any

from polycast.adapters.aws.events import MAX_BYTES_PER_CALL, batches, entry_size


def _entry(detail_bytes: int) -> dict[str, Any]:
    return {
        "Source": "polycast",
        "DetailType": "SegmentReady",
        "Detail": "x" * detail_bytes,
        "EventBusName": "polycast",
    }


def test_small_entries_go_ten_at_a_time() -> None:
    entries = [(i, _entry(100)) for i in range(23)]
    packed = batches(entries)
    assert [len(b) for b in packed] == [10, 10, 3]
    assert [i for b in packed for i, _ in b] == list(range(23))


def test_large_entries_stay_under_the_request_limit() -> None:
    entries = [(i, _entry(90_000)) for i in range(10)]  # inline audio near 64 KB, base64
    packed = batches(entries)
    assert len(packed) == 5
    for batch in packed:
        assert sum(entry_size(e) for _, e in batch) <= MAX_BYTES_PER_CALL
    assert [i for b in packed for i, _ in b] == list(range(10))


def test_an_entry_is_never_dropped_even_alone_over_the_limit() -> None:
    packed = batches([(0, _entry(300_000)), (1, _entry(10))])
    assert [[i for i, _ in b] for b in packed] == [[0], [1]]
