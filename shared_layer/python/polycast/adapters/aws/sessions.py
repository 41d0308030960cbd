"""SessionStore on the Sessions table: one item per session.

Item: ``sessionId`` (pk), ``status`` (active | ended), ``sourceLanguage``,
``listenerCount``, ``languageCounts`` (map language → listeners), ``lastSequence``,
``createdAt``, ``expiresAt`` (TTL, epoch seconds), ``joinCodeHash`` (optional),
``endedAt`` / ``endReason`` once ended.

The processor reads this ONE item per transcript to learn the active languages:
its cost does not grow with listeners. Every change is a single UpdateItem, so
concurrent connection handlers never lose a count, and condition expressions keep
counts from going below zero.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.connections import dynamodb_error
from polycast.domain.models import Session
from polycast.errors import SessionEnded, SessionNotFound, TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A session item outlives the longest session by a day (for late reads), then TTL.
DEFAULT_TTL_SECONDS = 4 * 3600 + 24 * 3600
ENDED_TTL_SECONDS = 24 * 3600


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def session_from_item(item: dict[str, Any]) -> Session:
    counts = {
        lang: int(value.get("N", "0"))
        for lang, value in (item.get("languageCounts", {}).get("M") or {}).items()
    }
    status = item.get("status", {}).get("S", "active")
    return Session(
        session_id=item["sessionId"]["S"],
        source_language=item.get("sourceLanguage", {}).get("S", "en"),
        status="ended" if status == "ended" else "active",
        listener_count=int(item.get("listenerCount", {}).get("N", "0")),
        language_counts=counts,
        last_sequence=int(item.get("lastSequence", {}).get("N", "0")),
        join_code_hash=item.get("joinCodeHash", {}).get("S"),
    )


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

    def _key(self, session_id: str) -> dict[str, Any]:
        return {"sessionId": {"S": session_id}}

    def _call(self, action: str, method: Any, **params: Any) -> Any:
        try:
            return method(TableName=self._table, **params)
        except ClientError as exc:
            if _conditional_failed(exc):
                raise
            raise dynamodb_error(exc, action) from exc
        except BotoCoreError as exc:
            raise TransientError(f"DynamoDB {action}: {type(exc).__name__}") from exc

    def get(self, session_id: str) -> Session | None:
        out = self._call(
            "get session", self._ddb.get_item, Key=self._key(session_id), ConsistentRead=True
        )
        item = out.get("Item")
        return session_from_item(item) if item else None

    def start(
        self, session_id: str, source_language: str, *, join_code_hash: str | None = None
    ) -> bool:
        now = int(time.time())
        item: dict[str, Any] = {
            **self._key(session_id),
            "status": {"S": "active"},
            "sourceLanguage": {"S": source_language},
            "listenerCount": {"N": "0"},
            "languageCounts": {"M": {}},
            "lastSequence": {"N": "0"},
            "createdAt": {"N": str(now)},
            "expiresAt": {"N": str(now + self._ttl)},
        }
        if join_code_hash:
            item["joinCodeHash"] = {"S": join_code_hash}
        try:
            self._call(
                "start session",
                self._ddb.put_item,
                Item=item,
                ConditionExpression="attribute_not_exists(sessionId)",
            )
        except ClientError as exc:  # only a failed condition gets here: it exists
            if _conditional_failed(exc):
                return False
            raise
        return True

    def end(self, session_id: str, *, reason: str) -> bool:
        now = int(time.time())
        try:
            self._call(
                "end session",
                self._ddb.update_item,
                Key=self._key(session_id),
                UpdateExpression="SET #status = :ended, endedAt = :now, endReason = :reason, "
                "expiresAt = :expires",
                ConditionExpression="attribute_exists(sessionId) AND #status <> :ended",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":ended": {"S": "ended"},
                    ":now": {"N": str(now)},
                    ":reason": {"S": reason[:256]},
                    ":expires": {"N": str(now + ENDED_TTL_SECONDS)},
                },
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def next_sequence(self, session_id: str) -> int:
        try:
            out = self._call(
                "next sequence",
                self._ddb.update_item,
                Key=self._key(session_id),
                UpdateExpression="ADD lastSequence :one",
                ConditionExpression="attribute_exists(sessionId)",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise SessionNotFound(f"no session {session_id}") from exc
            raise
        return int(out["Attributes"]["lastSequence"]["N"])

    def add_listener(self, session_id: str, language: str) -> Session:
        """One UpdateItem: total and per-language count, only on an active session."""
        try:
            out = self._call(
                "add listener",
                self._ddb.update_item,
                Key=self._key(session_id),
                UpdateExpression="SET listenerCount = if_not_exists(listenerCount, :zero) + :one, "
                "languageCounts.#lang = if_not_exists(languageCounts.#lang, :zero) + :one",
                ConditionExpression="attribute_exists(sessionId) AND #status = :active",
                ExpressionAttributeNames={"#lang": language, "#status": "status"},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":active": {"S": "active"},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            current = self.get(session_id)
            if current is None:
                raise SessionNotFound(f"no session {session_id}") from exc
            raise SessionEnded(f"session {session_id} has ended") from exc
        return session_from_item(out["Attributes"])

    def remove_listener(self, session_id: str, language: str) -> Session | None:
        """One UpdateItem; a count already at zero stays there (and we return the item)."""
        try:
            out = self._call(
                "remove listener",
                self._ddb.update_item,
                Key=self._key(session_id),
                UpdateExpression="SET listenerCount = listenerCount - :one, "
                "languageCounts.#lang = languageCounts.#lang - :one",
                ConditionExpression="listenerCount > :zero AND languageCounts.#lang > :zero",
                ExpressionAttributeNames={"#lang": language},
                ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return self.get(session_id)
        return session_from_item(out["Attributes"])
