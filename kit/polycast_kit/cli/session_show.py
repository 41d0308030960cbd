"""``polycast session show ID``: a session's summary, from its item and its events.

Where each figure comes from (one Sessions item read, one archive replay):
* status, times, languages, tone, glossary: the session item;
* segments per language, audio missing, emotion hints replaced: ``SegmentReady``;
* listeners per language: ``ListenerJoined`` (total joins; the peak is the highest
  ``languageCount`` a join reported) and ``ListenerLeft``;
* delivery failures and listeners gone mid-message: ``BroadcastCompleted``;
* rejected transcripts, by code: ``TranscriptRejected``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, TextIO

from polycast.domain.models import Session
from polycast.domain.session_ids import is_session_id
from polycast_kit.cli.endpoints import TargetError, add_target_arguments, resolve_target
from polycast_kit.cli.session_glossary import sessions_store
from polycast_kit.cli.session_records import replayed_events, session_languages


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "show",
        help="summarize a session",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session_id", metavar="ID")
    parser.add_argument("--json", action="store_true", help="write the summary as one object")
    parser.add_argument("--archive", help="archive name (default: the target's)")
    parser.add_argument("--sessions-table", help="Sessions table name (needed for --stack)")
    add_target_arguments(parser)
    parser.set_defaults(run=run)


def summarize(session: Session, events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    segments: dict[str, set[int]] = defaultdict(set)
    audio_missing: Counter[str] = Counter()
    hints: Counter[str] = Counter()
    joined: Counter[str] = Counter()
    left: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    gone: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    seen: set[tuple[str, int, str]] = set()
    for event in events:
        kind, detail = event.get("detail-type"), event.get("detail") or {}
        language = str(detail.get("language", ""))
        if kind == "SegmentReady":
            key = (language, int(detail["sequence"]), "segment")
            if key in seen:
                continue
            seen.add(key)
            segments[language].add(int(detail["sequence"]))
            audio_missing[language] += detail.get("audio") is None
            hints[language] += bool(detail.get("hintsReplaced"))
        elif kind == "ListenerJoined":
            joined[language] += 1
            peak[language] = max(peak[language], int(detail.get("languageCount", 0)))
        elif kind == "ListenerLeft":
            left[language] += 1
        elif kind == "BroadcastCompleted":
            failed[language] += int(detail.get("failed", 0))
            gone[language] += int(detail.get("gone", 0))
        elif kind == "TranscriptRejected":
            rejected[str(detail.get("code", "UNKNOWN"))] += 1
    languages = sorted(set(session_languages(session)) | set(segments) | set(joined))
    end = session.ended_at or None
    return {
        "sessionId": session.session_id,
        "status": session.status,
        "sourceLanguage": session.source_language,
        "createdAt": session.created_at,
        "endedAt": end,
        "endReason": session.end_reason,
        "durationSeconds": (end - session.created_at) if end else None,
        "segments": max((len(s) for s in segments.values()), default=0),
        "formality": session.formality,
        "profanity": session.profanity,
        "glossary": (
            {"name": session.glossary.name, "terms": session.glossary.terms}
            if session.glossary
            else None
        ),
        "languages": {
            language: {
                "segments": len(segments.get(language, ())),
                "peakListeners": peak[language],
                "totalListeners": joined[language],
                "left": left[language],
                "deliveryFailures": failed[language],
                "goneDuringDelivery": gone[language],
                "audioMissing": audio_missing[language],
                "emotionHintsReplaced": hints[language],
            }
            for language in languages
        },
        "rejectedTranscripts": dict(rejected),
    }


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "still running"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if not is_session_id(args.session_id):
        raise TargetError(f"{args.session_id!r} is not a session id (like golden-eagle-427)")
    target = resolve_target(args, needs=())
    session = sessions_store(args, target).get(args.session_id)
    if session is None:
        raise TargetError(f"no session {args.session_id} (sessions expire a day after they end)")
    summary = summarize(session, replayed_events(target, session, archive=args.archive))
    if args.json:
        print(json.dumps(summary), file=out, flush=True)
        return 0
    print(f"session {summary['sessionId']} ({summary['status']})", file=out)
    print(f"  duration   {_duration(summary['durationSeconds'])}", file=out)
    print(f"  segments   {summary['segments']} (source {summary['sourceLanguage']})", file=out)
    tone = summary["formality"] or "default formality"
    print(
        f"  tone       {tone}, profanity {'masked' if summary['profanity'] else 'kept'}", file=out
    )
    if summary["glossary"]:
        print(
            f"  glossary   {summary['glossary']['name']} ({summary['glossary']['terms']} terms)",
            file=out,
        )
    print("  language  segments  peak  total  failures  audio missing", file=out)
    for language, row in summary["languages"].items():
        print(
            f"  {language:<9} {row['segments']:>8}  {row['peakListeners']:>4}  "
            f"{row['totalListeners']:>5}  {row['deliveryFailures']:>8}  {row['audioMissing']:>13}",
            file=out,
        )
    rejected = summary["rejectedTranscripts"]
    print(
        "  rejected   " + (", ".join(f"{c} {n}" for c, n in rejected.items()) or "none"),
        file=out,
        flush=True,
    )
    return 0
