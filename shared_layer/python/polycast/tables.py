"""The state's DynamoDB tables: keys, indexes, TTL, and the variable carrying each name.

Part of the wiring: ``polycast.wiring`` re-exports every name here (read them as
``wiring.SESSIONS``, ``wiring.Table``, …), so the CDK app, the local runtime and the
drift test see one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from polycast.names import Env

KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: Key
    sort_key: Key | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table. ``env_var`` carries its name into the functions."""

    logical_id: str
    env_var: str
    local_name: str
    partition_key: Key
    sort_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None


SESSIONS = Table(
    "Sessions",
    Env.SESSIONS_TABLE_NAME,
    "polycast-sessions",
    Key("sessionId"),
    ttl_attribute="expiresAt",
)
CONNECTIONS = Table(
    "Connections",
    Env.CONNECTIONS_TABLE_NAME,
    "polycast-connections",
    Key("connectionId"),
    indexes=(Index("sessionId-targetLanguage-index", Key("sessionId"), Key("targetLanguage")),),
    ttl_attribute="expiresAt",
)
CACHED_TRANSLATIONS = Table(
    "CachedTranslations",
    Env.CACHED_TRANSLATIONS_TABLE_NAME,
    "polycast-cached-translations",
    Key("cacheKey"),
    ttl_attribute="expiresAt",
)
# Per (session, language) segment buffer: catch-up after a reconnect, and the
# broadcaster's duplicate check. pk = "<sessionId>#<language>", sk = sequence.
SEGMENTS = Table(
    "Segments",
    Env.SEGMENTS_TABLE_NAME,
    "polycast-segments",
    Key("stream"),
    Key("sequence", "N"),
    ttl_attribute="expiresAt",
)
# Powertools idempotency persistence (processor: one record per session + sequence).
IDEMPOTENCY = Table(
    "Idempotency",
    Env.IDEMPOTENCY_TABLE_NAME,
    "polycast-idempotency",
    Key("id"),
    ttl_attribute="expiration",
)
TABLES: tuple[Table, ...] = (SESSIONS, CONNECTIONS, CACHED_TRANSLATIONS, SEGMENTS, IDEMPOTENCY)
