"""SessionStore on the Sessions table: one item per session.

Item: ``sessionId`` (pk), ``status`` (created | active | ended; ``created`` by
``polycast session create``, before anyone speaks), ``sourceLanguage``, ``languages``
(announced at create time),
``listenerCount``, ``languageCounts`` (map language → listeners), ``lastSequence``,
``paused`` (speaker pause), ``createdAt`` and ``lastActivityAt`` (epoch seconds: the
sweeper ends sessions past the idle time or the maximum duration), ``expiresAt``
(TTL, epoch seconds, pushed back on activity), ``joinCodeHash`` (optional),
``endedAt`` / ``endReason`` once ended, ``formality`` and ``profanity`` (the
session's tone), ``glossary`` (a reference: name, digest, term count, languages; the
CSV itself is the item ``<sessionId>#glossary`` beside it, so the processor's read
of this item stays small).

Finding stale sessions is a filtered Scan of this table (only active sessions past
a cutoff come back, projected to a few attributes). Sessions are few (one item per
talk, ended ones expire a day later), so a minute's sweep reads little; a GSI on
``status`` would turn every activity write into an index write on one hot key.

The processor reads this ONE item per transcript to learn the active languages:
its cost does not grow with listeners. The counts are written only by the
:mod:`.listeners` registry, together with the connection item (one transaction),
so this store never changes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from polycast.adapters.aws.items import (
    conditional_failed,
    dynamodb_call,
    glossary_key,
    glossary_ref_to_item,
    refusal,
    session_from_item,
    session_key,
)
from polycast.domain.glossary import Glossary, GlossaryRef, parse_glossary
from polycast.domain.models import Session
from polycast.errors import SessionEnded, SessionNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A session item outlives the longest session by a day (for late reads), then TTL.
DEFAULT_TTL_SECONDS = 4 * 3600 + 24 * 3600
ENDED_TTL_SECONDS = 24 * 3600


class DynamoSessionStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        self._ddb = client
        self._table = table_name
        self._ttl = ttl_seconds

    @property
    def table_name(self) -> str:
        return self._table

    def _call(self, action: str, method: Any, **params: Any) -> Any:
        return dynamodb_call(action, method, TableName=self._table, **params)

    def get(self, session_id: str) -> Session | None:
        out = self._call(
            "get session", self._ddb.get_item, Key=session_key(session_id), ConsistentRead=True
        )
        item = out.get("Item")
        return session_from_item(item) if item else None

    def create(
        self,
        session_id: str,
        source_language: str,
        *,
        languages: tuple[str, ...] = (),
        join_code_hash: str | None = None,
    ) -> bool:
        return self._put_new(
            session_id, source_language, "created", join_code_hash, languages=languages
        )

    def start(
        self, session_id: str, source_language: str, *, join_code_hash: str | None = None
    ) -> bool:
        if self._put_new(session_id, source_language, "active", join_code_hash):
            return True
        return self._start_created(session_id)

    def _kept_alive(self, now: int) -> dict[str, Any]:
        """``:now`` and ``:expires``: the values every write that keeps a session alive
        sets (``lastActivityAt = :now, expiresAt = :expires``)."""
        return {":now": {"N": str(now)}, ":expires": {"N": str(now + self._ttl)}}

    def _start_created(self, session_id: str) -> bool:
        """A ``created`` session becomes active, keeping what was set at create time."""
        now = int(time.time())
        try:
            self._call(
                "start created session",
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression="SET #status = :active, lastActivityAt = :now, "
                "startedAt = :now, expiresAt = :expires",
                ConditionExpression="#status = :created",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":active": {"S": "active"},
                    ":created": {"S": "created"},
                    **self._kept_alive(now),
                },
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def _put_new(
        self,
        session_id: str,
        source_language: str,
        status: str,
        join_code_hash: str | None,
        *,
        languages: tuple[str, ...] = (),
    ) -> bool:
        now = int(time.time())
        item: dict[str, Any] = {
            **session_key(session_id),
            "status": {"S": status},
            "sourceLanguage": {"S": source_language},
            "listenerCount": {"N": "0"},
            "languageCounts": {"M": {}},
            "lastSequence": {"N": "0"},
            "createdAt": {"N": str(now)},
            "lastActivityAt": {"N": str(now)},
            "paused": {"BOOL": False},
            "expiresAt": {"N": str(now + self._ttl)},
        }
        if join_code_hash:
            item["joinCodeHash"] = {"S": join_code_hash}
        if languages:
            item["languages"] = {"L": [{"S": language} for language in languages]}
        try:
            self._call(
                f"{'create' if status == 'created' else 'start'} session",
                self._ddb.put_item,
                Item=item,
                ConditionExpression="attribute_not_exists(sessionId)",
            )
        except ClientError as exc:  # only a failed condition gets here: it exists
            if conditional_failed(exc):
                return False
            raise
        return True

    def set_tone(self, session_id: str, *, formality: str | None, profanity: bool) -> None:
        values: dict[str, Any] = {":profanity": {"BOOL": profanity}, ":ended": {"S": "ended"}}
        update = "SET profanity = :profanity"
        if formality:
            update += ", formality = :formality"
            values[":formality"] = {"S": formality}
        else:
            update += " REMOVE formality"
        self._update_open(session_id, "set session tone", update, values)

    def put_glossary(self, session_id: str, glossary: Glossary) -> GlossaryRef:
        ref = glossary.ref(session_id)
        session = self.get(session_id)
        if session is None or session.status == "ended":
            raise refusal(session_id, session) or SessionNotFound(f"no session {session_id}")
        self._call(
            "put glossary",
            self._ddb.put_item,
            Item={
                **glossary_key(session_id),
                "csv": {"S": glossary.to_csv()},
                "digest": {"S": ref.digest},
                "expiresAt": {"N": str(int(time.time()) + self._ttl)},
            },
        )
        self._update_open(
            session_id,
            "set session glossary",
            "SET glossary = :glossary",
            {":glossary": glossary_ref_to_item(ref), ":ended": {"S": "ended"}},
        )
        return ref

    def get_glossary(self, session_id: str) -> Glossary | None:
        out = self._call(
            "get glossary", self._ddb.get_item, Key=glossary_key(session_id), ConsistentRead=True
        )
        item = out.get("Item")
        return parse_glossary(item["csv"]["S"]) if item else None

    def _update_open(
        self, session_id: str, action: str, update: str, values: dict[str, Any]
    ) -> None:
        """An update of a session that exists and has not ended."""
        try:
            self._call(
                action,
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(sessionId) AND #status <> :ended",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            raise refusal(session_id, self.get(session_id)) or SessionEnded(
                f"session {session_id} has ended"
            ) from exc

    def end(self, session_id: str, *, reason: str) -> bool:
        return self._end(session_id, reason, "#status <> :ended", {}, "end session")

    def _end(
        self,
        session_id: str,
        reason: str,
        condition: str,
        values: dict[str, Any],
        action: str,
    ) -> bool:
        """Mark ended if ``condition`` holds; False when it did not (or no such session)."""
        now = int(time.time())
        try:
            self._call(
                action,
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression="SET #status = :ended, endedAt = :now, endReason = :reason, "
                "expiresAt = :expires",
                ConditionExpression=f"attribute_exists(sessionId) AND {condition}",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    **values,
                    ":ended": {"S": "ended"},
                    ":now": {"N": str(now)},
                    ":reason": {"S": reason[:256]},
                    ":expires": {"N": str(now + ENDED_TTL_SECONDS)},
                },
            )
        except ClientError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def next_sequence(self, session_id: str) -> int:
        try:
            out = self._call(
                "next sequence",
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression="ADD lastSequence :one",
                ConditionExpression="attribute_exists(sessionId)",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if conditional_failed(exc):
                raise SessionNotFound(f"no session {session_id}") from exc
            raise
        return int(out["Attributes"]["lastSequence"]["N"])

    def set_paused(self, session_id: str, paused: bool) -> bool:
        now = int(time.time())
        try:
            out = self._call(
                "pause session",
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression="SET paused = :paused, lastActivityAt = :now, "
                "expiresAt = :expires",
                ConditionExpression="attribute_exists(sessionId) AND #status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":paused": {"BOOL": paused},
                    **self._kept_alive(now),
                    ":active": {"S": "active"},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise
            raise refusal(session_id, self.get(session_id)) or SessionEnded(
                f"session {session_id} has ended"
            ) from exc
        before = out.get("Attributes", {}).get("paused", {}).get("BOOL", False)
        return bool(before) != paused

    def touch(self, session_id: str) -> None:
        now = int(time.time())
        try:
            self._call(
                "touch session",
                self._ddb.update_item,
                Key=session_key(session_id),
                UpdateExpression="SET lastActivityAt = :now, expiresAt = :expires",
                ConditionExpression="attribute_exists(sessionId) AND #status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    **self._kept_alive(now),
                    ":active": {"S": "active"},
                },
            )
        except ClientError as exc:
            if not conditional_failed(exc):
                raise

    _STALE = (
        "#status = :active AND (lastActivityAt < :idle OR "
        "(attribute_not_exists(lastActivityAt) AND createdAt < :idle) OR createdAt < :started)"
    )

    def _stale_values(self, idle_before: int, started_before: int) -> dict[str, Any]:
        return {
            ":active": {"S": "active"},
            ":idle": {"N": str(idle_before)},
            ":started": {"N": str(started_before)},
        }

    def stale_sessions(self, *, idle_before: int, started_before: int) -> Iterator[Session]:
        """A filtered Scan, page by page (see the module docstring for why not a GSI)."""
        params: dict[str, Any] = {
            "FilterExpression": self._STALE,
            "ProjectionExpression": "sessionId, #status, sourceLanguage, createdAt, lastActivityAt",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": self._stale_values(idle_before, started_before),
            "ConsistentRead": True,
        }
        while True:
            out = self._call("scan sessions", self._ddb.scan, **params)
            for item in out.get("Items", []):
                yield session_from_item(item)
            last = out.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def end_stale(
        self, session_id: str, *, reason: str, idle_before: int, started_before: int
    ) -> bool:
        return self._end(
            session_id,
            reason,
            self._STALE,
            self._stale_values(idle_before, started_before),
            "end stale session",
        )
