"""The fault harness's SDK level: faults per HTTP attempt, retried as the deployed
botocore clients retry them (attempts from ``polycast.adapters.aws.clients``), the
backoff recorded and not slept; PutEvents refusals resent by the real publisher."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from polycast.adapters.aws import clients
from polycast.errors import ConnectionGone, Throttled, TransientError
from polycast_kit.reliability.faults import FaultPlan, FaultyBus, FaultyPort, FaultySender
from polycast_kit.reliability.sdk import PORT_SERVICES, Sdk, max_attempts


class Counting:
    """A port that counts the calls that reached it."""

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, text: str) -> str:
        self.calls += 1
        return text

    def post(self, connection_id: str, data: bytes) -> None:
        self.calls += 1

    def close(self, connection_id: str) -> None:
        pass

    def pages(self) -> Iterator[list[int]]:
        for first in range(0, 40, 2):
            self.calls += 1
            yield [first, first + 1]


def storm(kind: str, port: str, rate: float = 1.0, seed: int = 1) -> FaultPlan:
    plan = FaultPlan(kind, rate, ports=frozenset({port}), seed=seed)
    plan.enabled = True
    return plan


@pytest.mark.parametrize("port", sorted(PORT_SERVICES))
def test_attempts_are_the_configured_clients(port: str) -> None:
    service = PORT_SERVICES[port][0]
    retries = clients.client_config(service).retries or {}
    assert max_attempts(service) == retries["total_max_attempts"]
    assert Sdk().for_port(port).max_attempts == retries["total_max_attempts"]


@pytest.mark.parametrize(("port", "kind"), [("translator", "throttling"), ("synthesizer", "5xx")])
def test_a_storm_costs_exactly_the_configured_attempts(port: str, kind: str) -> None:
    inner, sdk = Counting(), Sdk()
    wrapped = FaultyPort(inner, storm(kind, port), port, sdk)
    started = time.monotonic()
    with pytest.raises(TransientError):
        wrapped.translate("hello")
    attempts = max_attempts(PORT_SERVICES[port][0])
    assert sdk.retries == attempts - 1
    assert sdk.backoff_seconds > 0  # recorded ...
    assert time.monotonic() - started < 0.5  # ... not slept (throttling backs off ~1 s)
    assert inner.calls == 0  # every attempt failed before reaching the service


def test_a_fault_the_sdk_retries_is_not_seen_by_the_service() -> None:
    inner, sdk = Counting(), Sdk()
    wrapped = FaultyPort(inner, storm("5xx", "translator", rate=0.5, seed=3), "translator", sdk)
    answered = sum(_ok(wrapped, n) for n in range(50))
    assert sdk.retries > 0
    assert answered > 40  # 0.5 ** 3: one call in eight fails all three attempts


def _ok(wrapped: Any, n: int) -> bool:
    try:
        wrapped.translate(str(n))
    except TransientError:
        return False
    return True


def test_a_lost_answer_makes_the_call_again() -> None:
    inner, sdk = Counting(), Sdk()
    plan = storm("timeout", "translator", rate=0.5, seed=2)
    wrapped = FaultyPort(inner, plan, "translator", sdk)
    for n in range(40):
        _ok(wrapped, n)
    assert inner.calls > 40 - plan.injected["translator"]  # some calls ran twice


def test_a_retried_page_is_the_same_page() -> None:
    inner, sdk = Counting(), Sdk()
    plan = storm("timeout", "connections", rate=0.3, seed=5)
    wrapped = FaultyPort(inner, plan, "connections", sdk)
    pages: list[list[int]] = []
    try:
        pages.extend(wrapped.pages())
    except TransientError:
        pass  # botocore gave up on a page: the caller fails, as deployed
    assert sdk.retries > 0
    assert plan.injected["connections"] > 0
    items = [n for page in pages for n in page]
    assert items == list(range(len(items)))  # no page skipped, none twice


def test_gone_is_never_retried() -> None:
    inner, sdk = Counting(), Sdk()
    sender = FaultySender(inner, storm("gone", "sender"), sdk)
    with pytest.raises(ConnectionGone):
        sender.post("abc=", b"{}")
    assert sdk.retries == 0


def test_throttled_posts_are_retried_by_the_sdk() -> None:
    inner, sdk = Counting(), Sdk()
    sender = FaultySender(inner, storm("throttling", "sender"), sdk)
    with pytest.raises(Throttled):
        sender.post("abc=", b"{}")
    assert sdk.retries == max_attempts("apigatewaymanagementapi") - 1


def test_refused_entries_are_sent_again_by_the_publisher() -> None:
    bus = FaultyBus(storm("5xx", "bus", rate=0.5, seed=4))
    publisher = bus.publisher()
    result = publisher.publish([("SegmentReady", {"sequence": n}) for n in range(20)])
    assert bus.refused > 0  # refused inside a 200 ...
    assert result.published > 20 * 0.5  # ... and most got in on a resend
    assert result.published + len(result.failed) == 20
    accepted = [d["sequence"] for _, d in bus.accepted]
    assert len(accepted) == len(set(accepted)) == result.published  # each entry once
    assert bus.backoff_seconds > 0  # recorded, not slept


def test_a_bus_refusing_everything_is_reported_after_the_publishers_attempts() -> None:
    bus = FaultyBus(storm("throttling", "bus"))
    publisher = bus.publisher()
    result = publisher.publish([("SegmentReady", {"sequence": 1})])
    assert result.published == 0
    assert len(result.failed) == 1
    assert bus.refused == publisher.attempts
