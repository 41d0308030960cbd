"""A WebSocket gateway on loopback that behaves like API Gateway's WebSocket API.

One module per concern, composed on aiohttp's router by ``server``:

- ``websocket_api``: ``$connect`` (a refusal refuses the upgrade with the function's
  status and body), route selection on ``$request.body.action``, ``$disconnect``,
  idle and lifetime limits, 128 KB messages;
- ``connections_api``: ``@connections`` POST / GET / DELETE, 410 for a closed id;
- ``session_check``: ``GET /sessions/{sessionId}``, the HTTP API route;
- ``pages``: the listener page at ``/`` and ``web/``, ``/config.json``, ``/audio/{key}``;
- ``export``: ``GET /export``, an ended session's transcript (join code enforced);
- ``events``: the event shapes API Gateway hands a function; ``functions``: calling it.
"""

from polycast_kit.local.gateway.connection import GatewayConnection, new_connection_id
from polycast_kit.local.gateway.functions import RouteInvoker
from polycast_kit.local.gateway.pages import AudioReader
from polycast_kit.local.gateway.server import ROUTE_KEYS, WebSocketGateway, free_port
from polycast_kit.local.gateway.websocket_api import FRAME_BYTES, MAX_MESSAGE_BYTES

__all__ = [
    "FRAME_BYTES",
    "MAX_MESSAGE_BYTES",
    "ROUTE_KEYS",
    "AudioReader",
    "GatewayConnection",
    "RouteInvoker",
    "WebSocketGateway",
    "free_port",
    "new_connection_id",
]
