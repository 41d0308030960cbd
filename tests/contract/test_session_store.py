"""SessionStore: MemorySessionStore and DynamoSessionStore (moto) keep one contract."""

from __future__ import annotations

import time

import pytest

from polycast.domain.models import Session
from polycast.errors import SessionEnded, SessionNotFound

from .conftest import Stores

A = "golden-eagle-427"
B = "silver-otter-12"
IDLE = 1800
MAX = 4 * 3600


def test_start_creates_once_and_keeps_the_first(stores: Stores) -> None:
    sessions = stores.sessions
    before = int(time.time())
    assert sessions.start(A, "en", join_code_hash="pbkdf2_sha256$1$00$11") is True
    assert sessions.start(A, "fr") is False

    session = sessions.get(A)
    assert session is not None
    assert (session.session_id, session.source_language, session.status) == (A, "en", "active")
    assert (session.listener_count, session.language_counts, session.last_sequence) == (0, {}, 0)
    assert session.join_code_hash == "pbkdf2_sha256$1$00$11"
    assert not session.paused
    assert before <= session.created_at <= int(time.time())
    assert session.last_activity_at == session.created_at


def test_an_unknown_session_is_none(stores: Stores) -> None:
    assert stores.sessions.get("no-such-session-1") is None


def test_end_ends_once(stores: Stores) -> None:
    sessions = stores.sessions
    sessions.start(A, "en")
    assert sessions.end(A, reason="ended by speaker") is True
    assert sessions.end(A, reason="ended by speaker") is False
    assert sessions.end("no-such-session-1", reason="x") is False
    assert sessions.get("no-such-session-1") is None  # ending did not create it
    ended = sessions.get(A)
    assert ended is not None
    assert ended.status == "ended"


def test_next_sequence_counts_up_and_needs_the_session(stores: Stores) -> None:
    sessions = stores.sessions
    with pytest.raises(SessionNotFound):
        sessions.next_sequence(A)
    assert sessions.get(A) is None  # a missing session is not created by asking
    sessions.start(A, "en")
    assert [sessions.next_sequence(A) for _ in range(3)] == [1, 2, 3]
    session = sessions.get(A)
    assert session is not None
    assert session.last_sequence == 3
    sessions.end(A, reason="done")
    assert sessions.next_sequence(A) == 4  # late records of an ended session still number


def test_set_paused_says_whether_it_changed(stores: Stores) -> None:
    sessions = stores.sessions
    sessions.start(A, "en")
    assert sessions.set_paused(A, True) is True
    assert sessions.set_paused(A, True) is False
    paused = sessions.get(A)
    assert paused is not None
    assert paused.paused
    assert sessions.set_paused(A, False) is True
    with pytest.raises(SessionNotFound):
        sessions.set_paused("no-such-session-1", True)
    sessions.end(A, reason="done")
    with pytest.raises(SessionEnded):
        sessions.set_paused(A, True)


def test_touch_records_activity_on_active_sessions_only(stores: Stores) -> None:
    sessions = stores.sessions
    sessions.start(A, "en")
    sessions.start(B, "en")
    stores.backdate(A, 600, 600)
    stores.backdate(B, 600, 600)
    sessions.end(B, reason="done")

    sessions.touch(A)
    sessions.touch(B)
    sessions.touch("no-such-session-1")  # nothing to touch: no error, nothing created

    now = int(time.time())
    touched, ended = sessions.get(A), sessions.get(B)
    assert touched is not None
    assert ended is not None
    assert touched.last_activity_at >= now - 5
    assert ended.last_activity_at <= now - 600
    assert sessions.get("no-such-session-1") is None


def test_stale_sessions_are_the_idle_and_the_too_long_active_ones(stores: Stores) -> None:
    sessions = stores.sessions
    for session_id in ("quiet-room-1", "long-talk-2", "busy-room-3", "done-room-4"):
        sessions.start(session_id, "en" if session_id != "long-talk-2" else "fr")
    stores.backdate("quiet-room-1", IDLE + 100, IDLE + 100)
    stores.backdate("long-talk-2", 10, MAX + 100)
    stores.backdate("done-room-4", IDLE + 100, IDLE + 100)
    sessions.end("done-room-4", reason="done")
    now = int(time.time())
    cutoffs = {"idle_before": now - IDLE, "started_before": now - MAX}

    stale = sorted(sessions.stale_sessions(**cutoffs), key=lambda s: s.session_id)

    expected = []
    for session_id in ("long-talk-2", "quiet-room-1"):
        full = sessions.get(session_id)
        assert full is not None
        expected.append(
            Session(
                session_id,
                full.source_language,
                created_at=full.created_at,
                last_activity_at=full.last_activity_at,
            )
        )
    assert stale == expected  # what the sweeper needs, nothing more (a projection)


def test_end_stale_ends_only_what_is_still_stale(stores: Stores) -> None:
    sessions = stores.sessions
    sessions.start(A, "en")
    sessions.start(B, "en")
    stores.backdate(A, IDLE + 100, IDLE + 100)
    now = int(time.time())
    cutoffs = {"idle_before": now - IDLE, "started_before": now - MAX}

    assert sessions.end_stale(B, reason="idle", **cutoffs) is False  # active lately
    assert sessions.end_stale("no-such-session-1", reason="idle", **cutoffs) is False
    sessions.touch(A)  # a record arrived after the sweep read it
    assert sessions.end_stale(A, reason="idle", **cutoffs) is False
    stores.backdate(A, IDLE + 100, IDLE + 100)
    assert sessions.end_stale(A, reason="idle", **cutoffs) is True
    assert sessions.end_stale(A, reason="idle", **cutoffs) is False  # already ended
    ended = sessions.get(A)
    assert ended is not None
    assert ended.status == "ended"
    assert list(sessions.stale_sessions(**cutoffs)) == []


GLOSSARY_CSV = "en,es,fr\nGolden Gate Labs,Golden Gate Labs,Golden Gate Labs\nBaker,Baker,\n"


def test_tone_is_stored_with_the_session(stores: Stores) -> None:
    sessions = stores.sessions
    sessions.create(A, "en", languages=("es", "fr"))
    sessions.set_tone(A, formality="formal", profanity=True)
    session = sessions.get(A)
    assert session is not None
    assert (session.formality, session.profanity) == ("formal", True)
    sessions.set_tone(A, formality=None, profanity=False)
    session = sessions.get(A)
    assert session is not None
    assert (session.formality, session.profanity) == (None, False)
    assert sessions.start(A, "en") is True  # starting keeps it
    with pytest.raises(SessionNotFound):
        sessions.set_tone("no-such-session-1", formality="formal", profanity=False)
    sessions.end(A, reason="done")
    with pytest.raises(SessionEnded):
        sessions.set_tone(A, formality="formal", profanity=False)


def test_glossary_is_stored_beside_the_session_and_referenced(stores: Stores) -> None:
    from polycast.domain.glossary import parse_glossary

    sessions = stores.sessions
    glossary = parse_glossary(GLOSSARY_CSV, source="en")
    assert sessions.get_glossary(A) is None
    with pytest.raises(SessionNotFound):
        sessions.put_glossary(A, glossary)
    sessions.create(A, "en", languages=("es",))
    ref = sessions.put_glossary(A, glossary)
    assert (ref.name, ref.terms, ref.languages) == (f"polycast-{A}", 2, ("en", "es", "fr"))
    session = sessions.get(A)
    assert session is not None
    assert session.glossary == ref
    assert sessions.get_glossary(A) == glossary
    assert sessions.get_glossary(B) is None
    # The glossary's own item is not a session: the sweeper never sees it.
    sessions.start(A, "en")
    stale = list(sessions.stale_sessions(idle_before=int(time.time()) + 10, started_before=0))
    assert [s.session_id for s in stale] == [A]
    sessions.end(A, reason="done")
    ended = sessions.get(A)
    assert ended is not None
    assert ended.end_reason == "done"
    assert ended.ended_at >= ended.created_at
    with pytest.raises(SessionEnded):
        sessions.put_glossary(A, glossary)
