"""Rate governor: keep Translate and Polly calls within the account's rate.

One token bucket per service (per Polly engine: neural ≈ 8 TPS, standard ≈ 80),
implemented as GCRA (a virtual schedule of slots), which makes it first come,
first served: a caller reserves the next free slot and sleeps until it. The
orchestrator starts a transcript's languages most-listened first, so under
pressure those take the earliest slots and the least-listened languages are the
ones that degrade. A caller whose slot would be further away than ``max_wait``
gets ``False`` at once and reserves nothing: it degrades instead of queueing.

The bucket is per container; the account's rate is shared by every processor
container, so configure ``rate / concurrency`` (concurrency = shards × the event
source's parallelization factor).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class RateGovernor:
    """``rate`` requests per second with bursts of ``burst``; ``rate <= 0`` is unlimited."""

    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst if burst is not None else max(1, round(rate)))
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._tolerance = (self.burst - 1) * self._interval
        self._next = 0.0  # GCRA's theoretical arrival time of the next request
        self._lock = threading.Lock()
        self.granted = 0
        self.refused = 0

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def acquire(self, max_wait: float = 0.0) -> bool:
        """Take a slot, sleeping up to ``max_wait`` seconds for it; False when too far."""
        if self.unlimited:
            return True
        with self._lock:
            now = self._clock()
            scheduled = max(self._next, now)
            wait = scheduled - self._tolerance - now
            if wait > max_wait:
                self.refused += 1
                return False
            self._next = scheduled + self._interval
            self.granted += 1
        if wait > 0:
            self._sleep(wait)
        return True


UNLIMITED = RateGovernor(0)


class ServiceLimits:
    """The governors of one container, by service: ``translate`` and each synthesis
    engine (``neural``, ``standard``); anything not named is unlimited."""

    def __init__(
        self, governors: Mapping[str, RateGovernor] | None = None, *, max_wait: float = 0.5
    ) -> None:
        self.governors = dict(governors or {})
        self.max_wait = max_wait

    def for_service(self, name: str) -> RateGovernor:
        return self.governors.get(name, UNLIMITED)

    def acquire(self, name: str, max_wait: float | None = None) -> bool:
        return self.for_service(name).acquire(self.max_wait if max_wait is None else max_wait)

    @classmethod
    def unlimited(cls) -> ServiceLimits:
        return cls()
