"""Listener connections: who may join, the counts the processor reads, and actions.

``$connect`` is where a listener is refused, with an HTTP status and a stable code
(the gateway shows both); :meth:`ConnectionService.admit` is the same decision with
no side effects, so the session check (``GET /sessions/{id}``) can answer it too.
Once connected, every answer travels as a message through the Sender, because API
Gateway sends a route's response only when a route response is configured and a
catch-up is many messages anyway. Every action is answered: an ``ack`` naming the
action, or an ``error`` with a code. An action's body is checked against its JSON
Schema (``schemas/actions/<action>.json``) before anything else: a missing field is
``MISSING_FIELD``, anything else that does not match ``BAD_REQUEST``, each with a
message naming the field.

Listeners may always hear the session's source language (no translation), besides
the supported target languages.

Join codes are stored as ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``
(PBKDF2-HMAC-SHA256, 16-byte random salt) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

from jsonschema import ValidationError

from polycast import schemas
from polycast.domain import events, messages
from polycast.domain.languages import LANGUAGE_CODE
from polycast.domain.models import Connection, Session
from polycast.domain.session_ids import is_session_id
from polycast.errors import (
    BadRequest,
    ConnectionGone,
    JoinCodeInvalid,
    JoinCodeRequired,
    MissingField,
    PolycastError,
    SessionEnded,
    SessionFull,
    SessionNotFound,
    UnsupportedLanguage,
)
from polycast.ports import (
    AudioStore,
    ConnectionStore,
    EventPublisher,
    ListenerRegistry,
    SegmentLog,
    Sender,
    SessionStore,
)
from polycast.services.broadcaster import encode_segment
from polycast.wiring import LISTENER_ACTIONS, Action

logger = logging.getLogger(__name__)

JOIN_CODE_ITERATIONS = 100_000
MAX_JOIN_CODE_CHARS = 128
CATCH_UP_LIMIT = 100
ACTIONS = LISTENER_ACTIONS


def hash_join_code(
    code: str, *, salt: bytes | None = None, iterations: int = JOIN_CODE_ITERATIONS
) -> str:
    """The stored form of a join code: salted PBKDF2-HMAC-SHA256."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def join_code_matches(code: str, stored: str) -> bool:
    """Constant-time check of ``code`` against :func:`hash_join_code`'s output."""
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", code.encode("utf-8"), bytes.fromhex(salt_hex), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


class ConnectionService:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        connections: ConnectionStore,
        listeners: ListenerRegistry,
        segments: SegmentLog,
        sender: Sender,
        publisher: EventPublisher,
        supported_languages: Collection[str],
        audio: AudioStore | None = None,
        max_listeners_per_session: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.connections = connections
        # The connection item and the counts change together (one transaction on
        # DynamoDB), so retried requests cannot count a listener twice.
        self.listeners = listeners
        self.segments = segments
        self.sender = sender
        self.publisher = publisher
        self.supported_languages = frozenset(supported_languages)
        self.audio = audio
        self.max_listeners_per_session = max_listeners_per_session
        self.clock = clock

    # -- $connect / $disconnect --------------------------------------------------

    def admit(self, params: Mapping[str, Any] | None) -> Session:
        """Would ``$connect`` with these parameters be accepted? Reads one Sessions
        item and changes nothing; raises the PolycastError that explains a refusal."""
        params = params or {}
        session_id = _required(params, "sessionId")
        language = _required(params, "targetLanguage")
        if not is_session_id(session_id):
            raise BadRequest("sessionId is not a session id (like golden-eagle-427)")
        if not LANGUAGE_CODE.match(language):
            raise BadRequest("targetLanguage is not a language code (like es)")
        session = self.sessions.get(session_id)
        self._check_language(language, session)
        if session is None:
            raise SessionNotFound(f"no session {session_id!r}")
        if session.status == "ended":
            raise SessionEnded(f"session {session_id!r} has ended")
        self._check_join_code(session, params.get("joinCode"))
        limit = self.max_listeners_per_session
        if limit > 0 and session.listener_count >= limit:
            raise SessionFull(f"session {session_id!r} is full ({limit} listeners)")
        return session

    def _check_language(self, language: str, session: Session | None) -> None:
        """Supported targets, plus the session's source language (heard untranslated)."""
        if language in self.supported_languages:
            return
        if session is not None and language == session.source_language:
            return
        allowed = set(self.supported_languages)
        if session is not None:
            allowed.add(session.source_language)
        listed = ", ".join(sorted(allowed))
        raise UnsupportedLanguage(f"unsupported language {language!r}; supported: {listed}")

    def connect(self, connection_id: str, params: Mapping[str, Any] | None) -> Connection:
        """Admit a listener or raise the PolycastError that explains the refusal.

        The connection item and the counts are ONE write that also checks the
        listener cap, so two connects racing for the last place cannot both get it,
        and a retried write cannot count the listener twice.
        """
        session = self.admit(params)
        session_id = session.session_id
        language = str((params or {})["targetLanguage"])
        connection = Connection(
            connection_id=connection_id,
            session_id=session_id,
            language=language,
            connected_at=int(self.clock()),
        )
        counted = self.listeners.admit(connection, max_listeners=self.max_listeners_per_session)
        self._publish(
            "ListenerJoined",
            events.listener_joined(
                session_id,
                language,
                counted.listener_count,
                counted.language_counts.get(language, 0),
            ),
        )
        logger.info("listener joined", extra={"session_id": session_id, "language": language})
        if session.status == "created":
            # Created but not started: the listener stays and is told why nothing comes
            # yet (the local gateway holds the post until the upgrade completes).
            self.send(
                connection_id,
                messages.session_waiting_message(session_id, session.source_language),
            )
        return connection

    def _check_join_code(self, session: Session, given: object) -> None:
        if not session.join_code_hash:
            return
        if given is None or given == "":
            raise JoinCodeRequired("this session needs a join code")
        if not isinstance(given, str) or len(given) > MAX_JOIN_CODE_CHARS:
            raise JoinCodeInvalid("wrong join code")
        if not join_code_matches(given, session.join_code_hash):
            raise JoinCodeInvalid("wrong join code")

    def disconnect(self, connection_id: str, *, reason: str = "disconnected") -> Connection | None:
        """Forget the connection; a second call (or a 410 prune first) counts nothing."""
        outcome = self.listeners.remove(connection_id)
        if outcome is None:
            return None
        removed, session = outcome
        listener_count = session.listener_count if session else 0
        language_count = session.language_counts.get(removed.language, 0) if session else 0
        self._publish(
            "ListenerLeft",
            events.listener_left(
                removed.session_id, removed.language, listener_count, language_count, reason
            ),
        )
        return removed

    # -- actions -----------------------------------------------------------------

    def act(self, connection_id: str, action: str, body: Mapping[str, Any]) -> None:
        """One listener action (the WebSocket route ``action``): checked against its
        schema, then run. The listener always gets the answer — an ack, or an error,
        which is also raised so the handler can give the route its status."""
        if action not in LISTENER_ACTIONS:
            error = self.unknown_action(connection_id, body.get("action"))
            raise BadRequest(str(error["message"]), code="UNKNOWN_ACTION")
        body = {"action": action, **body}
        try:
            validate_action(action, body)
            if action == Action.PING:
                self.ping(connection_id)
            elif action == Action.CATCH_UP:
                self.catch_up(connection_id, body)
            elif action == Action.SWITCH_LANGUAGE:
                self.switch_language(connection_id, body)
            elif action == Action.PAUSE:
                self.pause(connection_id)
            elif action == Action.AUDIO:
                self.set_audio(connection_id, body)
            else:
                self.resume(connection_id, body)
        except PolycastError as exc:
            self.send_error(connection_id, exc)
            raise

    def ping(self, connection_id: str) -> dict[str, Any]:
        pong = messages.pong_message()
        self.send(connection_id, pong)
        return pong

    def catch_up(self, connection_id: str, body: Mapping[str, Any]) -> int:
        """Resend the segments after ``fromSequence``, in order; returns how many.

        ``body`` has passed its schema (:meth:`act`), like every action's below.
        """
        from_sequence = int(body["fromSequence"])
        connection = self._connection(connection_id)
        later = self.segments.since(
            connection.session_id, connection.language, from_sequence, limit=CATCH_UP_LIMIT
        )
        for segment in later:
            sent = segment if connection.audio else replace(segment, audio=None)
            for frame in encode_segment(sent, audio=self.audio):
                self.sender.post(connection_id, frame)
        self.send(
            connection_id,
            messages.ack_message(Action.CATCH_UP, fromSequence=from_sequence, resent=len(later)),
        )
        return len(later)

    def switch_language(self, connection_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Move the listener to another language without reconnecting.

        The connection item (conditional on its old language, so of two concurrent
        switches one wins) and the count move in ONE write. The next segment of the new
        language reaches the listener: the broadcaster looks listeners up per
        language when it fans out.
        """
        language = str(body["targetLanguage"])
        connection = self._connection(connection_id)
        session = self.sessions.get(connection.session_id)
        if session is None or session.status == "ended":
            raise SessionEnded(f"session {connection.session_id!r} has ended")
        self._check_language(language, session)
        old = connection.language
        if language != old:
            if self.listeners.switch(connection, language) is None:
                raise BadRequest(
                    f"the language changed meanwhile; send {Action.SWITCH_LANGUAGE} again"
                )
            logger.info(
                "listener switched language",
                extra={"session_id": connection.session_id, "from": old, "to": language},
            )
        ack = messages.ack_message(
            Action.SWITCH_LANGUAGE, targetLanguage=language, previousLanguage=old
        )
        self.send(connection_id, ack)
        return ack

    def pause(self, connection_id: str) -> dict[str, Any]:
        """Listener-side pause: the broadcaster skips this connection until resume."""
        return self._set_paused(connection_id, True, Action.PAUSE)

    def resume(self, connection_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Back to the live edge; with ``fromSequence`` the missed segments come first."""
        ack = self._set_paused(connection_id, False, Action.RESUME)
        if "fromSequence" in body:
            self.catch_up(connection_id, body)
        return ack

    def set_audio(self, connection_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Audio on, or captions only: the broadcaster sends this listener segments
        without audio, and a language whose listeners all chose captions only is
        not synthesized (its count is on the Sessions item the processor reads)."""
        on = bool(body["on"])
        if self.listeners.set_audio(connection_id, on) is None:
            raise ConnectionGone("unknown connection")
        ack = messages.ack_message(Action.AUDIO, on=on)
        self.send(connection_id, ack)
        return ack

    def _set_paused(self, connection_id: str, paused: bool, action: str) -> dict[str, Any]:
        if self.connections.set_paused(connection_id, paused) is None:
            raise ConnectionGone("unknown connection")
        ack = messages.ack_message(action, paused=paused)
        self.send(connection_id, ack)
        return ack

    def _connection(self, connection_id: str) -> Connection:
        connection = self.connections.get(connection_id)
        if connection is None:
            raise ConnectionGone("unknown connection")
        return connection

    def unknown_action(self, connection_id: str, action: object) -> dict[str, Any]:
        shown = action if isinstance(action, str) else None
        text = f"unknown action {shown[:32]!r}" if shown else "message needs an action"
        error = messages.error_message("UNKNOWN_ACTION", f"{text}; actions: {', '.join(ACTIONS)}")
        self.send(connection_id, error)
        return error

    def send_error(self, connection_id: str, err: PolycastError) -> dict[str, Any]:
        error = messages.error_message(err.code, err.message)
        self.send(connection_id, error)
        return error

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        """Post one message; a listener already gone is not an error here."""
        try:
            self.sender.post(connection_id, messages.encode(message))
        except ConnectionGone:
            logger.info("reply to a gone connection dropped")

    def _publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        try:
            self.publisher.publish([(detail_type, detail)])
        except PolycastError as exc:
            logger.warning("%s not published: %s", detail_type, exc.code)


def _required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise MissingField(name)
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def validate_action(action: str, body: Mapping[str, Any]) -> None:
    """Check a listener action against ``schemas/actions/<action>.json``.

    Raises :class:`MissingField` for a required field that is missing or empty and
    :class:`BadRequest` otherwise, with a message that names the field and what it
    must be (never the value the client sent).
    """
    validator = schemas.validator(f"actions/{action}")
    error = next(iter(sorted(validator.iter_errors(dict(body)), key=_error_order)), None)
    if error is None:
        return
    raise _action_error(action, error)


def _error_order(error: ValidationError) -> tuple[int, str]:
    # Missing fields first: they say the most about a malformed request.
    return (0 if error.validator == "required" else 1, str(list(error.path)))


def _action_error(action: str, error: ValidationError) -> PolycastError:
    name = str(error.path[-1]) if error.path else ""
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    what = schema.get("description") or "valid"
    kind = error.validator
    if kind == "required":
        missing = next((f for f in error.validator_value if f not in error.instance), name)
        return MissingField(str(missing))
    if kind == "minLength" and error.instance == "":
        return MissingField(name)
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        shown = ", ".join(repr(str(f)[:32]) for f in extra[:3])
        return BadRequest(f"{action} does not take {shown}")
    if kind == "type" and error.validator_value == "integer":
        return BadRequest(f"{name} must be an integer")
    if kind == "minimum" and error.validator_value == 0:
        return BadRequest(f"{name} must not be negative")
    return BadRequest(f"{name or 'action'} must be {what}")
