"""``polycast session export ID --format txt|srt|vtt|json [--language es] [--out DIR]``.

Writes one file per language and one for the speaker's own words
(``<session>.<language>.<format>`` and ``<session>.source-<language>.<format>``), in
sequence order, timed as docs/organizers.md describes. Reads the Segments buffer
while it lasts, else (or with ``--from archive``) replays the bus's archive.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from polycast.domain.captions_export import FORMATS, cues, render
from polycast.domain.session_ids import is_session_id
from polycast_kit.cli.endpoints import TargetError, add_target_arguments, resolve_target
from polycast_kit.cli.session_records import SessionTranscripts, session_languages


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "export",
        help="write a session's transcript per language (txt, srt, vtt, json)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session_id", metavar="ID")
    parser.add_argument("--format", choices=FORMATS, default="vtt", dest="fmt")
    parser.add_argument("--language", help="only this language (default: every language)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory (default: .)")
    parser.add_argument(
        "--from",
        dest="origin",
        choices=("auto", "segments", "archive"),
        default="auto",
        help="the Segments buffer, the bus's archive, or the buffer while it lasts (auto)",
    )
    parser.add_argument("--archive", help="archive name (default: the target's)")
    parser.add_argument("--sessions-table", help="Sessions table name (needed for --stack)")
    parser.add_argument("--segments-table", help="Segments table name (needed for --stack)")
    add_target_arguments(parser)
    parser.set_defaults(run=run)


def segment_details(args: argparse.Namespace) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """(source language, SegmentReady details per language) of the session."""
    if not is_session_id(args.session_id):
        raise TargetError(f"{args.session_id!r} is not a session id (like golden-eagle-427)")
    transcripts = SessionTranscripts(
        resolve_target(args, needs=()),
        sessions_table=args.sessions_table,
        segments_table=args.segments_table,
        archive=args.archive,
        origin=args.origin,
    )
    session = transcripts.session(args.session_id)
    if session is None:
        raise TargetError(f"no session {args.session_id} (sessions expire a day after they end)")
    languages = [args.language] if args.language else session_languages(session)
    per_language = transcripts.details(session, languages)
    return session.source_language, per_language


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    source, per_language = segment_details(args)
    if not per_language:
        print(f"polycast session export: no segments for {args.session_id}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    sid = args.session_id
    written = []
    for language, details in sorted(per_language.items()):
        text = render(cues(details), args.fmt, session_id=sid, language=language)
        written.append(_write(args.out / f"{sid}.{language}.{args.fmt}", text))
    details = next(iter(per_language.values()))
    text = render(
        cues(details, source=True), args.fmt, session_id=sid, language=source, source=True
    )
    written.append(_write(args.out / f"{sid}.source-{source}.{args.fmt}", text))
    for path in written:
        print(path, file=out)
    return 0


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
