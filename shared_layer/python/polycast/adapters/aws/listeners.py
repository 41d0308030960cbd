"""ListenerRegistry on DynamoDB: a connection item and the session's counts in ONE
TransactWriteItems.

Why a transaction: a separate ``SET listenerCount = listenerCount + 1`` is not
idempotent. When the SDK retries it after a read timeout whose first attempt had
applied (seen on the local emulator under a 500-listener churn), the count moves
twice and drifts from the connections. In a transaction the connection item's
condition (``attribute_not_exists`` to admit, ``attribute_exists`` to remove, the
old language to switch) makes a repeat fail as a whole, and we read that
cancellation as "already done". ``ClientRequestToken`` makes real DynamoDB answer a
retry within 10 minutes with the first attempt's success instead.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.items import (
    CONNECTION_TTL_SECONDS,
    captions_only_attribute,
    connection_from_item,
    connection_key,
    connection_to_item,
    consistent_item,
    dynamodb_error,
    refusal,
    session_from_item,
    session_key,
)
from polycast.domain.models import Connection, Session
from polycast.errors import SessionFull, TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# A connection switched or removed concurrently is read again this many times.
_ATTEMPTS = 3
# Codes that mean "try again": a conflicting transaction on the same item, or
# the same token still in flight.
_RETRYABLE = frozenset({"TransactionConflict", "TransactionInProgressException"})


class _Cancelled(Exception):
    """The transaction was cancelled; ``reasons`` holds one code per item."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        return len(self.reasons) > index and self.reasons[index] == "ConditionalCheckFailed"


def request_token(operation: str, connection_id: str, *parts: str) -> str:
    """A ClientRequestToken (at most 36 characters) for one operation on one connection."""
    raw = "\x1f".join((operation, connection_id, *parts)).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:36]


class DynamoListenerRegistry:
    def __init__(
        self,
        client: DynamoDBClient,
        *,
        connections_table: str,
        sessions_table: str,
        ttl_seconds: int = CONNECTION_TTL_SECONDS,
    ) -> None:
        self._ddb = client
        self._connections = connections_table
        self._sessions = sessions_table
        self._ttl = ttl_seconds

    # -- admit -----------------------------------------------------------------

    def admit(self, connection: Connection, *, max_listeners: int = 0) -> Session:
        session_id = connection.session_id
        condition = "attribute_exists(sessionId) AND #status IN (:active, :created)"
        values: dict[str, Any] = {
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":active": {"S": "active"},
            ":created": {"S": "created"},  # created, not yet started: listeners wait
        }
        if max_listeners > 0:
            condition += " AND (attribute_not_exists(listenerCount) OR listenerCount < :max)"
            values[":max"] = {"N": str(max_listeners)}
        start = connection.connected_at or int(time.time())
        items = [
            {
                "Put": {
                    "TableName": self._connections,
                    "Item": connection_to_item(connection, start + self._ttl),
                    "ConditionExpression": "attribute_not_exists(connectionId)",
                }
            },
            {
                "Update": {
                    "TableName": self._sessions,
                    "Key": session_key(session_id),
                    "UpdateExpression": "SET listenerCount = "
                    "if_not_exists(listenerCount, :zero) + :one, languageCounts.#lang = "
                    "if_not_exists(languageCounts.#lang, :zero) + :one",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#lang": connection.language, "#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        token = request_token("admit", connection.connection_id)
        try:
            self._transact("admit listener", items, token)
        except _Cancelled as cancelled:
            if cancelled.failed(0):  # stored already: a retry of this admit
                return self._session_or_raise(session_id)
            if not cancelled.failed(1):
                raise TransientError(f"DynamoDB admit listener: {cancelled}") from cancelled
            self._session_or_raise(session_id)  # not found or ended says so
            raise SessionFull(
                f"session {session_id} is full ({max_listeners} listeners)"
            ) from cancelled
        return self._session_or_raise(session_id)

    # -- remove ----------------------------------------------------------------

    def remove(self, connection_id: str) -> tuple[Connection, Session | None] | None:
        for _ in range(_ATTEMPTS):
            connection = self._connection(connection_id)
            if connection is None:
                return None
            try:
                self._remove(connection, count=True)
            except _Cancelled as cancelled:
                if cancelled.failed(0):  # gone, or switched meanwhile: read again
                    continue
                if not cancelled.failed(1):
                    raise TransientError(f"DynamoDB remove listener: {cancelled}") from cancelled
                # The count is already zero (or the session expired): never go
                # below zero, but still forget the connection.
                try:
                    self._remove(connection, count=False)
                except _Cancelled:
                    continue
            return connection, self._session(connection.session_id)
        return None

    def _remove(self, connection: Connection, *, count: bool) -> None:
        delete = {
            "Delete": {
                "TableName": self._connections,
                "Key": connection_key(connection.connection_id),
                "ConditionExpression": "attribute_exists(connectionId) AND targetLanguage = :lang",
                "ExpressionAttributeValues": {":lang": {"S": connection.language}},
            }
        }
        items: list[dict[str, Any]] = [delete]
        if count:
            update = (
                "SET listenerCount = listenerCount - :one, "
                "languageCounts.#lang = languageCounts.#lang - :one"
            )
            names = {"#lang": connection.language}
            if not connection.audio:  # a captions-only listener leaves that count too
                update += " ADD #co :minus"
                names["#co"] = captions_only_attribute(connection.language)
            items.append(
                {
                    "Update": {
                        "TableName": self._sessions,
                        "Key": session_key(connection.session_id),
                        "UpdateExpression": update,
                        "ConditionExpression": "listenerCount > :zero AND "
                        "languageCounts.#lang > :zero",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {
                            ":zero": {"N": "0"},
                            ":one": {"N": "1"},
                            **({":minus": {"N": "-1"}} if not connection.audio else {}),
                        },
                    }
                }
            )
        # A fresh token per call, not one derived from the id: $disconnect and a 410
        # prune may remove the same connection, and with one token DynamoDB would
        # answer both "done", so both would announce ListenerLeft.
        self._transact("remove listener", items, uuid.uuid4().hex)

    # -- switch ----------------------------------------------------------------

    def switch(self, connection: Connection, new: str) -> Session | None:
        old = connection.language
        session_id = connection.session_id
        if new == old:  # one update cannot both add to and take from one count
            return self._already_switched(connection, new)
        # A fresh token per call: the SDK's retries of THIS call share it, while a
        # later switch back and forth is a new operation (a derived token would
        # make it a silent no-op for 10 minutes).
        token = uuid.uuid4().hex
        try:
            self._switch(connection, new, token, old_counted=True)
        except _Cancelled as cancelled:
            if cancelled.failed(0):
                return self._already_switched(connection, new)
            if not cancelled.failed(1):
                raise TransientError(f"DynamoDB switch listener: {cancelled}") from cancelled
            current = self._session_or_raise(session_id)
            if current.language_counts.get(old, 0) > 0:
                raise TransientError("DynamoDB switch listener: count changed") from cancelled
            # ``old`` is already at zero (counts drifted): count the listener into
            # ``new`` only, so the language it now hears is translated.
            try:
                self._switch(connection, new, uuid.uuid4().hex, old_counted=False)
            except _Cancelled as again:
                if again.failed(0):
                    return self._already_switched(connection, new)
                self._session_or_raise(session_id)
                raise TransientError(f"DynamoDB switch listener: {again}") from again
        return self._session_or_raise(session_id)

    def _switch(self, connection: Connection, new: str, token: str, *, old_counted: bool) -> None:
        old = connection.language
        update = "SET languageCounts.#new = if_not_exists(languageCounts.#new, :zero) + :one"
        condition = "attribute_exists(sessionId) AND #status IN (:active, :created)"
        names = {"#new": new, "#status": "status"}
        values: dict[str, Any] = {
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":active": {"S": "active"},
            ":created": {"S": "created"},
        }
        if old_counted:
            update += ", languageCounts.#old = languageCounts.#old - :one"
            condition += " AND languageCounts.#old > :zero"
            names["#old"] = old
        if not connection.audio:  # its captions-only count moves with it
            update += " ADD #conew :one, #coold :minus"
            names |= {
                "#conew": captions_only_attribute(new),
                "#coold": captions_only_attribute(old),
            }
            values[":minus"] = {"N": "-1"}
        items = [
            {
                "Update": {
                    "TableName": self._connections,
                    "Key": connection_key(connection.connection_id),
                    "UpdateExpression": "SET targetLanguage = :new",
                    "ConditionExpression": "targetLanguage = :old",
                    "ExpressionAttributeValues": {":old": {"S": old}, ":new": {"S": new}},
                }
            },
            {
                "Update": {
                    "TableName": self._sessions,
                    "Key": session_key(connection.session_id),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        self._transact("switch listener", items, token)

    def _already_switched(self, connection: Connection, new: str) -> Session | None:
        current = self._connection(connection.connection_id)
        if current is None or current.language != new:
            return None  # gone, or a concurrent switch took it elsewhere
        return self._session_or_raise(connection.session_id)

    # -- audio on / off ----------------------------------------------------------

    def set_audio(self, connection_id: str, on: bool) -> Session | None:
        for _ in range(_ATTEMPTS):
            connection = self._connection(connection_id)
            if connection is None:
                return None
            if connection.audio == on:  # a retry, or nothing to change
                return self._session(connection.session_id)
            items = [
                {
                    "Update": {
                        "TableName": self._connections,
                        "Key": connection_key(connection_id),
                        "UpdateExpression": "SET audio = :on",
                        # Unchanged language and audio since the read: the count
                        # moves with the state it counts, once.
                        "ConditionExpression": "targetLanguage = :lang AND "
                        "(audio = :was OR (attribute_not_exists(audio) AND :was = :true))",
                        "ExpressionAttributeValues": {
                            ":on": {"BOOL": on},
                            ":was": {"BOOL": connection.audio},
                            ":true": {"BOOL": True},
                            ":lang": {"S": connection.language},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self._sessions,
                        "Key": session_key(connection.session_id),
                        "UpdateExpression": "ADD #co :step",
                        "ConditionExpression": "attribute_exists(sessionId)"
                        + (" AND #co > :zero" if on else ""),
                        "ExpressionAttributeNames": {
                            "#co": captions_only_attribute(connection.language)
                        },
                        "ExpressionAttributeValues": {
                            ":step": {"N": "-1" if on else "1"},
                            **({":zero": {"N": "0"}} if on else {}),
                        },
                    }
                },
            ]
            try:
                self._transact("set listener audio", items, uuid.uuid4().hex)
            except _Cancelled as cancelled:
                if cancelled.failed(0):  # changed meanwhile: read again
                    continue
                if on and cancelled.failed(1):
                    # The count is already zero (drifted): never below zero.
                    self._transact("set listener audio", items[:1], uuid.uuid4().hex)
                    return self._session(connection.session_id)
                raise TransientError(f"DynamoDB set listener audio: {cancelled}") from cancelled
            return self._session(connection.session_id)
        return None

    # -- plumbing --------------------------------------------------------------

    def _transact(self, action: str, items: list[dict[str, Any]], token: str) -> None:
        try:
            self._ddb.transact_write_items(
                TransactItems=items,  # type: ignore[arg-type]
                ClientRequestToken=token,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "TransactionCanceledException":
                raw = exc.response.get("CancellationReasons") or []
                reasons = [str(r.get("Code", "None")) for r in raw]
                if any(code in _RETRYABLE for code in reasons):
                    raise TransientError(f"DynamoDB {action}: TransactionConflict") from exc
                raise _Cancelled(reasons) from exc
            raise dynamodb_error(exc, action) from exc
        except BotoCoreError as exc:
            raise TransientError(f"DynamoDB {action}: {type(exc).__name__}") from exc

    def _connection(self, connection_id: str) -> Connection | None:
        item = consistent_item(
            self._ddb, "get connection", self._connections, connection_key(connection_id)
        )
        return connection_from_item(item) if item else None

    def _session(self, session_id: str) -> Session | None:
        item = consistent_item(self._ddb, "get session", self._sessions, session_key(session_id))
        return session_from_item(item) if item else None

    def _session_or_raise(self, session_id: str) -> Session:
        session = self._session(session_id)
        refused = refusal(session_id, session)
        if refused is not None:
            raise refused
        assert session is not None  # refusal() covers the absent session
        return session
