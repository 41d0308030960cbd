"""What every handler does at its edge, written once: the service it builds on first
use and keeps for the container's life, and an action's JSON body read defensively.

Handlers are separate Lambda entry points and never import each other
(``handlers-independent``); what they share lives here, in the layer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PerContainer(Generic[T]):
    """Built on first call, then kept for the container's life (warm starts).

    Built once even when first calls come at once: a Lambda container takes one
    invocation at a time, but the local gateway runs route handlers in threads, and
    500 listeners connecting to a cold runtime each built their own set of clients.
    ``use`` swaps the value (tests inject fakes; ``None`` builds afresh next call).
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._build()
        return value

    def use(self, value: T | None) -> None:
        self._value = value


def action_body(raw: str | None, *, max_chars: int) -> dict[str, Any]:
    """A WebSocket action's body as a JSON object; over ``max_chars``, not JSON or not an
    object, ``{}`` (the service then answers what is missing, against the action's schema)."""
    text = raw or ""
    if len(text) > max_chars:
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
