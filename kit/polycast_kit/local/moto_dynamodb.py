"""Make moto's DynamoDB writes atomic with respect to each other.

moto's ``transact_write_items`` checks each condition and applies each item with
no lock, and on a cancellation restores deep copies of whole tables taken at its
start: under concurrent requests two transactions can both pass a cap condition,
and a cancelled one wipes out writes other threads made meanwhile (counts and
connection items alike). Real DynamoDB is atomic per transaction and per item.
One re-entrant lock around moto's write methods restores that; reads stay free.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("transact_write_items", "put_item", "update_item", "delete_item", "batch_write_item")
_lock = threading.RLock()
_MARK = "_polycast_serialized"


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
