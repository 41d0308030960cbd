"""Broadcaster invocations in their own processes, as Lambda runs them.

Each ``SegmentReady`` starts its own Lambda invocation with its own CPU and
interpreter. Threads in one process would share one GIL and measure Python, not
the design, so a scenario runs each invocation in a worker process holding a
real :class:`Broadcaster` over an in-memory audience and a slow fake Sender.
Times are ``time.perf_counter()`` (CLOCK_MONOTONIC on Linux: one clock for all
processes).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from polycast import composition
from polycast.config import Settings
from polycast.domain.models import Connection
from polycast.services.broadcaster import Broadcaster
from polycast_kit.bench.latency import POST_MS, Latency, SlowSender
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sessions import MemorySessionStore


@dataclass(frozen=True)
class Audience:
    """Who listens: ``counts`` per language of one session; ids are ``<lang>-<n>=``."""

    session_id: str
    counts: Mapping[str, int]
    concurrency: int = 100
    latency_scale: float = 1.0
    post_ms: float = POST_MS
    slice_size: int = 2000  # AUDIENCE_SLICE_SIZE; 0: never split

    def connections(self) -> list[Connection]:
        return [
            Connection(connection_id(lang, i), self.session_id, lang)
            for lang, n in self.counts.items()
            for i in range(n)
        ]


def connection_id(language: str, index: int) -> str:
    return f"{language}-{index:06d}="


_state: dict[str, Any] = {}


def _start_worker(audience: Audience) -> None:
    store = MemoryConnectionStore(page_size=1000)
    for connection in audience.connections():
        store.put(connection)
    sessions = MemorySessionStore()
    sessions.set_listeners(audience.session_id, dict(audience.counts))
    sender = SlowSender(
        Latency(scale=audience.latency_scale, seed=os.getpid()),
        audience.post_ms,
        keep_payloads=False,
    )
    publisher = MemoryEventPublisher()
    _state["sender"] = sender
    _state["publisher"] = publisher
    _state["broadcaster"] = composition.build_broadcaster(
        Settings(
            max_concurrent_broadcasts=audience.concurrency,
            audience_slice_size=audience.slice_size,
        ),
        composition.ListenerPorts(
            sessions=sessions,
            connections=store,
            listeners=MemoryListenerRegistry(store, sessions),
            segments=MemorySegmentLog(),
            sender=sender,
            publisher=publisher,
        ),
    )


def _invoke(detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    sender: SlowSender = _state["sender"]
    broadcaster: Broadcaster = _state["broadcaster"]
    publisher: MemoryEventPublisher = _state["publisher"]
    with sender._lock:
        sender.drawn.clear()
        sender.finished.clear()
    published = len(publisher.events)
    result = broadcaster.handle(detail_type, detail)
    slices = [d for t, d in publisher.events[published:] if t == "BroadcastSlice"]
    drawn = [d for ds in sender.drawn.values() for d in ds]
    return {
        "delivered": result.delivered,
        "failed": result.failed,
        "finished": sorted(sender.finished.values()),
        "postMs": statistics.fmean(drawn) if drawn else 0.0,
        "posts": len(drawn),
        "slices": slices,  # BroadcastSlice details this invocation handed on
    }


def _ready() -> int:
    time.sleep(0.3)  # hold this worker so the next submit starts another
    return os.getpid()


class BroadcasterProcesses:
    """A pool of warm "containers", each able to run one broadcaster invocation at a time."""

    def __init__(self, audience: Audience, *, workers: int) -> None:
        context = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(audience,),
        )
        # Start and initialize every worker now: a cold start is not what we measure.
        pids = {f.result() for f in [self._pool.submit(_ready) for _ in range(workers)]}
        self.workers = len(pids)

    def invoke(self, detail_type: str, detail: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._pool.submit(_invoke, detail_type, dict(detail)).result()
        return result

    def broadcast(self, detail_type: str, detail: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One event and every ``BroadcastSlice`` it hands on (each its own invocation,
        in parallel, as EventBridge would start them, with no bus delay)."""
        first = self.invoke(detail_type, detail)
        if not first["slices"]:
            return [first]
        with ThreadPoolExecutor(max_workers=len(first["slices"])) as threads:
            rest = list(threads.map(lambda d: self.invoke("BroadcastSlice", d), first["slices"]))
        return [first, *rest]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BroadcasterProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
