"""``polycast session create``: a session that exists before anyone speaks.

Listeners may open its pages at once and wait ("waiting for the speaker"); the
speaker's first sentence (the speaker page, ``polycast speak``) or the first record
(``polycast produce --session ID FILE`` or ``--start``) starts it, keeping the
languages set here. Prints the session id and its links; ``--json`` writes them as
one object: ``sessionId``, ``speakerUrl``, ``speakerKey``, ``listenerUrls``,
``joinUrl`` and, with ``--join-code``, ``joinCode``.

The speaker key is random and shown once: only its salted PBKDF2 hash is stored, as
for the join code. The speaker link carries it in the fragment (``#speakerKey=…``),
which browsers never send to a server, so it stays out of access logs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from polycast import wiring
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.adapters.aws.speakers import DynamoSpeakerStore
from polycast.domain.languages import LANGUAGE_CODE
from polycast.domain.session_ids import is_session_id, new_session_id, new_speaker_key
from polycast.domain.translation_settings import FORMALITIES
from polycast.services.connections import hash_join_code
from polycast_kit.cli import session_export, session_glossary, session_share, session_show
from polycast_kit.cli.endpoints import TargetError, add_target_arguments, resolve_target


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "session",
        help="create a session listeners can join before the talk starts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="session_command", required=True)
    create = sub.add_parser("create", help="create a session and print its links")
    create.add_argument("--session", help="session id (default: a new human-readable one)")
    create.add_argument("--source", default="en", help="the speaker's language (default: en)")
    create.add_argument(
        "--languages",
        default="",
        help="comma-separated target languages to print links for, e.g. es,fr",
    )
    create.add_argument("--json", action="store_true", help="write the links as one JSON object")
    create.add_argument(
        "--sessions-table", help="Sessions table name (default: the target's; needed for --stack)"
    )
    create.add_argument(
        "--glossary", type=Path, metavar="FILE", help="glossary CSV (see `session glossary`)"
    )
    create.add_argument(
        "--formality",
        choices=FORMALITIES,
        help="formal or informal translations (Amazon Translate; not the local engines)",
    )
    create.add_argument(
        "--profanity", action="store_true", help="mask profane words in translations"
    )
    session_share.add_join_code_arguments(create)
    add_target_arguments(create)
    create.set_defaults(run=run)
    session_glossary.register(sub)
    session_export.register(sub)
    session_show.register(sub)
    session_share.register_share(sub)


def page_url(page: str, session_id: str, language: str | None = None) -> str:
    query: dict[str, str] = {"sessionId": session_id}
    if language:
        query["targetLanguage"] = language
    return f"{page.rstrip('/')}/?{urlencode(query)}"


SPEAKER_PAGE = "speaker.html"


def speaker_url(page: str, session_id: str, key: str) -> str:
    """The speaker page with the key in the fragment (never sent to a server)."""
    return f"{page.rstrip('/')}/{SPEAKER_PAGE}?{urlencode({'sessionId': session_id})}" + (
        f"#{urlencode({'speakerKey': key})}"
    )


def session_links(
    page: str,
    session_id: str,
    source: str,
    languages: tuple[str, ...],
    *,
    speaker_key: str = "",
    join_code: str | None = None,
) -> dict[str, Any]:
    """What ``session create`` prints (``--json``): the id, the speaker link and key,
    per-language pages, the join URL and (when set) the join code."""
    links: dict[str, Any] = {
        "sessionId": session_id,
        "status": "created",
        "sourceLanguage": source,
        "languages": list(languages),
        "speakerUrl": speaker_url(page, session_id, speaker_key),
        "speakerKey": speaker_key,
        "listenerUrls": {language: page_url(page, session_id, language) for language in languages},
        "joinUrl": page_url(page, session_id),
    }
    if join_code is not None:
        links["joinCode"] = join_code  # shown once, to the organizer; stored hashed
    return links


def create_session(
    ddb: Any,
    table: str,
    page: str,
    session_id: str,
    *,
    source: str,
    languages: tuple[str, ...],
    join_code: str | None = None,
) -> dict[str, Any] | None:
    """Create the session with a new speaker key (and join code), both stored hashed;
    its links, or None when the session exists already."""
    speaker_key = new_speaker_key()
    created = DynamoSessionStore(ddb, table).create(
        session_id,
        source,
        languages=languages,
        join_code_hash=hash_join_code(join_code) if join_code else None,
    )
    speakers = DynamoSpeakerStore(ddb, sessions_table=table, connections_table="")
    if not created or not speakers.set_key(session_id, hash_join_code(speaker_key)):
        return None
    return session_links(
        page, session_id, source, languages, speaker_key=speaker_key, join_code=join_code
    )


def _languages(value: str, source: str) -> tuple[str, ...]:
    languages = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    for code in (source, *languages):
        if not LANGUAGE_CODE.match(code):
            raise TargetError(f"{code!r} is not a language code (like es)")
    return languages


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    session_id = args.session or new_session_id()
    if not is_session_id(session_id):
        raise TargetError(f"{session_id!r} is not a session id (like golden-eagle-427)")
    languages = _languages(args.languages, args.source)
    target = resolve_target(args, needs=("listener_page",) if args.stack else ())
    table = args.sessions_table or (wiring.SESSIONS.local_name if target.local else None)
    if not table:
        raise TargetError("pass --sessions-table NAME (the stack's Sessions table)")
    store = DynamoSessionStore(target.client("dynamodb"), table)
    glossary = session_glossary.read_glossary(args.glossary, args.source) if args.glossary else None
    code = session_share.join_code_for(args)
    links = create_session(
        target.client("dynamodb"),
        table,
        target.listener_page or "",
        session_id,
        source=args.source,
        languages=languages,
        join_code=code,
    )
    if links is None:
        existing = store.get(session_id)
        status = existing.status if existing else "unknown"
        print(
            f"polycast session: session {session_id} exists already ({status}); "
            "choose another --session",
            file=sys.stderr,
        )
        return 1
    if args.formality or args.profanity:
        store.set_tone(session_id, formality=args.formality, profanity=args.profanity)
        if args.formality and target.local:
            print(
                f"polycast session: formality {args.formality} is stored, but the local "
                "engines have no formal/informal variants: it applies on Amazon Translate",
                file=sys.stderr,
            )
    if glossary is not None:
        ref = session_glossary.attach(target, store, session_id, glossary)
        print(session_glossary.describe(ref), file=sys.stderr if args.json else out)
    speaker_key = links["speakerKey"]
    if args.json:
        print(json.dumps(links), file=out, flush=True)
        return 0
    print(f"session {session_id} created: listeners can join now and wait", file=out)
    print(f"  speaker {links['speakerUrl']}", file=out)
    print(f"  key     {speaker_key}  (shown once; only its hash is stored)", file=out)
    for language, url in links["listenerUrls"].items():
        print(f"  {language:<7} {url}", file=out)
    print(f"  join    {links['joinUrl']}", file=out)
    if code:
        print(f"  code    {code}  (listeners are asked for it; it is in no link)", file=out)
    print(
        f"speak with the speaker link, or: polycast speak --session {session_id} "
        f"--key {speaker_key} --file TALK.wav  (or: polycast produce --session {session_id} "
        "TALK)",
        file=out,
        flush=True,
    )
    return 0
