"""In-memory EventPublisher: records what was published, can refuse entries."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from polycast.ports import PublishResult

MAX_ENTRIES_PER_CALL = 10


class MemoryEventPublisher:
    """``events`` holds accepted (detail-type, detail) pairs in publish order.

    ``fail_when(detail_type, detail) -> bool`` refuses matching entries (as
    PutEvents reports FailedEntryCount); ``calls`` counts PutEvents-sized batches.
    """

    def __init__(self, fail_when: Callable[[str, Mapping[str, Any]], bool] | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.fail_when = fail_when
        self.calls = 0
        self._lock = threading.Lock()

    def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        result = PublishResult()
        entries = list(events)
        with self._lock:
            self.calls += (len(entries) + MAX_ENTRIES_PER_CALL - 1) // MAX_ENTRIES_PER_CALL
            for index, (detail_type, detail) in enumerate(entries):
                if self.fail_when is not None and self.fail_when(detail_type, detail):
                    result.failed.append(
                        {
                            "index": index,
                            "detailType": detail_type,
                            "errorCode": "InternalFailure",
                            "errorMessage": "refused by the fake",
                        }
                    )
                    continue
                self.events.append((detail_type, dict(detail)))
                result.published += 1
        return result

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [d for t, d in self.events if t == detail_type]
