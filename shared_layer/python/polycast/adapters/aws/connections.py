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
from polycast.adapters.aws.items import (
    CONNECTION_TTL_SECONDS,
    connection_from_item,
    connection_key,
    connection_to_item,
    consistent_item,
    dynamodb_call,
)
from polycast.domain.models import Connection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LISTENERS_INDEX = wiring.CONNECTIONS.indexes[0].name


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

    @property
    def table_name(self) -> str:
        return self._table

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def put(self, connection: Connection) -> None:
        start = connection.connected_at or int(time.time())
        dynamodb_call(
            "put connection",
            self._ddb.put_item,
            TableName=self._table,
            Item=connection_to_item(connection, start + self._ttl),
        )

    def get(self, connection_id: str) -> Connection | None:
        item = consistent_item(
            self._ddb, "get connection", self._table, connection_key(connection_id)
        )
        return connection_from_item(item) if item else None

    def delete(self, connection_id: str) -> Connection | None:
        """Delete and return the old item: the caller decrements counts only once."""
        out = dynamodb_call(
            "delete connection",
            self._ddb.delete_item,
            TableName=self._table,
            Key=connection_key(connection_id),
            ReturnValues="ALL_OLD",
        )
        old = out.get("Attributes")
        return connection_from_item(old) if old else None

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
            out = dynamodb_call(
                action,
                self._ddb.update_item,
                TableName=self._table,
                Key=connection_key(connection_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError:  # only a refused condition: unknown, or moved already
            return None
        return connection_from_item(out["Attributes"])

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
            out = dynamodb_call("query listeners", self._ddb.query, **params)
            page = [connection_from_item(item) for item in out.get("Items", [])]
            if page:
                yield page
            last = out.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last
