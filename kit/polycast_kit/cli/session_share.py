"""``polycast session share ID``: the links of a session, as text, QR images and a poster.

Prints the join page and one listener link per language; ``--png DIR`` writes one QR
code per language (and one for the join page), ``--pdf FILE`` a printable page with
the session's title and every code. QR codes are drawn by segno, the poster laid out
by fpdf2 (both maintained PyPI packages; the ``local`` extra).

A join code is never part of a link or a QR code: listeners are asked for it once. A
poster may show it as text, and only when given explicitly (``--join-code``).

Also here: the join-code options of ``session create`` (a code by default when the
local runtime runs with ``--lan``).
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from polycast import wiring
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.domain.languages import LANGUAGE_CODE
from polycast_kit.cli.endpoints import (
    TargetError,
    add_target_arguments,
    read_local_state,
    resolve_target,
)

JOIN_CODE_DIGITS = 6


# -- session create: join codes ---------------------------------------------------------


def add_join_code_arguments(parser: argparse.ArgumentParser) -> None:
    codes = parser.add_mutually_exclusive_group()
    codes.add_argument(
        "--join-code",
        nargs="?",
        const="",
        metavar="CODE",
        help="listeners must give a join code: CODE, or a generated one when no CODE "
        "(the default while `polycast local --lan` runs)",
    )
    codes.add_argument(
        "--no-join-code", action="store_true", help="no join code, even on a --lan runtime"
    )


def new_join_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(JOIN_CODE_DIGITS))


def join_code_for(args: argparse.Namespace) -> str | None:
    """The code ``session create`` sets (stored hashed), or None."""
    if getattr(args, "no_join_code", False):
        return None
    given = getattr(args, "join_code", None)
    if given is not None:
        return str(given) or new_join_code()
    if getattr(args, "stack", None) or getattr(args, "endpoint_url", None):
        return None
    state = read_local_state(getattr(args, "state_dir", None))
    return new_join_code() if state is not None and state.get("lan") else None


# -- session share ----------------------------------------------------------------------


def register_share(sub: Any) -> None:
    share: argparse.ArgumentParser = sub.add_parser(
        "share",
        help="print a session's links; write QR codes (--png) and a printable page (--pdf)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    share.add_argument("session_id", metavar="ID", help="the session, e.g. golden-eagle-427")
    share.add_argument("--png", type=Path, metavar="DIR", help="write one QR PNG per link here")
    share.add_argument("--pdf", type=Path, metavar="FILE", help="write a printable page here")
    share.add_argument("--title", help="the poster's title (default: the session id)")
    share.add_argument(
        "--languages", default="", help="comma-separated languages (default: the session's)"
    )
    share.add_argument(
        "--join-code",
        metavar="CODE",
        help="print this join code as text on the poster (never put in a link)",
    )
    share.add_argument(
        "--sessions-table", help="Sessions table name (default: the target's; needed for --stack)"
    )
    add_target_arguments(share)
    share.set_defaults(run=run_share)


@dataclass(frozen=True)
class ShareLink:
    name: str  # "join" or a language code
    label: str
    url: str


def page_links(
    page: str, session_id: str, languages: tuple[str, ...], *, local: bool
) -> list[ShareLink]:
    """The join page, then one listener link per language; never a join code."""
    base = page.rstrip("/")
    join_path = "/join" if local else "/join.html"  # a static site has no /join route
    links = [ShareLink("join", "Choose a language", f"{base}{join_path}?sessionId={session_id}")]
    for language in languages:
        query = urlencode({"sessionId": session_id, "targetLanguage": language})
        links.append(ShareLink(language, language, f"{base}/?{query}"))
    return links


def qr_png(url: str, scale: int = 10) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def write_pngs(directory: Path, session_id: str, links: list[ShareLink]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for link in links:
        path = directory / f"{session_id}-{link.name}.png"
        path.write_bytes(qr_png(link.url))
        written.append(path)
    return written


def write_pdf(
    path: Path, title: str, session_id: str, links: list[ShareLink], join_code: str | None
) -> None:
    """One A4 page: the title, how to join, and a grid of codes with their links."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 24)
    pdf.multi_cell(0, 11, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 13)
    intro = f"Live captions and speech in your language. Session {session_id}."
    if join_code:
        intro += f" Join code: {join_code}"
    pdf.multi_cell(0, 7, intro, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    size, columns, gap = 70.0, 2, 14.0
    for index, link in enumerate(links):
        column = index % columns
        if column == 0 and index:
            pdf.ln(size + 22)
            if pdf.get_y() + size + 20 > pdf.h - 12:
                pdf.add_page()
        x = pdf.l_margin + column * (size + gap + 10)
        y = pdf.get_y()
        pdf.image(io.BytesIO(qr_png(link.url, scale=8)), x=x, y=y, w=size, h=size)
        pdf.set_xy(x, y + size + 1)
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(size, 7, link.label)
        pdf.set_xy(x, y + size + 8)
        pdf.set_font("Helvetica", "", 7)
        pdf.multi_cell(size + 10, 3.5, link.url)
        pdf.set_xy(pdf.l_margin, y)
    pdf.output(str(path))


def _languages(value: str) -> tuple[str, ...]:
    languages = tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))
    for code in languages:
        if not LANGUAGE_CODE.match(code):
            raise TargetError(f"{code!r} is not a language code (like es)")
    return languages


def run_share(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    target = resolve_target(args, needs=("listener_page",) if args.stack else ())
    if not target.listener_page:
        raise TargetError("the target has no listener page URL (output ListenerPageUrl)")
    table = args.sessions_table or (wiring.SESSIONS.local_name if target.local else None)
    if not table:
        raise TargetError("pass --sessions-table NAME (the stack's Sessions table)")
    session = DynamoSessionStore(target.client("dynamodb"), table).get(args.session_id)
    if session is None:
        print(f"polycast session: no session {args.session_id}", file=sys.stderr)
        return 1
    if session.status == "ended":
        print(f"polycast session: session {args.session_id} has ended", file=sys.stderr)
        return 1
    languages = _languages(args.languages) or session.languages
    if not languages:
        state = read_local_state(getattr(args, "state_dir", None)) if target.local else None
        languages = tuple((state or {}).get("languages", ()))
    links = page_links(target.listener_page, session.session_id, languages, local=target.local)
    print(f"session {session.session_id}: share these links", file=out)
    for link in links:
        print(f"  {link.name:<6} {link.url}", file=out)
    if session.join_code_hash:
        print("  listeners are asked for the join code (it is in no link)", file=out)
    if args.png:
        for path in write_pngs(args.png, session.session_id, links):
            print(f"  wrote {path}", file=out)
    if args.pdf:
        args.pdf.parent.mkdir(parents=True, exist_ok=True)
        title = args.title or f"Polycast: {session.session_id}"
        write_pdf(args.pdf, title, session.session_id, links, args.join_code)
        print(f"  wrote {args.pdf}", file=out)
    out.flush()
    return 0
