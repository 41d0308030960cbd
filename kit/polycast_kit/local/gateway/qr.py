"""QR codes for the join page, drawn by segno (a maintained QR encoder).

Only links to this gateway's own pages are drawn (``shareable_link``): the gateway is
not a QR service for anyone's URLs, and a link with a join code in it is refused, so
a code can never end up printed or projected by accident.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import segno

MAX_LINK_CHARS = 1024
PAGE_PATHS = frozenset({"/", "/join"})
LINK_PARAMETERS = frozenset({"sessionId", "targetLanguage", "view", "also"})


def shareable_link(data: str, origins: Iterable[str]) -> str | None:
    """``data`` when it is a link to one of our pages (``origins``: ``http://host:port``)
    with only page parameters and no join code; otherwise None."""
    if not data or len(data) > MAX_LINK_CHARS:
        return None
    try:
        parts = urlsplit(data)
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in set(origins) or parts.path not in PAGE_PATHS or parts.fragment:
        return None
    if any(key not in LINK_PARAMETERS for key, _ in query):
        return None
    return data


def qr_svg(link: str) -> bytes:
    """The link as a scalable, high-contrast QR code (error correction M, quiet zone 4)."""
    out = io.BytesIO()
    code = segno.make(link, error="m", micro=False)
    code.save(out, kind="svg", scale=1, border=4, dark="#000", light="#fff", xmldecl=False)
    side = code.symbol_size(scale=1, border=4)[0]
    # A viewBox, so the page can draw it at any size (segno writes width and height only).
    svg = out.getvalue().decode()
    svg = svg.replace("<svg ", f'<svg viewBox="0 0 {side} {side}" ', 1)
    return svg.encode()
