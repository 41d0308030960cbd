"""Where a finished session's records are read from, for ``session export`` and ``show``
(and, through ``SessionTranscripts``, the local gateway's ``/export``).

* The Segments table (the broadcaster's per-language buffer): every ``SegmentReady``
  detail, by (session, language), while its items live — ``SEGMENT_BUFFER_TTL_SECONDS``
  (1 hour by default) after each segment, then DynamoDB's TTL removes them.
* The bus's archive (every ``polycast`` event, kept ``archiveRetentionDays``, 30 by
  default): a replay of the session's time window into a private rule + queue (the
  ``events tail`` tap, matching only this session), drained, then removed. Replays
  name the tap's rule in ``FilterArns``, so the broadcaster never sees them again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from polycast import wiring
from polycast.adapters.aws.segments import stream_key
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.domain.models import Session
from polycast_kit.cli.endpoints import Target, TargetError, stack_outputs
from polycast_kit.cli.events import EventTap
from polycast_kit.local.gateway.export import session_languages

if TYPE_CHECKING:
    from polycast_kit.local.runtime import RuntimeEndpoints

REPLAY_TIMEOUT_SECONDS = 900.0
Origin = Literal["auto", "segments", "archive"]

__all__ = ["SessionTranscripts", "local_transcripts", "session_languages"]


@dataclass(frozen=True)
class SessionTranscripts:
    """A session and its ``SegmentReady`` details per language, from ``target``: the
    Segments buffer (``origin`` "segments"), the archive ("archive"), or the buffer
    while it lasts, else the archive ("auto"). Table names default to the local ones."""

    target: Target
    sessions_table: str | None = None
    segments_table: str | None = None
    archive: str | None = None
    origin: Origin = "auto"
    replay_timeout: float = REPLAY_TIMEOUT_SECONDS

    def session(self, session_id: str) -> Session | None:
        table = self.sessions_table or (wiring.SESSIONS.local_name if self.target.local else None)
        if not table:
            raise TargetError("pass --sessions-table NAME (the stack's Sessions table)")
        return DynamoSessionStore(self.target.client("dynamodb"), table).get(session_id)

    def details(
        self, session: Session, languages: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        per_language: dict[str, list[dict[str, Any]]] = {}
        if self.origin in ("auto", "segments"):
            table = self.segments_table or (
                wiring.SEGMENTS.local_name if self.target.local else None
            )
            if not table:
                raise TargetError("pass --segments-table NAME (the stack's Segments table)")
            ddb = self.target.client("dynamodb")
            for language in languages:
                found = buffered_details(ddb, table, session.session_id, language)
                if found:
                    per_language[language] = found
        if not per_language and self.origin in ("auto", "archive"):
            events = replayed_events(
                self.target,
                session,
                archive=self.archive,
                detail_types=["SegmentReady"],
                timeout=self.replay_timeout,
            )
            for event in events:
                detail = event.get("detail") or {}
                if detail.get("language") in languages:
                    per_language.setdefault(detail["language"], []).append(detail)
        return per_language


def local_transcripts(endpoints: RuntimeEndpoints) -> SessionTranscripts:
    """The local runtime's own transcripts (its gateway's ``/export``)."""
    target = Target(
        endpoint_url=endpoints.aws_endpoint,
        region=endpoints.region,
        stream=endpoints.transcript_stream,
        bus=endpoints.event_bus,
        websocket_url=endpoints.websocket_url,
        local=True,
    )
    # A page waits for its answer: a replay that takes longer is not worth waiting for.
    return SessionTranscripts(target, replay_timeout=120.0)


def buffered_details(ddb: Any, table: str, session_id: str, language: str) -> list[dict[str, Any]]:
    """The SegmentReady details still in the Segments buffer, in sequence order."""
    params: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "stream"},
        "ExpressionAttributeValues": {":s": {"S": stream_key(session_id, language)}},
        "ScanIndexForward": True,
    }
    now = int(time.time())
    out: list[dict[str, Any]] = []
    while True:
        page = ddb.query(**params)
        for item in page.get("Items", []):
            expires = int(item.get("expiresAt", {}).get("N", "0") or 0)
            if expires and expires < now:  # TTL deletes lazily: expired is gone
                continue
            out.append(json.loads(item["payload"]["S"]))
        if not page.get("LastEvaluatedKey"):
            return out
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def archive_arn(target: Target, archive: str | None) -> str:
    events = target.client("events")
    name = archive
    if name is None and target.local:
        name = wiring.ARCHIVE_LOCAL_NAME
    if name is None and target.stacks:
        name = stack_outputs(target.stacks, region=target.region, profile=target.profile).get(
            "ArchiveName"
        )
    if not name:
        raise TargetError("pass --archive NAME (the stack's ArchiveName output)")
    return str(events.describe_archive(ArchiveName=name)["ArchiveArn"])


def replayed_events(
    target: Target,
    session: Session,
    *,
    archive: str | None = None,
    detail_types: Iterable[str] = (),
    timeout: float = REPLAY_TIMEOUT_SECONDS,
) -> list[dict[str, Any]]:
    """The session's events, replayed from the archive over its time window."""
    events, sqs = target.client("events"), target.client("sqs")
    source = archive_arn(target, archive)
    start = session.created_at - 60
    end = (session.ended_at or int(time.time())) + 120
    tap = EventTap(
        events,
        sqs,
        bus_name=target.bus,
        detail_types=detail_types,
        extra_pattern={"detail": {"sessionId": [session.session_id]}},
    )
    with tap:
        rule = events.describe_rule(Name=tap.name, EventBusName=target.bus)["Arn"]
        bus = events.describe_event_bus(Name=target.bus)["Arn"]
        name = f"{tap.name}-replay"
        events.start_replay(
            ReplayName=name,
            EventSourceArn=source,
            EventStartTime=datetime.fromtimestamp(start, UTC),
            EventEndTime=datetime.fromtimestamp(min(end, int(time.time())), UTC),
            Destination={"Arn": bus, "FilterArns": [rule]},
        )
        deadline = time.monotonic() + timeout
        while True:
            state = events.describe_replay(ReplayName=name)["State"]
            if state == "COMPLETED":
                break
            if state in ("FAILED", "CANCELLED") or time.monotonic() > deadline:
                raise TargetError(f"archive replay {name} ended {state.lower()}")
            time.sleep(2)
        out: list[dict[str, Any]] = []
        idle = 0
        while idle < 2:  # two empty polls after the replay completed: drained
            got = tap.receive(wait_seconds=1)
            idle = 0 if got else idle + 1
            out.extend(got)
    seen: set[str] = set()
    unique = []
    for event in out:
        if event.get("id") not in seen:
            seen.add(str(event.get("id")))
            unique.append(event)
    return unique
