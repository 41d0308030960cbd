"""The session's speaker: what is kept about it, and the records it produces. Pure.

A session has at most one speaker connection. The speaker side keeps only its own
state — the speaker key's hash, the live connection, the last sequence acknowledged —
so a speaker that reconnects resumes without gaps (it resends what was not
acknowledged) or repeats (a sequence already acknowledged is acknowledged again, not
written twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Connections-table key of a speaker connection. The prefix keeps it out of every
# listener lookup (a listener's item is keyed by its bare connection id), and the item
# has no targetLanguage, so the listeners' index never holds it.
SPEAKER_ITEM_PREFIX = "speaker#"


@dataclass(frozen=True)
class SpeakerState:
    """The speaker's part of one Sessions item."""

    session_id: str
    source_language: str
    status: str
    key_hash: str | None = None
    connection_id: str | None = None
    last_sequence: int = 0


def transcript_record(
    state: SpeakerState, body: Mapping[str, Any], *, timestamp: str
) -> dict[str, Any]:
    """The Kinesis record of one ``transcript`` action (already checked by its schema)."""
    record: dict[str, Any] = {
        "type": "transcript",
        "sessionId": state.session_id,
        "sequence": int(body["sequence"]),
        "sourceLanguage": state.source_language,
        "transcriptText": str(body["transcriptText"]),
        "timestamp": timestamp,
    }
    if isinstance(body.get("emotionDynamics"), Mapping):
        record["emotionDynamics"] = dict(body["emotionDynamics"])
    if isinstance(body.get("startMs"), int):
        record["offsetMs"] = body["startMs"]
    return record


def partial_record(state: SpeakerState, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Kinesis record of one ``partial`` action (the sentence not ended yet)."""
    return {
        "type": "partial",
        "sessionId": state.session_id,
        "sequence": int(body["sequence"]),
        "sourceLanguage": state.source_language,
        "text": str(body["text"]),
        "stableText": str(body.get("stableText", "")),
    }
