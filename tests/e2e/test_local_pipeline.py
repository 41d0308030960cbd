"""The whole pipeline on the real local runtime, with Apertium and espeak-ng.

Listeners in three languages over WebSockets; a talk produced through
``polycast produce`` and through plain boto3; every listener gets every segment,
in order, in its language, with MP3 that decodes to a plausible duration, then
``sessionEnded``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from local_e2e_support import RunningRuntime, open_listener, put, start_session, talk

from polycast.schemas import validate
from polycast_kit.cli.listen import Listener
from polycast_kit.cli.main import main
from polycast_kit.engines import mp3_duration_seconds

pytestmark = pytest.mark.e2e

LANGUAGES = ("es", "fr", "ca")
SEGMENTS = 8
# Sentence 7 of the sample talk: "The first version was slow and expensive."
KNOWN = {7: {"es": "primera versión", "fr": "première version", "ca": "primera versió"}}


def check_listener(listener: Listener, language: str, sent: list[dict[str, Any]]) -> None:
    for message in listener.messages:
        validate(f"messages/{message['type']}", message)
    assert listener.ended, "no sessionEnded"
    assert listener.messages[-1]["type"] == "sessionEnded"
    expected = [r["sequence"] for r in sent]
    assert [s.sequence for s in listener.segments] == expected
    by_sequence = {r["sequence"]: r for r in sent}
    for segment in listener.segments:
        source = by_sequence[segment.sequence]["transcriptText"]
        assert segment.language == language
        assert segment.source_text == source
        assert segment.text
        assert segment.text != source
        assert segment.audio is not None, f"#{segment.sequence} {language}: no audio"
        seconds = mp3_duration_seconds(segment.audio)
        words = len(source.split())
        assert 0.15 * words < seconds < 1.5 * words + 3, (segment.sequence, seconds)
    for sequence, phrases in KNOWN.items():
        if sequence in by_sequence:
            text = next(s.text for s in listener.segments if s.sequence == sequence)
            assert phrases[language] in text.lower(), text


async def run_talk(runtime: RunningRuntime, session_id: str, send: Any) -> dict[str, Listener]:
    start_session(runtime, session_id)
    opened = [await open_listener(runtime, session_id, lang) for lang in LANGUAGES]
    await asyncio.to_thread(send)
    results = await asyncio.gather(*(task for task, _ in opened))
    return dict(zip(LANGUAGES, results, strict=True))


def test_a_talk_through_polycast_produce(runtime: RunningRuntime, tmp_path: Path) -> None:
    session_id = f"e2e-produce-{secrets.token_hex(3)}"
    records = talk(SEGMENTS)
    talk_file = tmp_path / "talk.jsonl"
    talk_file.write_text("\n".join(json.dumps(r) for r in records) + "\n")

    def send() -> None:
        code = main(
            [
                "produce",
                str(talk_file),
                "--session",
                session_id,
                "--no-start",
                "--state-dir",
                str(runtime.state_dir),
            ]
        )
        assert code == 0

    listeners = asyncio.run(run_talk(runtime, session_id, send))
    for language, listener in listeners.items():
        check_listener(listener, language, records)


def test_a_talk_through_plain_boto3(runtime: RunningRuntime) -> None:
    session_id = f"e2e-boto3-{secrets.token_hex(3)}"
    records = [{**r, "sessionId": session_id} for r in talk(SEGMENTS)]

    def send() -> None:
        put(runtime, session_id, [*records, {"type": "sessionEnded", "sessionId": session_id}])

    listeners = asyncio.run(run_talk(runtime, session_id, send))
    for language, listener in listeners.items():
        check_listener(listener, language, records)


def test_a_malformed_record_does_not_stop_the_rest(runtime: RunningRuntime) -> None:
    session_id = f"e2e-malformed-{secrets.token_hex(3)}"
    records = [{**r, "sessionId": session_id} for r in talk(4)]
    bad: list[dict[str, Any] | bytes] = [
        b"{this is not json",
        {"type": "transcript", "sessionId": session_id, "sequence": 99, "sourceLanguage": "en"},
    ]

    async def scenario() -> Listener:
        start_session(runtime, session_id)
        task, _ = await open_listener(runtime, session_id, "es")
        stream: list[dict[str, Any] | bytes] = [*records[:2], *bad, *records[2:]]
        await asyncio.to_thread(
            put,
            runtime,
            session_id,
            [*stream, {"type": "sessionEnded", "sessionId": session_id}],
        )
        return await task

    listener = asyncio.run(scenario())
    assert listener.ended
    assert [s.sequence for s in listener.segments] == [1, 2, 3, 4]
