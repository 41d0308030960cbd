"""A fake Sender: records what each connection received, and misbehaves on request.

Hand-written rather than mocked so tests can ask real questions of it: what did
this listener get, in which order, how many posts were in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any

from polycast.errors import ConnectionGone, TransientError


class RecordingSender:
    """Records deliveries per connection.

    - ``gone``: ids answered with 410 (ConnectionGone), as API Gateway does after a disconnect.
    - ``throttle(cid, n)``: the next ``n`` posts to ``cid`` raise TransientError.
    - ``delay``: seconds each post takes, so concurrency can be observed.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.gone: set[str] = set()
        self.delivered: dict[str, list[bytes]] = defaultdict(list)
        self.attempts: dict[str, int] = defaultdict(int)
        self.closed: list[str] = []
        self.max_in_flight = 0
        self._throttles: dict[str, int] = {}
        self._in_flight = 0
        self._lock = threading.Lock()

    def throttle(self, connection_id: str, times: int) -> None:
        with self._lock:
            self._throttles[connection_id] = times

    def post(self, connection_id: str, data: bytes) -> None:
        with self._lock:
            self.attempts[connection_id] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self._lock:
                if connection_id in self.gone:
                    raise ConnectionGone("410 Gone")
                remaining = self._throttles.get(connection_id, 0)
                if remaining > 0:
                    self._throttles[connection_id] = remaining - 1
                    raise TransientError("429 Too Many Requests")
                self.delivered[connection_id].append(bytes(data))
        finally:
            with self._lock:
                self._in_flight -= 1

    def close(self, connection_id: str) -> None:
        with self._lock:
            self.closed.append(connection_id)
            self.gone.add(connection_id)

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        """What ``connection_id`` received, decoded."""
        with self._lock:
            return [json.loads(b) for b in self.delivered.get(connection_id, [])]

    @property
    def total_delivered(self) -> int:
        with self._lock:
            return sum(len(v) for v in self.delivered.values())
