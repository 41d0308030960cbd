"""``polycast events tail``: readable rows (pause reason, plurals) and no taps left
behind: a tail removes taps whose tail stopped refreshing them, never a live one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast.domain import events as domain_events
from polycast_kit.cli.demo import _delivery_line
from polycast_kit.cli.events import TAP_PREFIX, EventTap, summarize, sweep_stale_taps


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        events.create_event_bus(Name="polycast")
        yield events, boto3.client("sqs", region_name="us-east-1")


def taps(events: Any) -> list[str]:
    rules = events.list_rules(NamePrefix=TAP_PREFIX, EventBusName="polycast")["Rules"]
    return sorted(rule["Name"] for rule in rules)


def test_stale_taps_are_swept_and_live_ones_kept(aws: tuple[Any, Any]) -> None:
    events, sqs = aws
    killed = EventTap(events, sqs, name=f"{TAP_PREFIX}killed").open()
    live = EventTap(events, sqs, name=f"{TAP_PREFIX}live").open()
    # A tail killed with SIGKILL: its rule is left, its queue last seen long ago.
    sqs.tag_queue(QueueUrl=killed.queue_url, Tags={"lastSeen": str(int(time.time()) - 3600)})
    events.put_rule(Name=f"{TAP_PREFIX}orphan", EventBusName="polycast", EventPattern="{}")

    swept = sweep_stale_taps(events, sqs)

    assert sorted(swept) == [f"{TAP_PREFIX}killed", f"{TAP_PREFIX}orphan"]
    assert taps(events) == [f"{TAP_PREFIX}live"]
    queues = sqs.list_queues(QueueNamePrefix=TAP_PREFIX).get("QueueUrls", [])
    assert [url.rsplit("/", 1)[1] for url in queues] == [f"{TAP_PREFIX}live"]
    live.close()
    assert taps(events) == []


def test_rows_say_why_a_session_paused_and_count_listeners_in_english() -> None:
    paused = {
        "detail-type": "SessionPaused",
        "time": "2026-11-29T14:00:00Z",
        "detail": domain_events.session_paused("golden-eagle-427", "coffee break"),
    }
    assert summarize(paused).endswith("coffee break")
    bare = {**paused, "detail": domain_events.session_paused("golden-eagle-427", None)}
    assert summarize(bare).endswith("paused by the speaker")
    joined = {
        "detail-type": "ListenerJoined",
        "detail": {"sessionId": "a-b-1", "language": "es", "listenerCount": 1, "languageCount": 1},
    }
    assert "1 listener," in summarize(joined)
    joined["detail"]["listenerCount"] = 2
    assert "2 listeners," in summarize(joined)
    assert "1 listener in" in _delivery_line({"sequence": 1, "language": "es", "delivered": 1})
    assert "3 listeners in" in _delivery_line({"sequence": 1, "language": "es", "delivered": 3})


def test_a_tap_hands_each_event_over_once_and_leaves_none_in_its_queue(
    aws: tuple[Any, Any],
) -> None:
    """Events come back in one receive and are deleted with it (one batch call): none
    stays in flight to come again after the visibility timeout."""
    import json

    events, sqs = aws
    tap = EventTap(events, sqs, name=f"{TAP_PREFIX}once").open()
    try:
        events.put_events(
            Entries=[
                {
                    "Source": "polycast",
                    "DetailType": "ListenerJoined",
                    "Detail": json.dumps({"sessionId": "dusky-wren-603", "n": n}),
                    "EventBusName": "polycast",
                }
                for n in range(7)
            ]
        )
        got = tap.receive(wait_seconds=1)
        assert sorted(e["detail"]["n"] for e in got) == list(range(7))
        attributes = sqs.get_queue_attributes(QueueUrl=tap.queue_url, AttributeNames=["All"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
        assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    finally:
        tap.close()
