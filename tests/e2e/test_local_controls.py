"""Issue 8 on the real local runtime (its own process, real WebSockets, real engines):
speaker pause and resume, switching language mid-talk, listener pause, the listener
cap, sessions ending by themselves when idle, the session check, and every action's
answer. Every message received and every event logged is validated against its schema.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from controls_client import Client, counts, new_session, session_item, transcript, until
from local_e2e_support import (
    RunningRuntime,
    logged_events,
    put,
    running_runtime,
)

from polycast import schemas
from polycast_kit.cli.main import main

pytestmark = pytest.mark.e2e

IDLE_SECONDS = 10
MAX_LISTENERS = 3
# A short idle time so the idle end is quick to see (the local sweeper runs every 2 s);
# every other test here keeps its session busy well within it.
OVERRIDES = {
    "session_idle_seconds": IDLE_SECONDS,
    "max_listeners_per_session": MAX_LISTENERS,
}


@pytest.fixture(scope="module")
def controls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    with running_runtime(tmp_path_factory.mktemp("polycast-controls"), OVERRIDES) as running:
        yield running


def produce_control(runtime: RunningRuntime, session_id: str, flag: str) -> None:
    """``polycast produce --session ID --pause|--resume|--end`` against this runtime."""
    argv = ["produce", "--session", session_id, flag, "--state-dir", str(runtime.state_dir)]
    assert main(argv) == 0


# ---- speaker side --------------------------------------------------------------------


def test_speaker_pause_skips_transcripts_and_resume_restarts_them(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "pause")

    async def scenario() -> Client:
        es = await Client.open(controls, session_id, "es")
        put(controls, session_id, [transcript(session_id, 1, "Good morning everyone.")])
        await es.segment(1)
        produce_control(controls, session_id, "--pause")
        paused = await es.wait_for(lambda m: m["type"] == "sessionPaused")
        assert paused["sessionId"] == session_id
        put(
            controls,
            session_id,
            [
                transcript(session_id, 2, "This is said while paused."),
                transcript(session_id, 3, "So is this."),
            ],
        )
        produce_control(controls, session_id, "--resume")
        await es.wait_for(lambda m: m["type"] == "sessionResumed")
        put(controls, session_id, [transcript(session_id, 4, "We are back.")])
        await es.segment(4)
        produce_control(controls, session_id, "--end")
        await es.wait_for(lambda m: m["type"] == "sessionEnded")
        await es.close()
        return es

    es = asyncio.run(scenario())
    assert es.sequences() == [1, 4]
    kinds = [m["type"] for m in es.messages]
    assert kinds.index("sessionPaused") < kinds.index("sessionResumed")

    def skipped() -> list[int]:
        return sorted(
            e["detail"]["sequence"]
            for e in logged_events(controls, session_id)
            if e["detail-type"] == "TranscriptRejected" and e["detail"]["code"] == "SESSION_PAUSED"
        )

    asyncio.run(until(lambda: skipped() == [2, 3]))
    types = {e["detail-type"] for e in logged_events(controls, session_id)}
    assert {"SessionPaused", "SessionResumed", "SessionEnded"} <= types


def test_an_idle_session_ends_by_itself_and_listeners_are_told_why(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "idle")

    async def scenario() -> dict[str, Any]:
        listener = await Client.open(controls, session_id, "fr")
        ended = await listener.wait_for(
            lambda m: m["type"] == "sessionEnded", timeout=IDLE_SECONDS + 30
        )
        await listener.close()
        return ended

    ended = asyncio.run(scenario())
    assert ended == {"type": "sessionEnded", "sessionId": session_id, "reason": "idle"}
    item = session_item(controls, session_id)
    assert item["status"]["S"] == "ended"
    assert item["endReason"]["S"] == "idle"
    assert int(item["expiresAt"]["N"]) > time.time()  # TTL in epoch seconds, in the future


# ---- listener side -------------------------------------------------------------------


def test_switching_language_mid_talk_changes_the_next_segment_and_moves_counts(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "switch")

    async def scenario() -> tuple[Client, Client]:
        mover = await Client.open(controls, session_id, "es")
        stayer = await Client.open(controls, session_id, "es")
        assert counts(controls, session_id) == (2, {"es": 2})
        put(controls, session_id, [transcript(session_id, 1, "The first sentence.")])
        await mover.segment(1)
        await stayer.segment(1)

        ack = await mover.answer({"action": "switchLanguage", "targetLanguage": "fr"})
        assert ack == {
            "type": "ack",
            "action": "switchLanguage",
            "targetLanguage": "fr",
            "previousLanguage": "es",
        }
        assert counts(controls, session_id) == (2, {"es": 1, "fr": 1})
        put(controls, session_id, [transcript(session_id, 2, "The second sentence.")])
        second = await mover.segment(2)
        assert second["language"] == "fr"
        await stayer.segment(2)

        # The source language itself: no translation, the speaker's own words.
        ack = await mover.answer({"action": "switchLanguage", "targetLanguage": "en"})
        assert ack["targetLanguage"] == "en"
        assert counts(controls, session_id) == (2, {"es": 1, "en": 1})
        put(controls, session_id, [transcript(session_id, 3, "Spoken in English.")])
        third = await mover.segment(3)
        assert third["language"] == "en"
        assert third["text"] == third["sourceText"] == "Spoken in English."
        assert third["audio"] is not None  # synthesized, though not translated

        # Unsupported or malformed: an error, and nothing changes.
        for body, code in (
            ({"action": "switchLanguage", "targetLanguage": "xx"}, "UNSUPPORTED_LANGUAGE"),
            ({"action": "switchLanguage", "targetLanguage": "<b>"}, "BAD_REQUEST"),
            ({"action": "switchLanguage"}, "MISSING_FIELD"),
        ):
            error = await mover.answer(body)
            assert (error["type"], error["code"]) == ("error", code)
        assert counts(controls, session_id) == (2, {"es": 1, "en": 1})

        await mover.close()
        await until(lambda: counts(controls, session_id) == (1, {"es": 1}))
        await stayer.close()
        return mover, stayer

    mover, stayer = asyncio.run(scenario())
    languages = {m["sequence"]: m["language"] for m in mover.messages if m["type"] == "segment"}
    assert languages == {1: "es", 2: "fr", 3: "en"}
    assert {m["language"] for m in stayer.messages if m["type"] == "segment"} == {"es"}


def test_a_paused_listener_gets_nothing_while_others_do_and_can_catch_up(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "lpause")

    async def scenario() -> tuple[Client, Client]:
        active = await Client.open(controls, session_id, "ca")
        resting = await Client.open(controls, session_id, "ca")
        assert await resting.answer({"action": "pause"}) == {
            "type": "ack",
            "action": "pause",
            "paused": True,
        }
        put(controls, session_id, [transcript(session_id, 1, "Only one of you hears this.")])
        await active.segment(1)
        assert await resting.answer({"action": "resume"}) == {
            "type": "ack",
            "action": "resume",
            "paused": False,
        }
        put(controls, session_id, [transcript(session_id, 2, "Now both of you do.")])
        await active.segment(2)
        await resting.segment(2)
        assert resting.sequences() == [2]  # resumed at the live edge
        caught = await resting.answer({"action": "catchUp", "fromSequence": 0})
        assert caught == {"type": "ack", "action": "catchUp", "fromSequence": 0, "resent": 2}
        await resting.segment(1)
        await active.close()
        await resting.close()
        return active, resting

    active, resting = asyncio.run(scenario())
    assert active.sequences() == [1, 2]
    assert resting.sequences() == [1, 2]

    def completed(sequence: int) -> dict[str, Any] | None:
        for event in logged_events(controls, session_id):
            if (
                event["detail-type"] == "BroadcastCompleted"
                and event["detail"]["sequence"] == sequence
            ):
                detail: dict[str, Any] = event["detail"]
                return detail
        return None

    asyncio.run(until(lambda: completed(1) is not None))
    first = completed(1)
    assert first is not None
    # The paused listener is skipped, never a failed delivery.
    assert (first["delivered"], first["skipped"], first["failed"]) == (1, 1, 0)


def test_the_listener_cap_refuses_with_session_full_even_when_connects_race(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "full")

    async def connect() -> Any:
        url = f"{controls.ws_url}/?sessionId={session_id}&targetLanguage=es"
        try:
            return await websockets.connect(url)
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response

    async def scenario() -> None:
        results = await asyncio.gather(*(connect() for _ in range(MAX_LISTENERS + 3)))
        admitted = [r for r in results if not hasattr(r, "status_code")]
        refused = [r for r in results if hasattr(r, "status_code")]
        assert len(admitted) == MAX_LISTENERS
        for response in refused:
            assert response.status_code == 503
            assert json.loads(response.body)["code"] == "SESSION_FULL"
        assert counts(controls, session_id) == (MAX_LISTENERS, {"es": MAX_LISTENERS})
        status, body, _ = check(controls, session_id, "es")
        assert (status, body["code"]) == (503, "SESSION_FULL")
        await admitted[0].close()
        await until(lambda: counts(controls, session_id)[0] == MAX_LISTENERS - 1)
        late = await connect()
        assert not hasattr(late, "status_code")
        for ws in [*admitted[1:], late]:
            await ws.close()

    asyncio.run(scenario())


def test_every_action_is_answered_and_errors_say_why(controls: RunningRuntime) -> None:
    session_id = new_session(controls, "actions")

    async def scenario() -> None:
        client = await Client.open(controls, session_id, "gl")
        assert (await client.answer({"action": "ping"}))["type"] == "pong"
        cases: list[tuple[dict[str, Any] | str, str]] = [
            ({"action": "dance"}, "UNKNOWN_ACTION"),
            ({"nothing": True}, "UNKNOWN_ACTION"),
            ("not json at all", "UNKNOWN_ACTION"),
            ({"action": "catchUp"}, "MISSING_FIELD"),
            ({"action": "catchUp", "fromSequence": -1}, "BAD_REQUEST"),
            ({"action": "catchUp", "fromSequence": "7"}, "BAD_REQUEST"),
            ({"action": "resume", "fromSequence": True}, "BAD_REQUEST"),
            ({"action": "switchLanguage", "targetLanguage": "zz"}, "UNSUPPORTED_LANGUAGE"),
        ]
        for body, code in cases:
            error = await client.answer(body)
            assert (error["type"], error["code"]) == ("error", code), body
            assert error["message"]
        unknown = await client.answer({"action": "dance"})
        assert "switchLanguage" in unknown["message"]
        for action in ("pause", "resume"):
            assert (await client.answer({"action": action}))["action"] == action
        same = await client.answer({"action": "switchLanguage", "targetLanguage": "gl"})
        assert same["type"] == "ack"
        assert counts(controls, session_id) == (1, {"gl": 1})

        put(controls, session_id, [{"type": "sessionEnded", "sessionId": session_id}])
        await client.wait_for(lambda m: m["type"] == "sessionEnded")
        ended = await client.answer({"action": "switchLanguage", "targetLanguage": "es"})
        assert (ended["type"], ended["code"]) == ("error", "SESSION_ENDED")
        await client.close()

    asyncio.run(scenario())


# ---- the session check ---------------------------------------------------------------


def check(
    runtime: RunningRuntime,
    session_id: str,
    language: str | None,
    method: str = "GET",
    **extra: str,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    query = "&".join(
        f"{k}={v}" for k, v in ({"targetLanguage": language} | extra).items() if v is not None
    )
    url = f"{runtime.http_url}/sessions/{session_id}?{query}"
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw, status, headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, headers = exc.read(), exc.code, dict(exc.headers)
    return status, json.loads(raw) if raw else {}, headers


def test_the_session_check_answers_like_connect_without_side_effects(
    controls: RunningRuntime,
) -> None:
    session_id = new_session(controls, "check")
    before = counts(controls, session_id)

    status, body, headers = check(controls, session_id, "es")
    assert status == 200
    assert {k: body[k] for k in ("ok", "sessionId", "targetLanguage", "status")} == {
        "ok": True,
        "sessionId": session_id,
        "targetLanguage": "es",
        "status": "active",
    }
    schemas.validate("http/sessionCheck", body)
    assert headers["Cache-Control"] == "no-store"
    assert check(controls, session_id, "en")[0] == 200  # the source language
    status, _, headers = check(controls, session_id, "es", method="HEAD")
    assert (status, headers["Cache-Control"]) == (200, "no-store")

    for sid, language, code, expected in (
        ("no-such-session-9", "es", 404, "SESSION_NOT_FOUND"),
        (session_id, "xx", 400, "UNSUPPORTED_LANGUAGE"),
        (session_id, None, 400, "MISSING_FIELD"),
        ("bad.session", "es", 400, "BAD_REQUEST"),
    ):
        status, body, headers = check(controls, sid, language)
        assert (status, body["code"]) == (code, expected)
        assert body["message"]
        assert headers["Cache-Control"] == "no-store"

    with pytest.raises(urllib.error.HTTPError) as posted:
        urllib.request.urlopen(  # noqa: S310
            urllib.request.Request(f"{controls.http_url}/sessions/{session_id}", method="POST"),
            timeout=10,
        )
    assert posted.value.code == 405

    assert counts(controls, session_id) == before
    joined = [
        e for e in logged_events(controls, session_id) if e["detail-type"] == "ListenerJoined"
    ]
    assert joined == []
