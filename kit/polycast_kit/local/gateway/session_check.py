"""The session check, ``GET|HEAD /sessions/{sessionId}?targetLanguage=…[&joinCode=…]``.

The connection handler's ``$connect`` validation without side effects, invoked with an
HTTP API (payload 2.0) event as the deployed HTTP API route does; answered with
``Cache-Control: no-store``. The query (a join code) is never logged.
"""

from __future__ import annotations

from aiohttp import web

from polycast import wiring
from polycast_kit.local.gateway.events import ApiIdentity, http_api_event
from polycast_kit.local.gateway.functions import RouteFunction

PATH = "/sessions/{session_id}"


class SessionCheck:
    def __init__(self, function: RouteFunction, identity: ApiIdentity) -> None:
        self.function = function
        self.identity = identity

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.check)]  # HEAD too

    async def check(self, request: web.Request) -> web.StreamResponse:
        """Would a connect be admitted? The route's function answers; nothing is stored."""
        event = http_api_event(
            request,
            self.identity,
            wiring.SESSION_CHECK_ROUTE.route_key,
            {"sessionId": request.match_info["session_id"]},
        )
        answer = await self.function(event)
        return answer.as_response(headers={"Cache-Control": "no-store"})
