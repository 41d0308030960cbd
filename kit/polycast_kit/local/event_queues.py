"""EventBridge rule targets, locally: SQS queues drained into functions.

moto matches events against the rules' patterns and delivers them to the SQS
queues ``create_resources`` made (it cannot invoke Lambda targets). A drain
long-polls a queue and hands each event to its consumer: success deletes the
message, an exception leaves it for redelivery after a short visibility timeout,
as a failed asynchronous invocation is retried.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from polycast_kit.local.functions import ACCOUNT_ID

log = logging.getLogger("polycast.local.events")

EventConsumer = Callable[[dict[str, Any]], Any]


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

    Events of different (session, language) keys run concurrently; events of one
    key run one after another in receive order; session-wide events (no
    language, e.g. ``SessionEnded``) run after the rest of their receive batch.
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
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.consume = consume
        self.name = name
        self.wait_seconds = wait_seconds
        self.retry_visibility_seconds = retry_visibility_seconds
        self.delivered = 0
        self.failed = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"drain-{name}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"drain-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 10)
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception:
                log.exception("%s: receiving failed", self.name)
                self._stop.wait(1.0)

    def drain_once(self) -> int:
        """Receive one batch (up to 10) and deliver it; returns how many were delivered."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        session_wide: list[dict[str, Any]] = []
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
                groups.setdefault(key, []).append(message)
        counts = list(self._pool.map(self._deliver_in_order, groups.values()))
        delivered = sum(counts) + self._deliver_in_order(session_wide)
        self.delivered += delivered
        return delivered

    def _deliver_in_order(self, messages: list[dict[str, Any]]) -> int:
        for index, message in enumerate(messages):
            try:
                self.consume(message["_event"])
            except Exception as exc:
                self.failed += 1
                log.warning(
                    "%s: %s failed (%s); %d event(s) left for redelivery",
                    self.name,
                    message["_event"].get("detail-type"),
                    type(exc).__name__,
                    len(messages) - index,
                )
                for rest in messages[index:]:
                    self._retry_later(rest)
                return index
            self._delete(message)
        return len(messages)

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
