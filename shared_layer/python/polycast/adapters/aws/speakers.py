"""The speaker's state on DynamoDB, its connection's presence, and the URL signer.

``DynamoSpeakerStore`` keeps the speaker's part of the Sessions item —
``speakerKeyHash``, ``speakerConnectionId``, ``speakerSequence`` (the last sequence
acknowledged) — and one Connections item per speaker connection, keyed
``speaker#<connectionId>`` with the ``sessionId`` and no ``targetLanguage``: no
listener lookup finds it and the listeners' index never holds it, while the speaker
function learns from it which session a connection speaks for.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.items import (
    CONNECTION_TTL_SECONDS,
    conditional_failed,
    dynamodb_call,
)
from polycast.adapters.aws.sender import sender_error
from polycast.adapters.aws.transcribe_url import presign
from polycast.domain.speaker import SPEAKER_ITEM_PREFIX, SpeakerState
from polycast.errors import ConnectionGone, TransientError

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient

_SPEAKER_FIELDS = (
    "sessionId, #status, sourceLanguage, speakerKeyHash, speakerConnectionId, speakerSequence"
)


def _speaker_key(connection_id: str) -> dict[str, Any]:
    return {"connectionId": {"S": SPEAKER_ITEM_PREFIX + connection_id}}


class DynamoSpeakerStore:
    def __init__(self, client: DynamoDBClient, *, sessions_table: str, connections_table: str):
        self._ddb = client
        self._sessions = sessions_table
        self._connections = connections_table

    def _conditional(self, action: str, method: Any, **params: Any) -> bool:
        try:
            dynamodb_call(action, method, **params)
        except ClientError as exc:  # only a failed condition gets here
            if conditional_failed(exc):
                return False
            raise
        return True

    def get(self, session_id: str) -> SpeakerState | None:
        out = dynamodb_call(
            "get speaker",
            self._ddb.get_item,
            TableName=self._sessions,
            Key={"sessionId": {"S": session_id}},
            ProjectionExpression=_SPEAKER_FIELDS,
            ExpressionAttributeNames={"#status": "status"},
            ConsistentRead=True,
        )
        item = out.get("Item")
        if not item:
            return None
        return SpeakerState(
            session_id=item["sessionId"]["S"],
            source_language=item.get("sourceLanguage", {}).get("S", "en"),
            status=item.get("status", {}).get("S", "active"),
            key_hash=item.get("speakerKeyHash", {}).get("S"),
            connection_id=item.get("speakerConnectionId", {}).get("S"),
            last_sequence=int(item.get("speakerSequence", {}).get("N", "0")),
        )

    def set_key(self, session_id: str, key_hash: str) -> bool:
        return self._conditional(
            "set speaker key",
            self._ddb.update_item,
            TableName=self._sessions,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET speakerKeyHash = :hash",
            ConditionExpression="attribute_exists(sessionId) AND #status <> :ended",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":hash": {"S": key_hash}, ":ended": {"S": "ended"}},
        )

    def claim(self, session_id: str, connection_id: str, *, replacing: str | None) -> bool:
        condition = "attribute_not_exists(speakerConnectionId)"
        values: dict[str, Any] = {":c": {"S": connection_id}}
        if replacing:
            condition = f"({condition} OR speakerConnectionId = :old)"
            values[":old"] = {"S": replacing}
        claimed = self._conditional(
            "claim speaker",
            self._ddb.update_item,
            TableName=self._sessions,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET speakerConnectionId = :c",
            ConditionExpression=f"attribute_exists(sessionId) AND {condition}",
            ExpressionAttributeValues=values,
        )
        if not claimed:
            return False
        now = int(time.time())
        dynamodb_call(
            "put speaker connection",
            self._ddb.put_item,
            TableName=self._connections,
            Item={
                **_speaker_key(connection_id),
                "sessionId": {"S": session_id},
                "role": {"S": "speaker"},
                "connectedAt": {"N": str(now)},
                "expiresAt": {"N": str(now + CONNECTION_TTL_SECONDS)},
            },
        )
        if replacing:
            dynamodb_call(
                "forget stale speaker",
                self._ddb.delete_item,
                TableName=self._connections,
                Key=_speaker_key(replacing),
            )
        return True

    def release(self, connection_id: str) -> str | None:
        out = dynamodb_call(
            "delete speaker connection",
            self._ddb.delete_item,
            TableName=self._connections,
            Key=_speaker_key(connection_id),
            ReturnValues="ALL_OLD",
        )
        item = out.get("Attributes")
        if not item:
            return None
        session_id: str = item["sessionId"]["S"]
        self._conditional(
            "release speaker",
            self._ddb.update_item,
            TableName=self._sessions,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="REMOVE speakerConnectionId",
            ConditionExpression="speakerConnectionId = :c",
            ExpressionAttributeValues={":c": {"S": connection_id}},
        )
        return session_id

    def session_of(self, connection_id: str) -> str | None:
        out = dynamodb_call(
            "get speaker connection",
            self._ddb.get_item,
            TableName=self._connections,
            Key=_speaker_key(connection_id),
            ConsistentRead=True,
        )
        item = out.get("Item")
        return item["sessionId"]["S"] if item else None

    def acknowledge(self, session_id: str, sequence: int) -> None:
        self._conditional(
            "acknowledge sequence",
            self._ddb.update_item,
            TableName=self._sessions,
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET speakerSequence = :s",
            ConditionExpression="attribute_exists(sessionId) AND "
            "(attribute_not_exists(speakerSequence) OR speakerSequence < :s)",
            ExpressionAttributeValues={":s": {"N": str(sequence)}},
        )


class ApiGatewayPresence:
    """GetConnection on the management API: 410 Gone means the connection is closed."""

    def __init__(self, client: ApiGatewayManagementApiClient) -> None:
        self._client = client

    def is_connected(self, connection_id: str) -> bool:
        try:
            self._client.get_connection(ConnectionId=connection_id)
        except ClientError as exc:
            err = sender_error(exc)
            if isinstance(err, ConnectionGone):
                return False
            raise err from exc
        except BotoCoreError as exc:
            raise TransientError(f"GetConnection: {type(exc).__name__}") from exc
        return True


class CredentialsSigner:
    """Signs Transcribe streaming URLs with the function's own role (``get_credentials``)."""

    def __init__(self, session: Any, region: str, *, endpoint: str | None = None) -> None:
        self._session = session
        self._region = region
        self._endpoint = endpoint or None

    def sign(self, language_code: str, sample_rate: int) -> tuple[str, int]:
        signed = presign(
            self._session.get_credentials(),
            self._region,
            language_code,
            sample_rate,
            endpoint=self._endpoint,
        )
        return signed.url, signed.expires_in
