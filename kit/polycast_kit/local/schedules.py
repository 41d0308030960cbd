"""EventBridge schedules, locally: a timer thread per schedule invoking its function.

Deployed, ``rate(1 minute)`` invokes the function with a Scheduled Event; locally
the runtime calls it every ``local_every_seconds`` with the same event shape, one
call at a time (a slow call delays the next one instead of overlapping it).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from polycast import wiring
from polycast_kit.local.functions import ACCOUNT_ID

log = logging.getLogger("polycast.local.schedules")


def scheduled_event(schedule: wiring.Schedule, region: str) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{schedule.logical_id}"],
        "detail": {},
    }


class ScheduleTimer:
    """Invokes ``invoke`` every ``every_seconds`` until stopped; failures are logged."""

    def __init__(
        self,
        schedule: wiring.Schedule,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        region: str,
        every_seconds: float | None = None,
    ) -> None:
        self.schedule = schedule
        self.invoke = invoke
        self.region = region
        self.every_seconds = every_seconds or schedule.local_every_seconds
        self.runs = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"schedule-{self.schedule.logical_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.invoke(scheduled_event(self.schedule, self.region))
            except Exception as exc:  # a failed run is retried at the next tick
                self.failures += 1
                log.warning("%s failed: %s", self.schedule.logical_id, type(exc).__name__)
            self.runs += 1
