"""Calling a route's function the way API Gateway does, off the event loop.

The function is the runtime's (it picks the handler by route); its result becomes
``(status, body)`` with API Gateway's rules: no mapping → 200 with no body, a raised
exception → 500 "Internal server error" (the exception's type is logged, never its text).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger("polycast.local.gateway")

RouteInvoker = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Answer:
    """A route function's answer as API Gateway reads it."""

    status: int
    body: str | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def as_response(self, headers: Mapping[str, str] | None = None) -> web.Response:
        """The answer as an HTTP response (a refused upgrade, the session check)."""
        return web.Response(
            status=self.status,
            text=self.body or "",
            content_type="application/json" if is_json(self.body) else "text/plain",
            headers=headers,
        )

    def reason(self) -> str:
        """The refusal's code and message, for the log (never the connection id)."""
        if not self.body:
            return ""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return self.body[:200]
        if isinstance(parsed, dict):
            code = parsed.get("code", "")
            message = parsed.get("message", "")
            return f"{code} {message}".strip()[:200]
        return self.body[:200]


def is_json(body: str | None) -> bool:
    if not body:
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


class BlockingCalls:
    """A thread pool for work that must not run on the gateway's event loop."""

    def __init__(self, max_workers: int = 32) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gateway-route")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RouteFunction:
    """The runtime's route function, called in the pool."""

    def __init__(self, invoke: RouteInvoker, blocking: BlockingCalls) -> None:
        self.invoke = invoke
        self.blocking = blocking

    async def __call__(self, event: dict[str, Any]) -> Answer:
        route_key = event["requestContext"]["routeKey"]
        try:
            result = await self.blocking.run(self.invoke, event)
        except Exception as exc:
            log.warning("%s: function error (%s)", route_key, type(exc).__name__)
            return Answer(500, json.dumps({"message": "Internal server error"}))
        if not isinstance(result, Mapping):
            return Answer(200, None)
        body = result.get("body")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        return Answer(int(result.get("statusCode", 200)), body)
