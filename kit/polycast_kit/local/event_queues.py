"""EventBridge rule targets, locally: SQS queues drained into functions.

moto matches events against the rules' patterns and delivers them to the SQS
queues ``create_resources`` made (it cannot invoke Lambda targets). A drain
long-polls a queue and hands each event to its consumer: success deletes the
message (ten per ``DeleteMessageBatch``, before the next receive), an exception
leaves it for redelivery after a short visibility timeout, as a failed
asynchronous invocation is retried. Every event goes through
``PutEvents`` and moto's rule matching, so a rule a user adds gets it too.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from polycast_kit.local.functions import ACCOUNT_ID

log = logging.getLogger("polycast.local.events")

EventConsumer = Callable[[dict[str, Any]], Any]
DELETE_BATCH = 10  # SQS DeleteMessageBatch's limit


def _order_key(event: dict[str, Any]) -> tuple[str, str] | None:
    """Events of one (session, language) are delivered in order; None = session-wide.

    The slices of a split audience (``BroadcastSlice``) each get their own key, so
    they run concurrently, as separate broadcaster invocations do when deployed.
    """
    detail = event.get("detail") or {}
    language = detail.get("language")
    if not language:
        return None
    part = detail.get("slice")
    if isinstance(part, dict) and "index" in part:
        return (str(detail.get("sessionId", "")), f"{language}#{part['index']}")
    return (str(detail.get("sessionId", "")), str(language))


class QueueDrain:
    """Long-polls one queue and delivers its events to a consumer.

    Receiving never waits for delivery. Each event joins the lane of its
    (session, language) key: a lane delivers its events one after another in
    receive order, and different lanes run concurrently (``workers``), so one
    language's fan-out never holds up another's. A session-wide event (no
    language, e.g. ``SessionEnded``) is delivered once every lane of its session
    is empty: after the events received before it and the rest of its receive
    batch. moto's long poll answers as soon as a rule delivers to the queue, so
    an event is received the moment ``PutEvents`` has gone through the bus.
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        consume: EventConsumer,
        *,
        name: str,
        wait_seconds: int = 1,
        retry_visibility_seconds: int = 2,
        workers: int = 8,
        max_in_flight: int = 100,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.consume = consume
        self.name = name
        self.wait_seconds = wait_seconds
        self.retry_visibility_seconds = retry_visibility_seconds
        self.max_in_flight = max_in_flight
        self.delivered = 0
        self.failed = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"drain-{name}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Lanes with events queued or being delivered; a key is absent when idle.
        self._lanes: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._in_flight = 0
        self._changed = threading.Condition()
        # Receipts of delivered messages, deleted together (DeleteMessageBatch, up to
        # 10): before each receive, when 10 are waiting, and on stop.
        self._delivered: list[str] = []
        self._delete_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"drain-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop receiving; each lane finishes the event in hand and leaves the rest queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 10)
        # Events not started stay on the queue (SQS redelivers them to the next runtime
        # of a persistent bus; here the bus ends with the runtime).
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.flush_deletes()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._changed:
                    room = self._changed.wait_for(
                        lambda: self._in_flight < self.max_in_flight, timeout=1.0
                    )
                if room:
                    self.receive()
            except Exception:
                log.exception("%s: receiving failed", self.name)
                self._stop.wait(1.0)

    def drain_once(self) -> int:
        """Receive one batch (up to 10) and wait until it is delivered (for tests and
        one-shot use; not concurrently with ``start``); returns how many were delivered."""
        before = self.delivered
        self.receive()
        self.wait_idle()
        self.flush_deletes()
        return self.delivered - before

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every lane is empty; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._lanes, timeout=timeout)

    def receive(self) -> int:
        """Receive one batch (up to 10) and hand its events to their lanes; returns how many."""
        self.flush_deletes()
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
        )
        messages = response.get("Messages", [])
        session_wide: list[dict[str, Any]] = []
        handed = 0
        for message in messages:
            try:
                event = json.loads(message["Body"])
            except ValueError:
                log.warning("%s: dropping a message that is not JSON", self.name)
                self._delete(message)
                continue
            # moto's deliveries lack the account field EventBridge always sets.
            event.setdefault("account", ACCOUNT_ID)
            message["_event"] = event
            key = _order_key(event)
            if key is None:
                session_wide.append(message)
            else:
                self._enqueue(key, message)
                handed += 1
        for message in session_wide:
            if self._stop.is_set():
                break  # left in the queue for redelivery
            self._wait_for_session(
                str((message["_event"].get("detail") or {}).get("sessionId", ""))
            )
            if self._deliver(message):
                with self._changed:
                    self.delivered += 1
            handed += 1
        return handed

    def _wait_for_session(self, session: str) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not any(key[0] == session for key in self._lanes))

    def _enqueue(self, key: tuple[str, str], message: dict[str, Any]) -> None:
        with self._changed:
            self._in_flight += 1
            lane = self._lanes.get(key)
            if lane is not None:
                lane.append(message)
                return
            self._lanes[key] = deque([message])
        self._pool.submit(self._run_lane, key)

    def _run_lane(self, key: tuple[str, str]) -> None:
        """Deliver the lane's events in order until it is empty; on a failure, leave the
        failed event and the rest of the lane for redelivery."""
        while True:
            with self._changed:
                lane = self._lanes[key]
                if not lane or self._stop.is_set():
                    # Stopping: what is still queued stays in the queue (not deleted),
                    # to be received again after its visibility timeout.
                    self._in_flight -= len(lane)
                    del self._lanes[key]
                    self._changed.notify_all()
                    return
                message = lane[0]
            ok = self._deliver(message)
            with self._changed:
                if ok:
                    lane.popleft()
                    self.delivered += 1
                    self._in_flight -= 1
                    rest = []
                else:
                    rest = list(lane)
                    lane.clear()
                    self._in_flight -= len(rest)
                self._changed.notify_all()
            if rest:
                log.warning("%s: %d event(s) left for redelivery", self.name, len(rest))
                for later in rest:
                    self._retry_later(later)

    def _deliver(self, message: dict[str, Any]) -> bool:
        """One event to the consumer; deleted on success, left for redelivery on an exception."""
        try:
            self.consume(message["_event"])
        except Exception as exc:
            with self._changed:
                self.failed += 1
            log.warning(
                "%s: %s failed (%s)",
                self.name,
                message["_event"].get("detail-type"),
                type(exc).__name__,
            )
            if _order_key(message["_event"]) is None:
                self._retry_later(message)
            return False
        with self._delete_lock:
            self._delivered.append(message["ReceiptHandle"])
            full = len(self._delivered) >= DELETE_BATCH
        if full:
            self.flush_deletes()
        return True

    def flush_deletes(self) -> None:
        """Delete the delivered messages not deleted yet, 10 per call."""
        with self._delete_lock:
            receipts, self._delivered = self._delivered, []
        for start in range(0, len(receipts), DELETE_BATCH):
            batch = receipts[start : start + DELETE_BATCH]
            try:
                out = self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(batch)],
                )
                failed = len(out.get("Failed") or [])
            except Exception:
                failed = len(batch)
            if failed:
                # Delivered; a redelivery of them is what at-least-once allows.
                log.warning("%s: could not delete %d delivered message(s)", self.name, failed)

    def _delete(self, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _retry_later(self, message: dict[str, Any]) -> None:
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.retry_visibility_seconds,
            )
        except Exception:
            log.debug("could not shorten the visibility timeout", exc_info=True)


def redact(event: dict[str, Any]) -> dict[str, Any]:
    """The event without transcript text or audio bytes: what may go to a log."""
    detail = dict(event.get("detail") or {})
    for key in ("text", "sourceText", "transcriptText"):
        if key in detail:
            detail[key] = f"<{len(str(detail[key]))} chars>"
    audio = detail.get("audio")
    if isinstance(audio, dict) and "data" in audio:
        detail["audio"] = {k: v for k, v in audio.items() if k != "data"} | {
            "data": f"<{len(str(audio['data']))} base64 chars>"
        }
    return {**event, "detail": detail}


class EventLog:
    """The analytics rule's target, locally: one redacted JSON line per event."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        line = json.dumps(redact(event), separators=(",", ":"))
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
