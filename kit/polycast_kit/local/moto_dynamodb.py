"""Two changes to moto's DynamoDB, for the embedded runtime.

Atomic writes. moto's ``transact_write_items`` checks each condition and applies
each item with no lock, and on a cancellation restores deep copies of whole tables
taken at its start: under concurrent requests two transactions can both pass a cap
condition, and a cancelled one wipes out writes other threads made meanwhile
(counts and connection items alike). Real DynamoDB is atomic per transaction and
per item. One re-entrant lock around moto's write methods restores that; reads stay
free.

Plain JSON answers. moto builds each DynamoDB answer as plain dicts already in the
wire format (``DynamoResult``: ``{"S": "..."}`` values, numbers as strings) and then
walks them member by member against botocore's output shape, trying several
spellings of every key. For a Query of 17 listener items that walk is ~10 ms of
CPU, about half of all the time moto spends on DynamoDB in a talk (docs/local.md,
"Where the time goes"). Where the answer is plain JSON (no bytes, no datetimes,
no exception) ``json.dumps`` writes the same document; everything else — errors,
binary attributes, table descriptions with timestamps — still takes moto's own
serializer. ``tests/unit/test_moto_patches.py`` checks both give the same answer.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("transact_write_items", "put_item", "update_item", "delete_item", "batch_write_item")
_lock = threading.RLock()
_MARK = "_polycast_serialized"
CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's JSON protocol version


def serialize_dynamodb_writes() -> None:
    """Patch moto's DynamoDB backend class once per process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        method = getattr(DynamoDBBackend, name, None)
        if method is None or getattr(method, _MARK, False):
            continue
        setattr(DynamoDBBackend, name, _locked(method))


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    setattr(write, _MARK, True)
    return write


def plain_json_answer(result: object) -> str | None:
    """The wire body of a plain-JSON result, or None when moto's serializer must
    write it (bytes, datetimes, exceptions and other objects)."""
    if isinstance(result, BaseException):
        return None
    try:
        return json.dumps(result)
    except (TypeError, ValueError):
        return None


def plain_json_dynamodb_answers() -> None:
    """Answer moto's plain DynamoDB results with ``json.dumps`` (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    serialized = DynamoHandler.serialized
    if getattr(serialized, _MARK, False):
        return
    plain = (ActionResult, DynamoResult)  # exactly these: subclasses page or empty

    @functools.wraps(serialized)
    def answer(self: Any, action_result: Any) -> Any:
        if type(action_result) in plain:
            body = plain_json_answer(action_result.result)
            if body is not None:
                headers = {"Content-Type": CONTENT_TYPE, **self.response_headers}
                return 200, headers, body
        return serialized(self, action_result)

    setattr(answer, _MARK, True)
    setattr(DynamoHandler, "serialized", answer)  # noqa: B010 - moto's class
