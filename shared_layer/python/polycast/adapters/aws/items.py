"""DynamoDB items and errors, shared by every table adapter.

The codecs (a :class:`Connection` or a :class:`Session` to and from its item) and
the mapping of a ``ClientError`` to the domain live here, so the store adapters and
the transactional :mod:`.listeners` registry import them without importing each
other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.domain.glossary import GlossaryRef
from polycast.domain.models import Connection, Session
from polycast.errors import PolycastError, SessionEnded, SessionNotFound, TransientError

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


def dynamodb_call(action: str, method: Callable[..., Any], /, **params: Any) -> Any:
    """One DynamoDB call, its failures in the domain's terms.

    A refused ``ConditionExpression`` is re-raised as the ``ClientError`` it is (an
    answer, read with :func:`conditional_failed`); any other ``ClientError`` goes
    through :func:`dynamodb_error`; a ``BotoCoreError`` (a timeout or a connection
    error botocore gave up on after its retries) is a :class:`TransientError`, like
    a 5xx. Raw, it slipped past callers that handle the domain's errors: a
    broadcaster whose "delivered" mark timed out failed after its fan-out, and the
    retried event fanned out again.
    """
    try:
        return method(**params)
    except ClientError as exc:
        if conditional_failed(exc):
            raise
        raise dynamodb_error(exc, action) from exc
    except BotoCoreError as exc:
        raise TransientError(f"DynamoDB {action}: {type(exc).__name__}") from exc


def consistent_item(
    client: Any, action: str, table: str, key: dict[str, Any]
) -> dict[str, Any] | None:
    """One item by its key (a strongly consistent GetItem), or None."""
    out = dynamodb_call(action, client.get_item, TableName=table, Key=key, ConsistentRead=True)
    item: dict[str, Any] | None = out.get("Item")
    return item


def conditional_failed(exc: ClientError) -> bool:
    """A write refused by its ConditionExpression (not an error: an answer)."""
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def refusal(session_id: str, session: Session | None) -> PolycastError | None:
    """Why a write conditioned on an active session was refused: absent or ended.

    None when the session is active (the refusal had another cause, e.g. the cap).
    """
    if session is None:
        return SessionNotFound(f"no session {session_id}")
    if session.status == "ended":
        return SessionEnded(f"session {session_id} has ended")
    return None


# -- Connections table ------------------------------------------------------------------

# API Gateway's 2 h connection limit, plus a margin for a late $disconnect: the TTL
# sweeps items whose ``$disconnect`` never arrived.
CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60


def connection_key(connection_id: str) -> dict[str, Any]:
    return {"connectionId": {"S": connection_id}}


def connection_to_item(connection: Connection, expires_at: int) -> dict[str, Any]:
    return {
        **connection_key(connection.connection_id),
        "sessionId": {"S": connection.session_id},
        "targetLanguage": {"S": connection.language},
        "connectedAt": {"N": str(connection.connected_at)},
        "paused": {"BOOL": connection.paused},
        "audio": {"BOOL": connection.audio},
        "expiresAt": {"N": str(expires_at)},
    }


def connection_from_item(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item["connectionId"]["S"],
        session_id=item["sessionId"]["S"],
        language=item["targetLanguage"]["S"],
        connected_at=int(item.get("connectedAt", {}).get("N", "0")),
        paused=bool(item.get("paused", {}).get("BOOL", False)),
        audio=bool(item.get("audio", {}).get("BOOL", True)),
    )


# -- Sessions table ---------------------------------------------------------------------


# Per-language captions-only counts live in top-level attributes
# ``captionsOnly:<language>``: an ADD on a nested map path needs the map to exist
# first, which items written before this attribute existed do not have.
CAPTIONS_ONLY_PREFIX = "captionsOnly:"


def captions_only_attribute(language: str) -> str:
    return CAPTIONS_ONLY_PREFIX + language


def session_key(session_id: str) -> dict[str, Any]:
    return {"sessionId": {"S": session_id}}


def session_from_item(item: dict[str, Any]) -> Session:
    counts = {
        lang: int(value.get("N", "0"))
        for lang, value in (item.get("languageCounts", {}).get("M") or {}).items()
    }
    captions_only = {
        name.removeprefix(CAPTIONS_ONLY_PREFIX): int(value.get("N", "0"))
        for name, value in item.items()
        if name.startswith(CAPTIONS_ONLY_PREFIX)
    }
    status = item.get("status", {}).get("S", "active")
    if status not in ("created", "ended"):
        status = "active"
    created_at = int(item.get("createdAt", {}).get("N", "0"))
    return Session(
        session_id=item["sessionId"]["S"],
        source_language=item.get("sourceLanguage", {}).get("S", "en"),
        status=status,
        listener_count=int(item.get("listenerCount", {}).get("N", "0")),
        language_counts=counts,
        last_sequence=int(item.get("lastSequence", {}).get("N", "0")),
        join_code_hash=item.get("joinCodeHash", {}).get("S"),
        paused=bool(item.get("paused", {}).get("BOOL", False)),
        created_at=created_at,
        last_activity_at=int(item.get("lastActivityAt", {}).get("N", "0")) or created_at,
        languages=tuple(v.get("S", "") for v in item.get("languages", {}).get("L", [])),
        formality=item.get("formality", {}).get("S"),
        profanity=bool(item.get("profanity", {}).get("BOOL", False)),
        glossary=glossary_ref_from_item(item.get("glossary", {}).get("M")),
        ended_at=int(item.get("endedAt", {}).get("N", "0")),
        end_reason=item.get("endReason", {}).get("S"),
        captions_only_counts=captions_only,
    )


def glossary_ref_to_item(ref: GlossaryRef) -> dict[str, Any]:
    return {
        "M": {
            "name": {"S": ref.name},
            "digest": {"S": ref.digest},
            "terms": {"N": str(ref.terms)},
            "languages": {"L": [{"S": code} for code in ref.languages]},
        }
    }


def glossary_ref_from_item(value: dict[str, Any] | None) -> GlossaryRef | None:
    if not value:
        return None
    return GlossaryRef(
        name=value["name"]["S"],
        digest=value["digest"]["S"],
        terms=int(value.get("terms", {}).get("N", "0")),
        languages=tuple(v["S"] for v in value.get("languages", {}).get("L", [])),
    )


def glossary_key(session_id: str) -> dict[str, Any]:
    """The glossary's own item in the Sessions table, beside its session's.

    ``#`` is outside the session-id pattern, so no session can have this key; the
    item has no ``status``, so the sweeper's scan never returns it."""
    return {"sessionId": {"S": f"{session_id}#glossary"}}
