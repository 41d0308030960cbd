"""TranslationCacheStore on the CachedTranslations table (TTL ``expiresAt``).

``get_many`` is one BatchGetItem for up to 100 keys (every language of a
segment); ``put_many`` BatchWriteItem in chunks of 25. Unprocessed keys and items
(throttling) are retried a few times; DynamoDB deletes expired items lazily, so
reads also drop items past ``expiresAt``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.items import dynamodb_error
from polycast.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_GET_KEYS = 100
MAX_WRITE_ITEMS = 25
ATTEMPTS = 3


class DynamoTranslationCacheStore:
    def __init__(
        self, client: DynamoDBClient, table_name: str, *, backoff_seconds: float = 0.05
    ) -> None:
        self._ddb = client
        self._table = table_name
        self._backoff = backoff_seconds
        self.requests = 0  # calls made, for the requests-per-segment benchmark

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        now = int(time.time())
        for start in range(0, len(unique), MAX_GET_KEYS):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [{"cacheKey": {"S": k}} for k in unique[start : start + MAX_GET_KEYS]],
                    # "translation" is a DynamoDB reserved word.
                    "ProjectionExpression": "#k, #t, #e",
                    "ExpressionAttributeNames": {
                        "#k": "cacheKey",
                        "#t": "translation",
                        "#e": "expiresAt",
                    },
                }
            }
            for attempt in range(ATTEMPTS):
                if attempt:
                    time.sleep(self._backoff * 2 ** (attempt - 1))
                out = self._batch(
                    "get translations", self._ddb.batch_get_item, RequestItems=request
                )
                for item in out.get("Responses", {}).get(self._table, []):
                    expires = int(item.get("expiresAt", {}).get("N", "0") or 0)
                    if expires and expires < now:
                        continue
                    found[item["cacheKey"]["S"]] = item["translation"]["S"]
                request = out.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None:
        expires = str(int(time.time()) + ttl_seconds)
        rows = [
            {
                "PutRequest": {
                    "Item": {
                        "cacheKey": {"S": key},
                        "translation": {"S": value},
                        "expiresAt": {"N": expires},
                    }
                }
            }
            for key, value in items.items()
        ]
        for start in range(0, len(rows), MAX_WRITE_ITEMS):
            request: dict[str, Any] = {self._table: rows[start : start + MAX_WRITE_ITEMS]}
            for attempt in range(ATTEMPTS):
                if attempt:
                    time.sleep(self._backoff * 2 ** (attempt - 1))
                out = self._batch(
                    "put translations", self._ddb.batch_write_item, RequestItems=request
                )
                request = out.get("UnprocessedItems") or {}
                if not request:
                    break
            if request:
                raise TransientError("DynamoDB left translations unwritten after retries")

    def _batch(self, action: str, method: Any, **params: Any) -> Any:
        self.requests += 1
        try:
            return method(**params)
        except ClientError as exc:
            raise dynamodb_error(exc, action) from exc
        except BotoCoreError as exc:
            raise TransientError(f"DynamoDB {action}: {type(exc).__name__}") from exc
