"""DynamoDB ConnectionStore on the Connections table.

Item: ``connectionId`` (pk), ``sessionId``, ``targetLanguage``, ``connectedAt``,
``paused``, ``expiresAt`` (TTL). API Gateway closes a connection after 2 hours, so
the TTL sweeps items whose ``$disconnect`` never arrived. The broadcaster finds the
listeners of a (session, language) through the GSI ``sessionId-targetLanguage-index``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from polycast import wiring
from polycast.domain.models import Connection
from polycast.errors import PolycastError, TransientError
from polycast.ports import ListenerRegistry, SessionStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# API Gateway's 2 h connection limit, plus a margin for a late $disconnect.
CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60
LISTENERS_INDEX = wiring.CONNECTIONS.indexes[0].name

_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def dynamodb_error(exc: ClientError, action: str) -> PolycastError:
    """Map a DynamoDB ClientError to the domain: throttling and 5xx are transient."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _TRANSIENT_CODES or status >= 500:
        return TransientError(f"DynamoDB {action}: {code or status}")
    return PolycastError(f"DynamoDB {action}: {code or status}")


def _to_item(connection: Connection, expires_at: int) -> dict[str, Any]:
    return {
        "connectionId": {"S": connection.connection_id},
        "sessionId": {"S": connection.session_id},
        "targetLanguage": {"S": connection.language},
        "connectedAt": {"N": str(connection.connected_at)},
        "paused": {"BOOL": connection.paused},
        "expiresAt": {"N": str(expires_at)},
    }


def _from_item(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        session_id=item["sessionId"]["S"],
        language=item["targetLanguage"]["S"],
        connected_at=int(item.get("connectedAt", {}).get("N", "0")),
        paused=bool(item.get("paused", {}).get("BOOL", False)),
    )


class DynamoConnectionStore:
    """Connections in DynamoDB; ``listeners`` pages through the GSI."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        ttl_seconds: int = CONNECTION_TTL_SECONDS,
        page_size: int = 1000,
    ) -> None:
        self._ddb = client
        self._table = table_name
        self._ttl = ttl_seconds
        self._page_size = page_size

    def listener_registry(self, sessions: SessionStore) -> ListenerRegistry | None:
        """The transactional registry over this table and ``sessions``' table, when
        both are DynamoDB tables reached through one client."""
        from polycast.adapters.aws.listeners import DynamoListenerRegistry
        from polycast.adapters.aws.sessions import DynamoSessionStore

        if not isinstance(sessions, DynamoSessionStore):
            return None
        return DynamoListenerRegistry(
            self._ddb,
            connections_table=self._table,
            sessions_table=sessions.table_name,
            ttl_seconds=self._ttl,
        )

    def put(self, connection: Connection) -> None:
        start = connection.connected_at or int(time.time())
        try:
            self._ddb.put_item(TableName=self._table, Item=_to_item(connection, start + self._ttl))
        except ClientError as exc:
            raise dynamodb_error(exc, "put connection") from exc

    def get(self, connection_id: str) -> Connection | None:
        try:
            out = self._ddb.get_item(
                TableName=self._table,
                Key={"connectionId": {"S": connection_id}},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise dynamodb_error(exc, "get connection") from exc
        item = out.get("Item")
        return _from_item(item) if item else None

    def delete(self, connection_id: str) -> Connection | None:
        """Delete and return the old item: the caller decrements counts only once."""
        try:
            out = self._ddb.delete_item(
                TableName=self._table,
                Key={"connectionId": {"S": connection_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            raise dynamodb_error(exc, "delete connection") from exc
        old = out.get("Attributes")
        return _from_item(old) if old else None

    def set_paused(self, connection_id: str, paused: bool) -> Connection | None:
        """One conditional UpdateItem; None when the connection is unknown."""
        return self._update(
            connection_id,
            "SET paused = :paused",
            "attribute_exists(connectionId)",
            {":paused": {"BOOL": paused}},
            "pause connection",
        )

    def move(self, connection_id: str, *, old: str, new: str) -> Connection | None:
        """Moves the item to another language (its GSI sort key: the index follows)."""
        return self._update(
            connection_id,
            "SET targetLanguage = :new",
            "targetLanguage = :old",
            {":old": {"S": old}, ":new": {"S": new}},
            "move connection",
        )

    def _update(
        self,
        connection_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        action: str,
    ) -> Connection | None:
        try:
            out = self._ddb.update_item(
                TableName=self._table,
                Key={"connectionId": {"S": connection_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise dynamodb_error(exc, action) from exc
        return _from_item(out["Attributes"])

    def listeners(self, session_id: str, language: str | None = None) -> Iterator[list[Connection]]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": LISTENERS_INDEX,
            "Limit": self._page_size,
        }
        if language is None:
            params["KeyConditionExpression"] = "sessionId = :s"
            params["ExpressionAttributeValues"] = {":s": {"S": session_id}}
        else:
            params["KeyConditionExpression"] = "sessionId = :s AND targetLanguage = :l"
            params["ExpressionAttributeValues"] = {
                ":s": {"S": session_id},
                ":l": {"S": language},
            }
        while True:
            try:
                out = self._ddb.query(**params)
            except ClientError as exc:
                raise dynamodb_error(exc, "query listeners") from exc
            page = [_from_item(item) for item in out.get("Items", [])]
            if page:
                yield page
            last = out.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last
