"""Bad input on the speaker side of the real local runtime: each gets a clear answer,
and nothing already said is lost (docs/speech-recognition.md, "What goes wrong")."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import websockets
from local_e2e_support import RunningRuntime, cli, open_listener, put
from speech_support import (
    acli,
    create_session,
    json_lines,
    refused,
    sessions_item,
    speak_args,
    speaker_url,
    stream_records,
    wav_file,
)

from polycast.schemas import validate
from polycast_kit.cli.session_share import JOIN_CODE_DIGITS
from polycast_kit.transcribe import eventstream
from polycast_kit.transcribe.festival import noise, silence, speak, wav_bytes

SCRIPT = (
    "Good morning everyone and welcome to the conference.",
    "Today we will talk about the weather in the mountains.",
    "Thank you very much for listening to this short talk.",
)


async def _answer(ws: Any, kind: str | None = None, timeout: float = 20) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        validate(f"messages/{message['type']}", message)
        if kind is None or message["type"] == kind:
            return message


def test_a_wrong_or_missing_key_is_refused_and_the_check_says_why(
    runtime: RunningRuntime,
) -> None:
    session = create_session(runtime, "refused-key-201")
    wrong = asyncio.run(refused(speaker_url(runtime, session.session_id, "not-the-key")))
    assert wrong == (403, {"code": "SPEAKER_KEY_INVALID", "message": "wrong speaker key"})
    missing = asyncio.run(refused(speaker_url(runtime, session.session_id, "")))
    assert missing[0] == 401
    assert missing[1]["code"] == "SPEAKER_KEY_REQUIRED"
    unknown = asyncio.run(refused(speaker_url(runtime, "no-such-999", session.key)))
    assert unknown[0] == 404
    assert unknown[1]["code"] == "SESSION_NOT_FOUND"
    check = f"{runtime.http_url}/sessions/{session.session_id}?role=speaker&speakerKey="
    try:
        urllib.request.urlopen(check + "nope", timeout=10)  # noqa: S310 - loopback test URL
        raise AssertionError("the check accepted a wrong key")
    except urllib.error.HTTPError as error:
        assert error.code == 403
        assert json.loads(error.read())["code"] == "SPEAKER_KEY_INVALID"
    with urllib.request.urlopen(check + session.key, timeout=10) as ok:  # noqa: S310
        assert json.loads(ok.read()) == {
            "ok": True,
            "sessionId": session.session_id,
            "role": "speaker",
        }
    assert session.key not in runtime.log()


def test_one_speaker_per_session_and_a_stale_one_is_replaced(runtime: RunningRuntime) -> None:
    session = create_session(runtime, "second-speaker-202")
    url = speaker_url(runtime, session.session_id, session.key)

    async def run() -> None:
        async with websockets.connect(url) as first:
            assert await refused(url) == (
                409,
                {
                    "code": "SPEAKER_CONNECTED",
                    "message": "this session's speaker is connected already",
                },
            )
            await first.send(
                json.dumps(
                    {"action": "transcribeUrl", "languageCode": "en-US", "sampleRate": 16000}
                )
            )
            answer = await _answer(first, "transcribeUrl")
            assert answer["url"].startswith("ws://127.0.0.1:")
            assert answer["lastSequence"] == 0
        # The first one closed: its $disconnect frees the place.
        deadline = time.monotonic() + 10
        while "speakerConnectionId" in sessions_item(runtime, session.session_id):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        # A recorded speaker whose connection is gone (its $disconnect never came) is replaced.
        runtime.client("dynamodb").update_item(
            TableName="polycast-sessions",
            Key={"sessionId": {"S": session.session_id}},
            UpdateExpression="SET speakerConnectionId = :gone",
            ExpressionAttributeValues={":gone": {"S": "gone-connection-1"}},
        )
        async with websockets.connect(url) as second:
            await second.send(json.dumps({"action": "partial", "sequence": 1, "text": "hello"}))
            await second.send(
                json.dumps({"action": "transcript", "sequence": 0, "transcriptText": "x"})
            )
            error = await _answer(second, "error")
            assert error["code"] == "BAD_REQUEST"
            assert error["action"] == "transcript"

    asyncio.run(run())


def test_a_resent_sentence_is_acknowledged_once_written_and_listeners_cannot_speak(
    runtime: RunningRuntime,
) -> None:
    session = create_session(runtime, "resent-sentence-203")
    sentence = {"action": "transcript", "sequence": 1, "transcriptText": "Hello everyone."}

    async def run() -> None:
        async with websockets.connect(speaker_url(runtime, session.session_id, session.key)) as ws:
            for _ in range(2):
                await ws.send(json.dumps(sentence))
                assert (await _answer(ws, "ack"))["sequence"] == 1
        listener_url = f"{runtime.ws_url}/?sessionId={session.session_id}&targetLanguage=es"
        async with websockets.connect(listener_url) as listener:
            await listener.send(json.dumps({**sentence, "sequence": 2}))
            error = await _answer(listener, "error")
            assert error["code"] == "FORBIDDEN"
            assert error["sequence"] == 2

    asyncio.run(run())
    transcripts = [
        r for r in stream_records(runtime, session.session_id) if r.get("type") == "transcript"
    ]
    assert [r["sequence"] for r in transcripts] == [1]


def test_the_speaker_hears_the_session_end(runtime: RunningRuntime) -> None:
    session = create_session(runtime, "ending-session-204")

    async def run() -> dict[str, Any]:
        async with websockets.connect(speaker_url(runtime, session.session_id, session.key)) as ws:
            put(
                runtime,
                session.session_id,
                [{"type": "sessionEnded", "sessionId": session.session_id}],
            )
            return await _answer(ws, "sessionEnded", timeout=30)

    ended = asyncio.run(run())
    assert ended["sessionId"] == session.session_id


def test_audio_the_recognizer_cannot_take_is_refused_before_connecting(
    runtime: RunningRuntime, tmp_path: Path
) -> None:
    session = create_session(runtime, "bad-audio-205")
    speech = silence(1.0)
    for name, data, needle in (
        ("8k.wav", wav_bytes(speech[: len(speech) // 2], sample_rate=8000), "sox"),
        ("stereo.wav", wav_bytes(speech + speech, channels=2), "sox"),
        ("text.wav", b"this is not a wav file at all", "WAV"),
    ):
        done = cli(runtime, *speak_args(session, wav_file(tmp_path, name, data), "--fast"))
        assert done.returncode == 2, (name, done.stderr)
        assert needle in done.stderr, (name, done.stderr)
        assert "Traceback" not in done.stderr
    assert stream_records(runtime, session.session_id) == []


def test_silence_noise_and_a_truncated_file_end_cleanly(
    runtime: RunningRuntime, tmp_path: Path
) -> None:
    session = create_session(runtime, "quiet-noise-206")
    speech = speak(SCRIPT[:1]).pcm
    truncated = wav_bytes(speech)[: 44 + len(speech) // 2]
    outcomes = {}
    for name, data in (
        ("silence.wav", wav_bytes(silence(3.0))),
        ("noise.wav", wav_bytes(noise(3.0))),
        ("truncated.wav", truncated),
    ):
        done = cli(
            runtime, *speak_args(session, wav_file(tmp_path, name, data), "--fast", "--json")
        )
        assert done.returncode == 0, (name, done.stderr)
        assert "Traceback" not in done.stderr
        outcomes[name] = (json_lines(done.stdout), done.stderr)
    assert "no speech was recognized" in outcomes["silence.wav"][1]
    assert "cut short" in outcomes["truncated.wav"][1]
    said = [line for line in outcomes["truncated.wav"][0] if line["type"] == "sentence"]
    assert said, "the part of the truncated file that is there was not sent"
    transcripts = [
        r for r in stream_records(runtime, session.session_id) if r.get("type") == "transcript"
    ]
    # Each run continues the session's count: nothing is overwritten or dropped as a repeat.
    assert [r["sequence"] for r in transcripts] == list(range(1, len(transcripts) + 1))


def test_a_frame_that_is_not_event_stream_gets_a_bad_request(runtime: RunningRuntime) -> None:
    session = create_session(runtime, "bad-frame-207")

    async def run() -> dict[str, Any]:
        async with websockets.connect(speaker_url(runtime, session.session_id, session.key)) as ws:
            await ws.send(
                json.dumps(
                    {"action": "transcribeUrl", "languageCode": "en-US", "sampleRate": 16000}
                )
            )
            url = (await _answer(ws, "transcribeUrl"))["url"]
        async with websockets.connect(url) as stream:
            await stream.send(b"\x00\x01 not an event stream frame")
            raw = await asyncio.wait_for(stream.recv(), 20)
            assert isinstance(raw, bytes)
            frame = eventstream.decode(raw)
        return {"type": frame.exception_type, **frame.json()}

    answer = asyncio.run(run())
    assert answer["type"] == "BadRequestException"
    assert "not an event-stream frame" in answer["Message"]


def test_a_dropped_speaker_connection_resumes_without_gaps_or_repeats(
    runtime: RunningRuntime, tmp_path: Path
) -> None:
    session = create_session(runtime, "dropped-speaker-208")
    wav = wav_file(tmp_path, "talk.wav", wav_bytes(speak(SCRIPT).pcm))

    async def run() -> tuple[list[dict[str, Any]], list[int]]:
        task, listener = await open_listener(runtime, session.session_id, "es", timeout=240)
        speaking = asyncio.create_task(acli(runtime, *speak_args(session, wav, "--json")))
        # Real time: drop the speaker's connection after its first sentence is acknowledged.
        deadline = time.monotonic() + 60
        while True:
            item = sessions_item(runtime, session.session_id)
            if int(item.get("speakerSequence", {}).get("N", "0")) >= 1:
                break
            assert time.monotonic() < deadline, runtime.log()
            await asyncio.sleep(0.1)
        connection_id = item["speakerConnectionId"]["S"]
        request = urllib.request.Request(
            f"{runtime.http_url}/@connections/{connection_id}", method="DELETE"
        )
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=10)
        code, out, err = await speaking
        assert code == 0, err
        lines = json_lines(out)
        expected = [line["sequence"] for line in lines if line["type"] == "sentence"]
        deadline = time.monotonic() + 90
        while len(listener.segments) < len(expected) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        task.cancel()
        assert [s.sequence for s in listener.segments] == expected
        return lines, expected

    lines, expected = asyncio.run(run())
    done = next(line for line in lines if line["type"] == "done")
    assert "1 reconnects" in done["text"] or "2 reconnects" in done["text"], done
    assert done["acked"] == done["sent"] == len(expected) >= len(SCRIPT)
    transcripts = [
        r for r in stream_records(runtime, session.session_id) if r.get("type") == "transcript"
    ]
    assert sorted({r["sequence"] for r in transcripts}) == expected


def test_a_join_code_is_generated_printed_once_and_stored_hashed(runtime: RunningRuntime) -> None:
    done = cli(
        runtime, "session", "create", "--session", "coded-session-209", "--join-code", "--json"
    )
    assert done.returncode == 0, done.stderr
    links = json.loads(done.stdout)
    assert set(links) >= {"sessionId", "speakerUrl", "speakerKey", "listenerUrls", "joinUrl"}
    code = links["joinCode"]
    assert len(code) == JOIN_CODE_DIGITS  # digits, read aloud in a hall
    assert code.isdigit()
    item = sessions_item(runtime, "coded-session-209")
    assert item["joinCodeHash"]["S"].startswith("pbkdf2_sha256$")
    assert code not in str(item)
    assert links["speakerKey"] not in str(item)
    listener = f"{runtime.ws_url}/?sessionId=coded-session-209&targetLanguage=es"
    status, body = asyncio.run(refused(listener))
    assert (status, body["code"]) == (401, "JOIN_CODE_REQUIRED")
