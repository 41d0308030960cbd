"""The local EventBridge target drain against moto's SQS: one lane per (session,
language) in receive order, lanes concurrent, receiving never held up by a slow
delivery, session-wide events after their session's lanes, and a failure leaving
the failed event and the rest of its lane for redelivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast import wiring
from polycast_kit.local.event_queues import QueueDrain
from polycast_kit.local.resources import create_resources, local_settings


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        yield sqs, sqs.create_queue(QueueName="targets")["QueueUrl"]


def send(queue: tuple[Any, str], session: str, sequence: int, language: str | None = "es") -> None:
    sqs, url = queue
    detail: dict[str, Any] = {"sessionId": session, "sequence": sequence}
    if language:
        detail["language"] = language
    kind = "SegmentReady" if language else "SessionEnded"
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"source": "polycast", "detail-type": kind, "detail": detail}),
    )


class Consumer:
    """Records deliveries; blocks on the events named in ``hold`` until released."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, int]] = []
        self.hold: dict[tuple[str, int], threading.Event] = {}
        self.fail_once: set[tuple[str, int]] = set()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        detail = event["detail"]
        key = (str(detail.get("language", "*")), int(detail["sequence"]))
        gate = self.hold.get(key)
        if gate is not None:
            assert gate.wait(20), "never released"
        if key in self.fail_once:
            self.fail_once.discard(key)
            raise RuntimeError("transient")
        with self.lock:
            self.delivered.append((detail["sessionId"], *key))

    def of(self, language: str) -> list[int]:
        with self.lock:
            return [seq for _, lang, seq in self.delivered if lang == language]


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.01)


def test_a_slow_language_holds_up_neither_other_languages_nor_receiving(
    queue: tuple[Any, str],
) -> None:
    consumer = Consumer()
    consumer.hold[("es", 1)] = release = threading.Event()
    drain = QueueDrain(queue[0], queue[1], consumer, name="test")
    drain.start()
    try:
        send(queue, "s", 1, "es")
        send(queue, "s", 2, "es")
        send(queue, "s", 1, "fr")
        wait_until(lambda: consumer.of("fr") == [1], 20, "fr while es is held")
        send(queue, "s", 2, "fr")  # received and delivered in a later receive
        wait_until(lambda: consumer.of("fr") == [1, 2], 20, "fr from a later receive")
        assert consumer.of("es") == []
        release.set()
        wait_until(lambda: consumer.of("es") == [1, 2], 20, "es in order once released")
    finally:
        release.set()
        drain.stop()
    assert drain.delivered == 4
    assert drain.failed == 0


def test_a_session_wide_event_waits_for_its_sessions_lanes(queue: tuple[Any, str]) -> None:
    consumer = Consumer()
    consumer.hold[("es", 1)] = release = threading.Event()
    drain = QueueDrain(queue[0], queue[1], consumer, name="test")
    send(queue, "s", 1, "es")
    send(queue, "s", 9, None)  # SessionEnded of the same session, in the same receive
    send(queue, "s", 2, "fr")  # after it in the batch, still delivered before it
    drain.start()
    try:
        wait_until(lambda: consumer.of("fr") == [2], 20, "fr")
        time.sleep(0.3)
        assert consumer.of("*") == []
        release.set()
        wait_until(lambda: consumer.of("*") == [9], 20, "the session-wide event")
    finally:
        release.set()
        drain.stop()
    assert [lang for _, lang, _ in consumer.delivered][-1] == "*"


def test_a_failure_leaves_the_rest_of_its_lane_for_redelivery_in_order(
    queue: tuple[Any, str],
) -> None:
    consumer = Consumer()
    consumer.fail_once.add(("es", 2))
    for n in (1, 2, 3):
        send(queue, "s", n, "es")
    send(queue, "s", 1, "fr")
    drain = QueueDrain(queue[0], queue[1], consumer, name="test", retry_visibility_seconds=1)
    assert drain.drain_once() == 2  # es 1 and fr 1; es 2 failed, es 3 waits behind it
    assert consumer.of("es") == [1]
    assert drain.failed == 1
    time.sleep(1.2)  # the visibility timeout of the retried messages
    assert drain.drain_once() == 2
    assert consumer.of("es") == [1, 2, 3]
    assert consumer.of("fr") == [1]
    drain.stop()
    sqs, url = queue
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_stopping_finishes_the_event_in_hand_and_leaves_the_rest_queued(
    queue: tuple[Any, str],
) -> None:
    consumer = Consumer()
    consumer.hold[("es", 1)] = release = threading.Event()
    sqs, url = queue
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    for n in range(1, 6):
        send(queue, "s", n, "es")
    drain = QueueDrain(queue[0], queue[1], consumer, name="test")
    drain.start()
    wait_until(lambda: drain.wait_idle(timeout=0) is False, 20, "es 1 in hand")
    time.sleep(0.3)
    stopper = threading.Thread(target=drain.stop)
    stopper.start()
    time.sleep(0.3)
    release.set()
    stopper.join(20)
    assert not stopper.is_alive()
    assert consumer.of("es") == [1]
    left: list[int] = []  # the four others were never deleted
    deadline = time.monotonic() + 20
    while len(left) < 4 and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
        ).get("Messages", []):
            detail = json.loads(message["Body"])["detail"]
            if detail["sequence"] not in left:
                left.append(detail["sequence"])
    assert sorted(left) == [2, 3, 4, 5]


class CountingSqs:
    """The real (moto) SQS client, counting the calls made through it."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.sqs, name)

        def call(**kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(**kwargs)

        return call


def test_delivered_messages_are_deleted_ten_per_call_and_none_come_again(
    queue: tuple[Any, str],
) -> None:
    consumer = Consumer()
    sqs, url = queue
    for n in range(1, 26):
        send(queue, "s", n, ("es", "fr", "ca")[n % 3])
    counting = CountingSqs(sqs)
    drain = QueueDrain(counting, url, consumer, name="test")
    drain.start()
    wait_until(lambda: drain.delivered == 25, 20, "all 25 delivered")
    drain.stop()
    assert sorted(consumer.of("es") + consumer.of("fr") + consumer.of("ca")) == list(range(1, 26))
    assert counting.calls.get("delete_message", 0) == 0
    assert 3 <= counting.calls["delete_message_batch"] <= 25 // 3 + 3
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0
    )
    assert again.get("Messages", []) == []  # every delivered message was deleted


def test_the_runtimes_queues_hide_an_event_in_hand_for_six_function_timeouts(
    queue: tuple[Any, str],
) -> None:
    """SQS's 30 s default would hand an event that waits in its lane and runs longer
    (a 500-listener fan-out on a loaded machine) out again while it is in hand."""
    sqs, _ = queue
    made = create_resources(local_settings())
    seconds = {
        logical_id: int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
                "Attributes"
            ]["VisibilityTimeout"]
        )
        for logical_id, url in made.queue_urls.items()
    }
    assert seconds[wiring.BROADCAST_QUEUE.logical_id] == 6 * wiring.BROADCASTER.timeout_seconds
    assert seconds[wiring.SPEAKER_QUEUE.logical_id] == 6 * wiring.SPEAKER.timeout_seconds
    assert min(seconds.values()) >= 6 * 10
