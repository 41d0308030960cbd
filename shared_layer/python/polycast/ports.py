"""Ports: what the services need from the world, as Protocols.

Adapters live in ``polycast.adapters.aws`` (boto3), ``polycast_kit.engines``
(Apertium, espeak-ng) and ``polycast_kit.testing`` (fakes for tests).
Adapters raise :class:`polycast.errors.TransientError` for anything worth
retrying and other :class:`polycast.errors.PolycastError` subclasses otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from polycast.domain.glossary import Glossary, GlossaryRef
from polycast.domain.models import AudioRef, Connection, Segment, Session
from polycast.domain.speaker import SpeakerState
from polycast.domain.translation_settings import TranslationSettings


class Translator(Protocol):
    def translate(
        self,
        text: str,
        *,
        source: str,
        target: str,
        settings: TranslationSettings | None = None,
    ) -> str:
        """``settings``: the session's glossary, formality and profanity masking."""
        ...


class Synthesizer(Protocol):
    """Turns SSML into MP3 bytes.

    ``engine`` names the SSML dialect it honours ("neural", "standard" or "espeak"),
    so the SSML generator can leave out what the engine ignores.
    """

    engine: str

    def synthesize(self, ssml: str, *, language: str) -> bytes: ...


class TranslationCacheStore(Protocol):
    """Second cache tier behind the in-memory LRU (DynamoDB CachedTranslations)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, str]: ...

    def put_many(self, items: Mapping[str, str], *, ttl_seconds: int) -> None: ...


class SessionStore(Protocol):
    """The Sessions table. Listener counts are read here and written only by the
    :class:`ListenerRegistry`, together with the connection they count."""

    def get(self, session_id: str) -> Session | None: ...

    def create(
        self,
        session_id: str,
        source_language: str,
        *,
        languages: tuple[str, ...] = (),
        join_code_hash: str | None = None,
    ) -> bool:
        """A session that exists before anyone speaks (status ``created``): listeners
        may connect and wait. True when this call created it (False: it exists)."""
        ...

    def start(
        self, session_id: str, source_language: str, *, join_code_hash: str | None = None
    ) -> bool:
        """Create the session if absent, or start a ``created`` one keeping its
        languages and settings; True when this call started it."""
        ...

    def set_tone(self, session_id: str, *, formality: str | None, profanity: bool) -> None:
        """Store the session's formality and profanity masking; SessionNotFound or
        SessionEnded when it cannot take them."""
        ...

    def put_glossary(self, session_id: str, glossary: Glossary) -> GlossaryRef:
        """Store the glossary beside the session and its reference on the session."""
        ...

    def get_glossary(self, session_id: str) -> Glossary | None: ...

    def end(self, session_id: str, *, reason: str) -> bool:
        """Mark ended; True when this call ended it (False if already ended or absent)."""
        ...

    def next_sequence(self, session_id: str) -> int:
        """Atomically take the next stream-order sequence number; raises
        SessionNotFound for a session that was never started."""
        ...

    def set_paused(self, session_id: str, paused: bool) -> bool:
        """Speaker pause/resume (also activity); True when the state changed."""
        ...

    def touch(self, session_id: str) -> None:
        """Record activity now: pushes back the idle end and the item's TTL."""
        ...

    def stale_sessions(self, *, idle_before: int, started_before: int) -> Iterator[Session]:
        """Active sessions idle since before ``idle_before`` or started before
        ``started_before`` (epoch seconds)."""
        ...

    def end_stale(
        self, session_id: str, *, reason: str, idle_before: int, started_before: int
    ) -> bool:
        """End the session only if it is still active and still stale (no record
        arrived meanwhile); True when this call ended it."""
        ...


class ConnectionStore(Protocol):
    def put(self, connection: Connection) -> None: ...

    def get(self, connection_id: str) -> Connection | None: ...

    def delete(self, connection_id: str) -> Connection | None:
        """Remove and return the connection; None when it was already gone (idempotent)."""
        ...

    def set_paused(self, connection_id: str, paused: bool) -> Connection | None:
        """Listener-side pause; None when the connection is unknown."""
        ...

    def move(self, connection_id: str, *, old: str, new: str) -> Connection | None:
        """Change the connection's language from ``old`` to ``new``; None when it is
        unknown or no longer in ``old`` (a concurrent switch won)."""
        ...

    def listeners(self, session_id: str, language: str | None = None) -> Iterator[list[Connection]]:
        """Pages of the listeners of a session (and language), through the GSI."""
        ...


class ListenerRegistry(Protocol):
    """A listener's connection item and the session's counts, changed together: the
    one way a listener joins, leaves or switches language.

    Each change is ONE write covering both tables (a DynamoDB transaction), so a
    retried request whose first attempt already applied cannot count twice: the
    connection item's condition fails and nothing changes.
    """

    def admit(self, connection: Connection, *, max_listeners: int = 0) -> Session:
        """Store the connection and count it in; the session afterwards.

        Already stored (a retry of this admit): nothing changes. Raises SessionFull
        (``max_listeners`` > 0 reached), SessionEnded or SessionNotFound.
        """
        ...

    def remove(self, connection_id: str) -> tuple[Connection, Session | None] | None:
        """Delete the connection and count it out (never below zero); None when it
        was already gone ($disconnect and a 410 prune may race, requests retry)."""
        ...

    def switch(self, connection: Connection, new: str) -> Session | None:
        """Move the connection and its count from ``connection.language`` to ``new``.

        Already in ``new`` (a retry): nothing changes. None when the connection is
        gone or a concurrent switch moved it elsewhere. Raises SessionEnded or
        SessionNotFound.
        """
        ...

    def set_audio(self, connection_id: str, on: bool) -> Session | None:
        """Audio on, or captions only (off), with the language's captions-only count
        in the same write (never below zero); ``remove`` and ``switch`` keep that
        count too. Already so (a retry): nothing changes. None when the connection
        is gone."""
        ...


class SegmentLog(Protocol):
    """Short per-(session, language) buffer: catch-up after reconnects, and dedupe."""

    def record(self, segment: Segment, *, ttl_seconds: int) -> bool:
        """Store the segment; False when (session, sequence, language) was already recorded."""
        ...

    def mark_delivered(
        self, segment: Segment, *, audience_slice: tuple[int, int] | None = None
    ) -> None:
        """Mark the segment (or one ``(index, count)`` slice of its audience) delivered."""
        ...

    def is_delivered(
        self,
        session_id: str,
        language: str,
        sequence: int,
        *,
        audience_slice: tuple[int, int] | None = None,
    ) -> bool: ...

    def since(
        self, session_id: str, language: str, from_sequence: int, *, limit: int = 100
    ) -> list[Segment]:
        """Segments with sequence > from_sequence, in order."""
        ...


class AudioStore(Protocol):
    """S3 for audio too large to travel inline, and the synthesized-audio cache."""

    def put(self, key: str, data: bytes, *, content_type: str = "audio/mpeg") -> AudioRef: ...

    def get(self, key: str) -> bytes | None: ...

    def url(self, ref: AudioRef, *, expires_in: int = 3600) -> str: ...


@dataclass
class PublishResult:
    published: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


class EventPublisher(Protocol):
    def publish(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> PublishResult:
        """Publish (detail-type, detail) pairs, in PutEvents batches of at most 10."""
        ...


class Sender(Protocol):
    """Delivers a message to one listener connection (API Gateway PostToConnection)."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Raises ConnectionGone on 410, TransientError on throttling or 5xx."""
        ...

    def close(self, connection_id: str) -> None: ...


# -- the speaker side -------------------------------------------------------------------


class SpeakerStore(Protocol):
    """The speaker's own state: key hash, live connection, last sequence acknowledged."""

    def get(self, session_id: str) -> SpeakerState | None: ...

    def set_key(self, session_id: str, key_hash: str) -> bool:
        """Store the speaker key's hash on a session not ended; False when none."""
        ...

    def claim(self, session_id: str, connection_id: str, *, replacing: str | None) -> bool:
        """Become the session's speaker connection: only when there is none, or when it
        is still ``replacing`` (a connection found gone). False when another holds it."""
        ...

    def release(self, connection_id: str) -> str | None:
        """Forget a speaker connection; its session id, or None if it was no speaker."""
        ...

    def session_of(self, connection_id: str) -> str | None: ...

    def acknowledge(self, session_id: str, sequence: int) -> None:
        """Raise the last sequence acknowledged to ``sequence`` (never lower it)."""
        ...


class Presence(Protocol):
    """Is a WebSocket connection still open? (API Gateway GetConnection.)"""

    def is_connected(self, connection_id: str) -> bool: ...


class RecordWriter(Protocol):
    """Writes records to the transcript stream, all under one partition key."""

    def put(self, partition_key: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Several records go as one KPL aggregate; raises TransientError to retry."""
        ...


class TranscribeSigner(Protocol):
    def sign(self, language_code: str, sample_rate: int) -> tuple[str, int]:
        """A presigned streaming URL and its lifetime in seconds."""
        ...
