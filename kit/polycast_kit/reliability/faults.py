"""Fault-injecting wrappers around the ports, written by hand (no mocks).

A :class:`FaultPlan` decides, from one seeded random stream, which calls fail and
how: ``throttling`` (:class:`Throttled`), ``5xx`` and ``timeout``
(:class:`TransientError`; half of the timeouts happen *after* the call took
effect, as a lost response does), and ``gone`` (410 for the Sender: the
listener's connection has closed and stays closed). :class:`FaultyPort` wraps any
port; :class:`FaultyBus` is the EventBridge stand-in, which refuses entries the
way PutEvents does (FailedEntryCount) and can duplicate and reorder deliveries.
"""

from __future__ import annotations

import copy
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from polycast.errors import ConnectionGone, PolycastError, Throttled, TransientError
from polycast.ports import PublishResult

FAULT_KINDS: tuple[str, ...] = ("throttling", "5xx", "timeout", "gone", "redelivery")

# Every port a fault can be injected into ("bus" is the EventPublisher, "listeners"
# the ListenerRegistry).
PORTS: tuple[str, ...] = (
    "translator",
    "synthesizer",
    "translation_cache",
    "audio",
    "sessions",
    "segments",
    "connections",
    "listeners",
    "sender",
    "bus",
)


@dataclass
class FaultPlan:
    """Which calls fail: ``kind`` at ``rate`` on the named ``ports``, seeded."""

    kind: str
    rate: float
    ports: frozenset[str] = frozenset(PORTS)
    seed: int = 6
    enabled: bool = False
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS and self.kind != "none":
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {FAULT_KINDS}")
        self.rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def strikes(self, port: str) -> bool:
        """Draw once: does this call on ``port`` fail?"""
        if not self.enabled or port not in self.ports or self.rate <= 0:
            return False
        with self._lock:
            hit = self.rng.random() < self.rate
            if hit:
                self.injected[port] += 1
        return hit

    def chance(self, rate: float) -> bool:
        with self._lock:
            return self.rng.random() < rate

    def error(self, port: str) -> PolycastError:
        if self.kind == "throttling":
            return Throttled(f"{port}: injected throttling")
        if self.kind == "timeout":
            return TransientError(f"{port}: injected timeout")
        return TransientError(f"{port}: injected 5xx")

    def call(self, port: str, method: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """Run ``method`` through the plan: fail before it, or (timeouts) after it."""
        if self.kind in ("throttling", "5xx", "timeout") and self.strikes(port):
            if self.kind == "timeout" and self.chance(0.5):
                method(*args, **kwargs)  # it happened; the answer was lost
            raise self.error(port)
        return method(*args, **kwargs)


class FaultyPort:
    """Any port, with the plan's faults on every public method (and on each page of
    an iterator it returns, as a paginated query fails between pages)."""

    def __init__(self, inner: Any, plan: FaultPlan, port: str) -> None:
        self._inner = inner
        self._plan = plan
        self._port = port

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name.startswith("_") or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._plan.call(self._port, value, args, kwargs)
            if isinstance(result, Iterator):
                return self._pages(result)
            return result

        return call

    def _pages(self, pages: Iterator[Any]) -> Iterator[Any]:
        while True:
            try:
                page = self._plan.call(self._port, next, (pages,), {})
            except StopIteration:
                return
            yield page


class FaultySender:
    """The Sender with transient faults, or (``gone``) listeners that leave: a struck
    connection answers 410 from then on, as API Gateway does after a disconnect."""

    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self.inner = inner
        self.plan = plan
        self.left: set[str] = set()

    def post(self, connection_id: str, data: bytes) -> None:
        if self.plan.kind == "gone":
            if connection_id in self.left or self.plan.strikes("sender"):
                self.left.add(connection_id)
                raise ConnectionGone("410 Gone")
            self.inner.post(connection_id, data)
            return
        self.plan.call("sender", self.inner.post, (connection_id, data), {})

    def close(self, connection_id: str) -> None:
        self.inner.close(connection_id)


Event = tuple[str, dict[str, Any]]


class FaultyBus:
    """EventBridge in-process: PutEvents that refuses entries under faults, and
    deliveries that ``redelivery`` duplicates (each with probability ``rate``) and
    reorders (every delivery round is shuffled)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.pending: list[Event] = []
        self.accepted: list[Event] = []
        self.duplicated = 0
        self._lock = threading.Lock()

    def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        result = PublishResult()
        for index, (detail_type, detail) in enumerate(events):
            if self.plan.kind in ("throttling", "5xx", "timeout") and self.plan.strikes("bus"):
                result.failed.append(
                    {"index": index, "detailType": detail_type, "errorCode": "InternalFailure"}
                )
                continue
            event = (detail_type, copy.deepcopy(dict(detail)))
            with self._lock:
                self.accepted.append(event)
                self.pending.append(event)
                redelivered = self.plan.kind == "redelivery" and self.plan.enabled
                if redelivered and self.plan.chance(self.plan.rate):
                    self.pending.append(copy.deepcopy(event))
                    self.duplicated += 1
            result.published += 1
        return result

    def take(self) -> list[Event]:
        """The events to deliver now (shuffled under ``redelivery``)."""
        with self._lock:
            out, self.pending = self.pending, []
        if self.plan.kind == "redelivery" and self.plan.enabled:
            with self.plan._lock:
                self.plan.rng.shuffle(out)
        return out

    def redeliver(self, event: Event) -> None:
        """An invocation failed: the event comes again (Lambda's async retry)."""
        with self._lock:
            self.pending.append(event)

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.accepted if t == detail_type]
