"""EventPublisher on EventBridge (PutEvents: at most 10 entries and 256 KB per call).

Retries, once per failure kind (docs/architecture.md, "Retries"): a refused call
(throttling, 5xx, timeouts) is retried by botocore only (``clients.py``) and then
reported failed, never called again here. A call can also succeed and still refuse
some entries (``FailedEntryCount``), which botocore cannot see: those entries, and
only those, are sent again here, ``attempts`` calls in all with a short backoff.
Whatever is still refused is returned in ``PublishResult.failed`` (``index`` into
the input, ``errorCode``) so the caller decides — the processor fails the record
and Kinesis retries it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast import wiring
from polycast.ports import PublishResult

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

MAX_ENTRIES_PER_CALL = 10
# PutEvents refuses a request whose entries add up to more than 256 KB; SegmentReady
# entries carry inline audio of up to INLINE_AUDIO_MAX_BYTES, so count bytes too.
MAX_BYTES_PER_CALL = 256 * 1024


def entry_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge counts it (plus the bus name, to be safe)."""
    size = 14  # the Time field, counted whether or not it is set
    for key in ("Source", "DetailType", "Detail", "EventBusName"):
        size += len(str(entry.get(key, "")).encode("utf-8"))
    return size + sum(len(r.encode("utf-8")) for r in entry.get("Resources", ()))


def batches(
    entries: list[tuple[int, dict[str, Any]]],
    *,
    max_entries: int = MAX_ENTRIES_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> list[list[tuple[int, dict[str, Any]]]]:
    """Pack entries, in order, into PutEvents calls within both limits."""
    out: list[list[tuple[int, dict[str, Any]]]] = []
    current: list[tuple[int, dict[str, Any]]] = []
    used = 0
    for item in entries:
        size = entry_size(item[1])
        if current and (len(current) >= max_entries or used + size > max_bytes):
            out.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        out.append(current)
    return out


class EventBridgePublisher:
    def __init__(
        self,
        client: EventBridgeClient,
        bus_name: str,
        *,
        source: str = wiring.SOURCE,
        attempts: int = 3,
        backoff_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.bus_name = bus_name
        self.source = source
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep

    def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        entries = [
            (
                index,
                {
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                },
            )
            for index, (detail_type, detail) in enumerate(events)
        ]
        result = PublishResult()
        for batch in batches(entries):
            self._put(batch, result)
        return result

    def _put(self, pending: list[tuple[int, dict[str, Any]]], result: PublishResult) -> None:
        errors: dict[int, tuple[str, str]] = {}
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                out = self._client.put_events(Entries=[entry for _, entry in pending])  # type: ignore[misc]
            except (ClientError, BotoCoreError) as exc:
                # botocore has retried the call already: report, do not call again.
                code = (
                    exc.response.get("Error", {}).get("Code", "ClientError")
                    if isinstance(exc, ClientError)
                    else type(exc).__name__
                )
                errors = {index: (code, "PutEvents call failed") for index, _ in pending}
                break
            refused: list[tuple[int, dict[str, Any]]] = []
            for (index, entry), answer in zip(pending, out.get("Entries", []), strict=False):
                if answer.get("ErrorCode"):
                    errors[index] = (answer["ErrorCode"], answer.get("ErrorMessage", ""))
                    refused.append((index, entry))
                else:
                    errors.pop(index, None)
                    result.published += 1
            pending = refused
            if not pending:
                return
        for index, entry in pending:
            code, message = errors.get(index, ("Unknown", ""))
            result.failed.append(
                {
                    "index": index,
                    "detailType": entry["DetailType"],
                    "errorCode": code,
                    "errorMessage": message,
                }
            )
