"""Fault-injecting wrappers around the ports, written by hand (no mocks).

A :class:`FaultPlan` decides, from one seeded random stream, which calls fail and
how: ``throttling`` (:class:`Throttled`), ``5xx`` and ``timeout``
(:class:`TransientError`; half of the timeouts happen *after* the call took
effect, as a lost response does), and ``gone`` (410 for the Sender: the
listener's connection has closed and stays closed). Each draw is one HTTP attempt:
:class:`FaultyPort` and :class:`FaultySender` make their calls through the function's
:class:`.sdk.Sdk`, which retries a transient fault as the deployed botocore client
would, so a fault is final only when botocore would give up too.
:class:`FaultyBus` is EventBridge: the client under the real ``EventBridgePublisher``
(which sends refused entries again, as deployed), refusing entries the way PutEvents
does (FailedEntryCount), and delivering with duplicates and reordering.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from polycast import wiring
from polycast.adapters.aws.events import EventBridgePublisher
from polycast.errors import ConnectionGone, PolycastError, Throttled, TransientError
from polycast_kit.reliability.sdk import Sdk

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
        """One attempt of ``method`` through the plan: fail before it, or (timeouts)
        after it."""
        if self.kind in ("throttling", "5xx", "timeout") and self.strikes(port):
            if self.kind == "timeout" and self.chance(0.5):
                method(*args, **kwargs)  # it happened; the answer was lost
            raise self.error(port)
        return method(*args, **kwargs)


_END = object()


class FaultyPort:
    """Any port, with the plan's faults on every public method (and on each page of
    an iterator it returns, as a paginated query fails between pages), each call
    retried by the function's SDK client for the port's service."""

    def __init__(self, inner: Any, plan: FaultPlan, port: str, sdk: Sdk) -> None:
        self._inner = inner
        self._plan = plan
        self._port = port
        self._retries = sdk.for_port(port)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name.startswith("_") or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = self._retries.call(
                lambda: self._plan.call(self._port, value, args, kwargs), self._plan.kind
            )
            if isinstance(result, Iterator):
                return self._pages(result)
            return result

        return call

    def _pages(self, pages: Iterator[Any]) -> Iterator[Any]:
        while (page := self._page(pages)) is not _END:
            yield page

    def _page(self, pages: Iterator[Any]) -> Any:
        """The next page; a retried page request asks for the same page (same start key)."""
        fetched: list[Any] = []

        def fetch() -> Any:
            if not fetched:
                fetched.append(next(pages, _END))
            return fetched[0]

        return self._retries.call(
            lambda: self._plan.call(self._port, fetch, (), {}), self._plan.kind
        )


class FaultySender:
    """The Sender with transient faults (retried by the SDK as PostToConnection is),
    or (``gone``) listeners that leave: a struck connection answers 410 from then on,
    as API Gateway does after a disconnect, and botocore never retries a 410."""

    def __init__(self, inner: Any, plan: FaultPlan, sdk: Sdk) -> None:
        self.inner = inner
        self.plan = plan
        self.left: set[str] = set()
        self._retries = sdk.for_port("sender")

    def post(self, connection_id: str, data: bytes) -> None:
        if self.plan.kind == "gone":
            if connection_id in self.left or self.plan.strikes("sender"):
                self.left.add(connection_id)
                raise ConnectionGone("410 Gone")
            self.inner.post(connection_id, data)
            return
        self._retries.call(
            lambda: self.plan.call("sender", self.inner.post, (connection_id, data), {}),
            self.plan.kind,
        )

    def close(self, connection_id: str) -> None:
        self.inner.close(connection_id)


Event = tuple[str, dict[str, Any]]


class FaultyBus:
    """EventBridge in-process. Its ``put_events`` is the client under each function's
    real :class:`EventBridgePublisher` (:meth:`publisher`): under faults it refuses
    entries inside a 200 (``FailedEntryCount``), which the publisher sends again as
    deployed. Deliveries are duplicated by ``redelivery`` (each with probability
    ``rate``) and reordered (every delivery round is shuffled)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.pending: list[Event] = []
        self.accepted: list[Event] = []
        self.duplicated = 0
        self.refused = 0
        self.backoff_seconds = 0.0  # the publishers' backoff between resends, not slept
        self._lock = threading.Lock()

    def publisher(self) -> EventBridgePublisher:
        """The deployed publisher on this bus, its backoff recorded instead of slept."""
        return EventBridgePublisher(cast(Any, self), wiring.BUS_NAME, sleep=self._backoff)

    def _backoff(self, seconds: float) -> None:
        with self._lock:
            self.backoff_seconds += seconds

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        answers: list[dict[str, Any]] = []
        for entry in Entries:
            if self.plan.kind in ("throttling", "5xx", "timeout") and self.plan.strikes("bus"):
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "injected"})
                continue
            self._accept((entry["DetailType"], json.loads(entry["Detail"])))
            answers.append({"EventId": f"event-{len(self.accepted)}"})
        failed = sum(1 for a in answers if "ErrorCode" in a)
        with self._lock:
            self.refused += failed
        return {"FailedEntryCount": failed, "Entries": answers}

    def _accept(self, event: Event) -> None:
        with self._lock:
            self.accepted.append(event)
            self.pending.append(event)
            redelivered = self.plan.kind == "redelivery" and self.plan.enabled
            if redelivered and self.plan.chance(self.plan.rate):
                self.pending.append(copy.deepcopy(event))
                self.duplicated += 1

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
