"""What a browser loads from the gateway: the listener page and its files from
``web/`` (aiohttp's static files), ``/config.json`` (where the page connects) and
``/audio/{key}`` (audio sent by reference, read from the local bucket).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from polycast_kit.local.gateway.functions import BlockingCalls

AudioReader = Callable[[str], bytes | None]
PageConfig = Callable[[], Mapping[str, Any]]

_PLACEHOLDER_PAGE = """<!doctype html><meta charset="utf-8"><title>Polycast</title>
<h1>Polycast listener</h1><p>The listener page is not built yet (web/index.html).</p>
<pre id="log"></pre><script>
const q = new URLSearchParams(location.search);
fetch('/config.json').then(r => r.json()).then(cfg => {
  const ws = new WebSocket(cfg.websocketUrl + '/?' + q.toString());
  ws.onmessage = e => { const m = JSON.parse(e.data);
    document.getElementById('log').textContent += (m.text || m.type) + '\\n'; };
  ws.onclose = e => { document.getElementById('log').textContent += 'closed ' + e.code + '\\n'; };
});
</script>
"""


class Pages:
    """The page, its configuration and referenced audio."""

    def __init__(
        self,
        blocking: BlockingCalls,
        *,
        web_root: Path | None = None,
        config: PageConfig | None = None,
        read_audio: AudioReader | None = None,
    ) -> None:
        self.blocking = blocking
        self.web_root = web_root
        self.config = config or (lambda: {})
        self.read_audio = read_audio

    def routes(self) -> list[web.RouteDef]:
        """Named routes; ``/`` itself is the gateway's (it is the WebSocket URL too)."""
        return [
            web.get("/config.json", self.page_config),
            web.get("/audio/{key:.+}", self.audio),
        ]

    def static_routes(self) -> list[web.AbstractRouteDef]:
        """Every other file under ``web/``: mounted last, as the fallback."""
        if self.web_root is None or not self.web_root.is_dir():
            return []
        return [web.static("/", self.web_root)]

    async def index(self, request: web.Request) -> web.StreamResponse:
        page = self.web_root / "index.html" if self.web_root is not None else None
        if page is not None and page.is_file():
            return web.FileResponse(page)
        return web.Response(text=_PLACEHOLDER_PAGE, content_type="text/html")

    async def page_config(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(dict(self.config()))

    async def audio(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        if self.read_audio is None or ".." in key.split("/"):
            raise web.HTTPNotFound()
        data = await self.blocking.run(self.read_audio, key)
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=data,
            content_type="audio/mpeg",
            headers={"Cache-Control": "max-age=3600", "Access-Control-Allow-Origin": "*"},
        )
