"""One WebSocket client as the gateway tracks it, and the ids API Gateway gives them."""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web


def now_ms() -> int:
    return int(time.time() * 1000)


def new_connection_id() -> str:
    """An id shaped like API Gateway's (``L0SM9cOFvHcCIhw=``): 11 random bytes, base64."""
    raw = base64.b64encode(secrets.token_bytes(11)).decode("ascii")
    # Keep ids path-safe: no '/' or '+' (API Gateway's ids are URL-safe too).
    return raw.replace("/", "A").replace("+", "B")


@dataclass
class GatewayConnection:
    """A client from its ``$connect`` on; ``ws`` is set once the upgrade is done.

    Posts that arrive while ``$connect`` still runs wait in ``pending``; ``closed``
    turns every later post into 410 Gone.
    """

    connection_id: str
    source_ip: str
    user_agent: str
    connected_at: int = field(default_factory=now_ms)
    last_active_at: int = field(default_factory=now_ms)
    ws: web.WebSocketResponse | None = None
    pending: list[bytes] = field(default_factory=list)
    closed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def from_request(cls, request: web.Request) -> GatewayConnection:
        return cls(
            connection_id=new_connection_id(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
        )
