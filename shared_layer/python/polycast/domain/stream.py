"""One user record of a transcript-stream batch, as the edge hands it to the processor.

The Lambda edge (:mod:`polycast.adapters.aws.kinesis_records`) does the transport's
work — KPL de-aggregation and base64 — so the processor sees only bytes and where
they came from. Parsing the bytes into a :class:`polycast.domain.models.Record` is
the processor's (bad JSON is a rejection with a reason, not a transport failure).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamRecord:
    """``sequence_number`` is the Kinesis record's: a KPL sub-record keeps its parent's
    (plus ``sub_sequence_number``), and that is what ``batchItemFailures`` reports.

    ``undecodable`` says why the edge could not unpack or decode the record (``data``
    is then empty); the processor rejects such a record instead of retrying it.
    """

    sequence_number: str
    data: bytes = b""
    sub_sequence_number: int | None = None
    partition_key: str | None = None
    undecodable: str | None = None

    @property
    def record_id(self) -> str:
        """Unique within the stream: ``<sequenceNumber>`` or ``<sequenceNumber>:<sub>``."""
        if self.sub_sequence_number is None:
            return self.sequence_number
        return f"{self.sequence_number}:{self.sub_sequence_number}"
