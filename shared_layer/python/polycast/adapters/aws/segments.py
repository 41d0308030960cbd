"""DynamoDB SegmentLog on the Segments table.

Item: ``stream`` = ``"<sessionId>#<language>"`` (pk), ``sequence`` (sk, N),
``payload`` (the segment as its SegmentReady detail, JSON), ``delivered`` (BOOL),
``deliveredSlices`` (SS of ``"index/count"``, for audiences split across
broadcasters), ``expiresAt`` (TTL). One partition per (session, language) makes catch-up a single
range query, and the conditional put is the broadcaster's duplicate check.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from polycast.adapters.aws.items import dynamodb_call
from polycast.domain.events import segment_from_detail, segment_ready
from polycast.domain.models import Segment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def stream_key(session_id: str, language: str) -> str:
    return f"{session_id}#{language}"


def slice_mark(audience_slice: tuple[int, int]) -> str:
    return f"{audience_slice[0]}/{audience_slice[1]}"


class DynamoSegmentLog:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def record(self, segment: Segment, *, ttl_seconds: int) -> bool:
        item: dict[str, Any] = {
            "stream": {"S": stream_key(segment.session_id, segment.language)},
            "sequence": {"N": str(segment.sequence)},
            "payload": {"S": json.dumps(segment_ready(segment), separators=(",", ":"))},
            "delivered": {"BOOL": False},
            "expiresAt": {"N": str(int(time.time()) + ttl_seconds)},
        }
        try:
            dynamodb_call(
                "record segment",
                self._ddb.put_item,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(#s)",
                ExpressionAttributeNames={"#s": "stream"},
            )
        except ClientError:  # only a refused condition: recorded before
            return False
        return True

    def mark_delivered(
        self, segment: Segment, *, audience_slice: tuple[int, int] | None = None
    ) -> None:
        """The whole segment sets ``delivered``; a slice adds ``"index/count"`` to
        ``deliveredSlices`` (a string set), so each slice is deduplicated on its own."""
        if audience_slice is None:
            update = "SET delivered = :t"
            values: dict[str, Any] = {":t": {"BOOL": True}}
        else:
            update = "ADD deliveredSlices :s"
            values = {":s": {"SS": [slice_mark(audience_slice)]}}
        dynamodb_call(
            "mark segment delivered",
            self._ddb.update_item,
            TableName=self._table,
            Key={
                "stream": {"S": stream_key(segment.session_id, segment.language)},
                "sequence": {"N": str(segment.sequence)},
            },
            UpdateExpression=update,
            ExpressionAttributeValues=values,
        )

    def is_delivered(
        self,
        session_id: str,
        language: str,
        sequence: int,
        *,
        audience_slice: tuple[int, int] | None = None,
    ) -> bool:
        out = dynamodb_call(
            "read segment",
            self._ddb.get_item,
            TableName=self._table,
            Key={
                "stream": {"S": stream_key(session_id, language)},
                "sequence": {"N": str(sequence)},
            },
            ProjectionExpression="delivered, deliveredSlices",
            ConsistentRead=True,
        )
        item = out.get("Item") or {}
        if audience_slice is None:
            return bool(item.get("delivered", {}).get("BOOL", False))
        return slice_mark(audience_slice) in item.get("deliveredSlices", {}).get("SS", [])

    def since(
        self, session_id: str, language: str, from_sequence: int, *, limit: int = 100
    ) -> list[Segment]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#s = :s AND #q > :q",
            "ExpressionAttributeNames": {"#s": "stream", "#q": "sequence"},
            "ExpressionAttributeValues": {
                ":s": {"S": stream_key(session_id, language)},
                ":q": {"N": str(from_sequence)},
            },
            "ScanIndexForward": True,
            "Limit": limit,
        }
        out: list[Segment] = []
        while len(out) < limit:
            page = dynamodb_call("query segments", self._ddb.query, **params)
            for item in page.get("Items", []):
                out.append(segment_from_detail(json.loads(item["payload"]["S"])))
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            params["ExclusiveStartKey"] = last
            params["Limit"] = limit - len(out)
        return out[:limit]
