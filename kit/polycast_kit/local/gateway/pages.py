"""What a browser loads from the gateway: the listener page and its files from
``web/`` (aiohttp's static files), the join page at ``/join``, the big-screen view
(``/?view=display``), ``/config.json`` (where the page connects), ``/audio/{key}``
(audio sent by reference, read from the local bucket) and ``/qr.svg`` (the join page's
QR codes, for this gateway's own page links only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from polycast_kit.local.gateway.functions import BlockingCalls
from polycast_kit.local.gateway.qr import qr_svg, shareable_link

AudioReader = Callable[[str], bytes | None]
PageConfig = Callable[[], Mapping[str, Any]]
Origins = Callable[[], tuple[str, ...]]

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
        origins: Origins = tuple,
    ) -> None:
        self.blocking = blocking
        self.web_root = web_root
        self.config = config or (lambda: {})
        self.read_audio = read_audio
        self.origins = origins  # the gateway's own http://host:port origins

    def routes(self) -> list[web.RouteDef]:
        """Named routes; ``/`` itself is the gateway's (it is the WebSocket URL too)."""
        return [
            web.get("/config.json", self.page_config),
            web.get("/audio/{key:.+}", self.audio),
            web.get("/join", self.join),
            web.get("/qr.svg", self.qr),
        ]

    def static_routes(self) -> list[web.AbstractRouteDef]:
        """Every other file under ``web/``: mounted last, as the fallback."""
        if self.web_root is None or not self.web_root.is_dir():
            return []
        return [web.static("/", self.web_root)]

    def _file(self, name: str) -> Path | None:
        page = self.web_root / name if self.web_root is not None else None
        return page if page is not None and page.is_file() else None

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The listener page; ``?view=display`` is the big-screen view of it."""
        if request.query.get("view") == "display" and (display := self._file("display.html")):
            return web.FileResponse(display)
        if page := self._file("index.html"):
            return web.FileResponse(page)
        return web.Response(text=_PLACEHOLDER_PAGE, content_type="text/html")

    async def join(self, request: web.Request) -> web.StreamResponse:
        if page := self._file("join.html"):
            return web.FileResponse(page)
        raise web.HTTPNotFound()

    async def qr(self, request: web.Request) -> web.StreamResponse:
        """The QR code of one of this gateway's page links, as SVG.

        Not an open QR service: the link must be one of ours (origin, path and query
        keys checked by ``shareable_link``), and never carry a join code.
        """
        link = shareable_link(request.query.get("data", ""), self.origins())
        if link is None:
            raise web.HTTPBadRequest(text="data must be a link to this runtime's pages")
        svg = await self.blocking.run(qr_svg, link)
        return web.Response(
            body=svg, content_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
        )

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
