"""``polycast session glossary ID FILE`` (and ``session create --glossary FILE``).

The file is Amazon Translate's custom-terminology CSV (docs/organizers.md): checked
first, every problem printed as ``FILE:LINE: …``; then stored with the session. On a
deployed stack it is also imported into Amazon Translate (ImportTerminology, named
``polycast-<sessionId>``) with the organizer's own credentials: the functions only
name it in TranslateText. Locally the engines apply it around Apertium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from polycast import wiring
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.adapters.aws.translate import import_glossary
from polycast.domain.glossary import Glossary, GlossaryError, GlossaryRef, parse_glossary
from polycast.domain.session_ids import is_session_id
from polycast.errors import PolycastError
from polycast_kit.cli.endpoints import Target, TargetError, add_target_arguments, resolve_target


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "glossary",
        help="attach a glossary (Amazon Translate custom-terminology CSV) to a session",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session_id", metavar="ID")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--sessions-table", help="Sessions table name (needed for --stack)")
    add_target_arguments(parser)
    parser.set_defaults(run=run)


def read_glossary(path: Path, source: str) -> Glossary:
    """The checked glossary; TargetError with every problem as ``FILE:LINE: …``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TargetError(f"cannot read glossary {path}: {exc.strerror}") from exc
    try:
        return parse_glossary(data, source=source)
    except GlossaryError as exc:
        lines = [f"{path}:{problem.removeprefix('line ')}" for problem in exc.problems]
        raise TargetError("bad glossary\n  " + "\n  ".join(lines)) from exc


def attach(
    target: Target, store: DynamoSessionStore, session_id: str, glossary: Glossary
) -> GlossaryRef:
    """Store it with the session; deployed, import it into Amazon Translate too."""
    ref = store.put_glossary(session_id, glossary)
    if not target.local:
        import_glossary(target.client("translate"), ref.name, glossary)
    return ref


def sessions_store(args: argparse.Namespace, target: Target) -> DynamoSessionStore:
    table = args.sessions_table or (wiring.SESSIONS.local_name if target.local else None)
    if not table:
        raise TargetError("pass --sessions-table NAME (the stack's Sessions table)")
    return DynamoSessionStore(target.client("dynamodb"), table)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if not is_session_id(args.session_id):
        raise TargetError(f"{args.session_id!r} is not a session id (like golden-eagle-427)")
    target = resolve_target(args, needs=())
    store = sessions_store(args, target)
    session = store.get(args.session_id)
    if session is None:
        raise TargetError(f"no session {args.session_id}")
    glossary = read_glossary(args.file, session.source_language)
    try:
        ref = attach(target, store, args.session_id, glossary)
    except PolycastError as exc:
        print(f"polycast session glossary: {exc}", file=sys.stderr)
        return 1
    print(describe(ref), file=out, flush=True)
    return 0


def describe(ref: GlossaryRef) -> str:
    source, *targets = ref.languages
    return (
        f"glossary {ref.name}: {ref.terms} terms, {source} → {', '.join(targets)} "
        f"(digest {ref.digest})"
    )
