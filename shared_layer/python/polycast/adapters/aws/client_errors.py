"""What a botocore ``ClientError`` says, read once: its code and HTTP status, and the
throttling and server failures Translate and Polly answer alike.

botocore has retried these already (``clients.py``); what reaches an adapter is mapped
to the domain's errors here, so the services can tell "worth a retry later" from "wrong".
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from polycast.errors import PolycastError, Throttled, TransientError

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)


def error_code(exc: ClientError) -> tuple[str, int]:
    """The error's code (``""`` when absent) and HTTP status (``0`` when absent)."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def retryable(
    service: str, code: str, status: int, transient_codes: frozenset[str]
) -> PolycastError | None:
    """Throttling (or 429) → :class:`Throttled`; the service's transient codes (or 5xx) →
    :class:`TransientError`; anything else is the request's own fault: ``None``."""
    if code in THROTTLING_CODES or status == 429:
        return Throttled(f"{service}: {code or status}")
    if code in transient_codes or status >= 500:
        return TransientError(f"{service}: {code or status}")
    return None
