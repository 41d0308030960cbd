"""EventPublisher: what MemoryEventPublisher records is what EventBridge (moto) delivers.

On the AWS side the events go through the real bus and its rules (moto's pattern
matching) to SQS: a rule on the whole ``polycast`` source, and the wiring's own
broadcaster rule with its queue. On the memory side the fake's record is filtered
by the same rule's detail types. Both must hold the same (detail-type, detail) pairs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from polycast import wiring
from polycast.adapters.aws.events import EventBridgePublisher
from polycast.ports import EventPublisher
from polycast_kit.cli.events import EventTap
from polycast_kit.testing.events import MemoryEventPublisher

from .conftest import Aws

Event = tuple[str, dict[str, Any]]


@dataclass
class Bus:
    publisher: EventPublisher
    # Everything with source "polycast", and what the broadcaster rule lets through.
    everything: Callable[[], list[Event]]
    broadcaster: Callable[[], list[Event]]


def _drain(sqs: Any, url: str) -> list[Event]:
    out: list[Event] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return out
        for message in messages:
            event = json.loads(message["Body"])
            assert event["source"] == wiring.SOURCE
            out.append((event["detail-type"], event["detail"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def bus(backend: str, request: pytest.FixtureRequest) -> Iterator[Bus]:
    if backend == "memory":
        fake = MemoryEventPublisher()
        kinds = set(wiring.BROADCAST_RULE.detail_types)
        yield Bus(
            fake,
            lambda: list(fake.events),
            lambda: [(t, d) for t, d in fake.events if t in kinds],
        )
        return
    aws: Aws = request.getfixturevalue("aws")
    events, sqs = aws.client("events"), aws.client("sqs")
    broadcast_queue = aws.resources.queue_urls[wiring.BROADCAST_QUEUE.logical_id]
    with EventTap(events, sqs, bus_name=aws.settings.event_bus_name) as tap:
        assert tap.queue_url is not None
        tap_url = tap.queue_url
        yield Bus(
            EventBridgePublisher(events, aws.settings.event_bus_name, backoff_seconds=0),
            lambda: _drain(sqs, tap_url),
            lambda: _drain(sqs, broadcast_queue),
        )


def ordered(events: list[Event]) -> list[Event]:
    """SQS does not promise order: compare as sorted lists."""
    return sorted(events, key=lambda e: json.dumps(e, sort_keys=True))


def detail(sequence: int, **extra: Any) -> dict[str, Any]:
    return {"sessionId": "golden-eagle-427", "sequence": sequence, "language": "es", **extra}


def test_what_is_published_is_what_a_rule_receives(bus: Bus) -> None:
    sent: list[Event] = [
        ("SegmentReady", detail(1, text="Hola", audio=None, timings={"translateMs": 1.5})),
        ("BroadcastCompleted", detail(1, delivered=3, gone=0, failed=0, durationMs=12.0)),
        ("SessionEnded", {"sessionId": "golden-eagle-427", "reason": "ended by speaker"}),
        ("ListenerJoined", {"sessionId": "golden-eagle-427", "language": "fr", "count": 2}),
    ]
    result = bus.publisher.publish(sent)
    assert (result.published, result.failed) == (4, [])

    assert ordered(bus.everything()) == ordered(sent)
    assert ordered(bus.broadcaster()) == ordered([sent[0], sent[2]])


def test_more_than_one_put_events_call_of_entries_all_arrive(bus: Bus) -> None:
    sent: list[Event] = [("SegmentReady", detail(n, text=f"frase {n}")) for n in range(1, 24)]
    result = bus.publisher.publish(sent)  # 23 entries: three PutEvents calls of <= 10
    assert (result.published, result.failed) == (23, [])
    assert ordered(bus.broadcaster()) == ordered(sent)


def test_nothing_published_nothing_received(bus: Bus) -> None:
    result = bus.publisher.publish([])
    assert (result.published, result.failed) == (0, [])
    assert bus.everything() == []
