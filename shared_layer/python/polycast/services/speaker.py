"""The session's speaker: admitted with its key, one connection, its actions answered.

Two halves, in two functions, so only one of them can write to the stream:

- :class:`SpeakerGate` runs in the connection handler: ``$connect`` with
  ``role=speaker`` (the key checked against its salted PBKDF2 hash; one speaker
  connection per session, a stale one — whose connection is gone — replaced),
  ``$disconnect``, and the session check's speaker question. Nothing is written to
  the stream here.
- :class:`SpeakerService` runs in the speaker function: ``transcribeUrl`` (a
  presigned Transcribe streaming URL, signed by the function's role), ``transcript``
  (one record, then ``{"type": "ack", "sequence"}``; a sequence already acknowledged
  is acknowledged again and not written twice), ``partial`` (a record, no answer), and
  ``SessionEnded`` (``{"type": "sessionEnded"}`` to the speaker connection).

Every action is checked against ``schemas/actions/<action>.json`` first; an error
names the action and, for a transcript, its sequence, so the speaker knows which
sentence it concerns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from polycast.domain import messages
from polycast.domain.session_ids import is_session_id
from polycast.domain.speaker import SpeakerState, partial_record, transcript_record
from polycast.errors import (
    BadRequest,
    ConnectionGone,
    MissingField,
    NotSpeaker,
    PolycastError,
    SessionEnded,
    SessionNotFound,
    SpeakerConnected,
    SpeakerKeyInvalid,
    SpeakerKeyRequired,
)
from polycast.names import SPEAKER_ACTIONS, SpeakerAction
from polycast.ports import Presence, RecordWriter, Sender, SpeakerStore, TranscribeSigner
from polycast.services.connections import join_code_matches, validate_action

logger = logging.getLogger(__name__)

MAX_SPEAKER_KEY_CHARS = 128


class SpeakerGate:
    """Who may be the session's speaker (the connection handler's half)."""

    def __init__(self, *, speakers: SpeakerStore, presence: Presence) -> None:
        self.speakers = speakers
        self.presence = presence

    def admit(self, params: Mapping[str, Any] | None) -> SpeakerState:
        """Would a speaker ``$connect`` with these parameters be accepted? No writes."""
        params = params or {}
        session_id = params.get("sessionId")
        if not session_id:
            raise MissingField("sessionId")
        if not isinstance(session_id, str) or not is_session_id(session_id):
            raise BadRequest("sessionId is not a session id (like golden-eagle-427)")
        state = self.speakers.get(session_id)
        if state is None:
            raise SessionNotFound(f"no session {session_id!r}")
        if state.status == "ended":
            raise SessionEnded(f"session {session_id!r} has ended")
        key = params.get("speakerKey")
        if key is None or key == "":
            raise SpeakerKeyRequired("a speaker needs the session's speaker key")
        if not state.key_hash:
            raise SpeakerKeyInvalid("this session has no speaker key: create it with one")
        if not isinstance(key, str) or len(key) > MAX_SPEAKER_KEY_CHARS:
            raise SpeakerKeyInvalid("wrong speaker key")
        if not join_code_matches(key, state.key_hash):
            raise SpeakerKeyInvalid("wrong speaker key")
        if state.connection_id and self._live(state.connection_id):
            raise SpeakerConnected("this session's speaker is connected already")
        return state

    def _live(self, connection_id: str) -> bool:
        try:
            return self.presence.is_connected(connection_id)
        except PolycastError:
            return True  # cannot tell: keep the one that may be talking

    def connect(self, connection_id: str, params: Mapping[str, Any] | None) -> SpeakerState:
        """Admit the speaker and make this its connection (one per session)."""
        state = self.admit(params)
        # admit() found no live speaker: a connection still recorded is stale, replaced.
        if not self.speakers.claim(state.session_id, connection_id, replacing=state.connection_id):
            raise SpeakerConnected("this session's speaker is connected already")
        logger.info("speaker connected", extra={"session_id": state.session_id})
        return state

    def disconnect(self, connection_id: str) -> str | None:
        """Forget a speaker connection; the session id, or None when it was no speaker."""
        session_id = self.speakers.release(connection_id)
        if session_id is not None:
            logger.info("speaker left", extra={"session_id": session_id})
        return session_id


class SpeakerService:
    """The speaker's actions (the speaker function's half)."""

    def __init__(
        self,
        *,
        speakers: SpeakerStore,
        records: RecordWriter,
        signer: TranscribeSigner,
        sender: Sender,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.speakers = speakers
        self.records = records
        self.signer = signer
        self.sender = sender
        self.clock = clock

    def act(self, connection_id: str, action: str, body: Mapping[str, Any]) -> None:
        """One speaker action; the speaker always gets an answer but for ``partial``
        (errors included), which is also raised for the handler's status."""
        body = {**body, "action": action}
        try:
            if action not in SPEAKER_ACTIONS:
                raise BadRequest(f"unknown speaker action; actions: {', '.join(SPEAKER_ACTIONS)}")
            validate_action(action, body)
            state = self._speaker(connection_id)
            if action == SpeakerAction.TRANSCRIBE_URL:
                self.transcribe_url(connection_id, state, body)
            elif action == SpeakerAction.TRANSCRIPT:
                self.transcript(connection_id, state, body)
            else:
                self.records.put(state.session_id, [partial_record(state, body)])
        except PolycastError as exc:
            self._error(connection_id, exc, action, body.get("sequence"))
            raise

    def _speaker(self, connection_id: str) -> SpeakerState:
        """The session this connection speaks for; refused unless it is the speaker."""
        session_id = self.speakers.session_of(connection_id)
        state = self.speakers.get(session_id) if session_id else None
        if state is None or state.connection_id != connection_id:
            raise NotSpeaker("this connection is not the session's speaker")
        if state.status == "ended":
            raise SessionEnded(f"session {state.session_id!r} has ended")
        return state

    def transcribe_url(
        self, connection_id: str, state: SpeakerState, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A presigned recognition URL, and the last sequence acknowledged (a speaker
        that kept no count of its own, ``polycast speak``, continues after it)."""
        try:
            url, expires_in = self.signer.sign(str(body["languageCode"]), int(body["sampleRate"]))
        except ValueError as exc:  # the signer's own refusal (TranscribeUrlError)
            raise BadRequest(str(exc)) from exc
        answer = {
            "type": "transcribeUrl",
            "url": url,
            "expiresIn": expires_in,
            "lastSequence": state.last_sequence,
        }
        self.send(connection_id, answer)
        return answer

    def transcript(self, connection_id: str, state: SpeakerState, body: Mapping[str, Any]) -> bool:
        """Write the sentence unless already acknowledged; ack either way. True if written.

        The record goes first, the acknowledged mark after: a crash between the two
        makes the speaker resend, and the processor's idempotency on (session,
        sequence) drops the second copy.
        """
        sequence = int(body["sequence"])
        written = sequence > state.last_sequence
        if written:
            stamp = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            self.records.put(state.session_id, [transcript_record(state, body, timestamp=stamp)])
            self.speakers.acknowledge(state.session_id, sequence)
        self.send(connection_id, {"type": "ack", "action": "transcript", "sequence": sequence})
        return written

    def session_ended(self, session_id: str, reason: str | None = None) -> bool:
        """Tell the session's speaker connection, if any, that the session ended."""
        state = self.speakers.get(session_id)
        if state is None or not state.connection_id:
            return False
        message: dict[str, Any] = {"type": "sessionEnded", "sessionId": session_id}
        if reason:
            message["reason"] = reason
        self.send(state.connection_id, message)
        return True

    def _error(self, connection_id: str, exc: PolycastError, action: str, sequence: object) -> None:
        error: dict[str, Any] = {**messages.error_message(exc.code, exc.message)}
        error["action"] = action
        if isinstance(sequence, int) and not isinstance(sequence, bool):
            error["sequence"] = sequence
        self.send(connection_id, error)

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        try:
            self.sender.post(connection_id, messages.encode(message))
        except ConnectionGone:
            logger.info("answer to a gone speaker connection dropped")
