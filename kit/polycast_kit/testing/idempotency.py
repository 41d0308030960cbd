"""In-memory Powertools idempotency persistence (the DynamoDB layer's stand-in).

Same conditional-put semantics as ``DynamoDBPersistenceLayer``: a key can be taken
when absent, expired, or left INPROGRESS past its in-progress expiry.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord


class MemoryPersistenceLayer(BasePersistenceLayer):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.records: dict[str, DataRecord] = {}
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        now = dt.datetime.now()
        with self._lock:
            old = self.records.get(data_record.idempotency_key)
            if old is not None and not _takeable(old, now):
                raise IdempotencyItemAlreadyExistsError(old_data_record=old)
            self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)

    def completed(self) -> list[Any]:
        with self._lock:
            return [r for r in self.records.values() if r.status == "COMPLETED"]


def _takeable(old: DataRecord, now: dt.datetime) -> bool:
    if old.expiry_timestamp is not None and old.expiry_timestamp < int(now.timestamp()):
        return True
    in_progress_expiry = old.in_progress_expiry_timestamp
    return (
        old.status == "INPROGRESS"
        and in_progress_expiry is not None
        and in_progress_expiry < int(now.timestamp() * 1000)
    )
