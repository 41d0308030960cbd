"""Speech in, translated speech out, on the real local runtime (``polycast local``).

Festival speaks a four-sentence talk; ``polycast speak --session --key --file --fast``
(a subprocess, as a user runs it) is the session's speaker: it asks the speaker
function for a presigned URL, streams to the runtime's Transcribe-protocol endpoint
(pocketsphinx), and sends partials and sentences over the speaker WebSocket. A real
WebSocket listener in ``es`` must receive every sentence translated, in order, with
audio; ``partial`` records must reach the stream. The figures (WER, rate and volume
against the truth) are printed for docs/speech-recognition.md.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from local_e2e_support import RunningRuntime, open_listener
from speech_support import (
    CreatedSession,
    acli,
    create_session,
    json_lines,
    sessions_item,
    stream_records,
    wav_file,
)

from polycast.schemas import validate
from polycast_kit.transcribe.festival import SpokenTalk, speak, wav_bytes
from polycast_kit.transcribe.scoring import word_error_rate

SCRIPT = (
    "Good morning everyone and welcome to the conference.",
    "Today we will talk about the weather in the mountains.",
    "The rain will stop in the afternoon and the sun will come out.",
    "Thank you very much for listening to this short talk.",
)
GAINS_DB = (0.0, 0.0, 7.0, -5.0)
MAX_WER = 0.25
RATE_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def talk() -> SpokenTalk:
    return speak(SCRIPT, gains_db=GAINS_DB)


@pytest.fixture(scope="module")
def spoken(
    runtime: RunningRuntime, talk: SpokenTalk, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One talk spoken into a created session while a listener in es waits."""
    session = create_session(runtime, "spoken-talk-101")
    wav = wav_file(tmp_path_factory.mktemp("speech"), "talk.wav", wav_bytes(talk.pcm))

    async def run() -> dict[str, Any]:
        task, listener = await open_listener(runtime, session.session_id, "es", timeout=240)
        began = time.monotonic()
        code, out, err = await acli(
            runtime,
            *("speak", "--session", session.session_id, "--key", session.key),
            *("--file", str(wav), "--fast", "--json"),
        )
        assert code == 0, f"speak failed ({code}):\n{err}\n{out}\n{runtime.log()}"
        lines = json_lines(out)
        sentences = [line for line in lines if line["type"] == "sentence"]
        deadline = time.monotonic() + 120
        while len(listener.segments) < len(sentences) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        task.cancel()
        return {
            "session": session,
            "lines": lines,
            "sentences": sentences,
            "listener": listener,
            "seconds": time.monotonic() - began,
            "stderr": err,
        }

    return asyncio.run(run())


def test_every_sentence_reaches_the_listener_translated_in_order_with_audio(
    spoken: dict[str, Any],
) -> None:
    sentences, listener = spoken["sentences"], spoken["listener"]
    assert len(sentences) >= len(SCRIPT), sentences
    assert [s.sequence for s in listener.segments] == [s["sequence"] for s in sentences]
    assert [s["sequence"] for s in sentences] == list(range(1, len(sentences) + 1))
    for segment, sentence in zip(listener.segments, sentences, strict=True):
        assert segment.language == "es"
        assert segment.source_text == sentence["text"]
        assert segment.text
        assert segment.text != segment.source_text
        assert segment.audio
        assert segment.audio.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3")), "not MP3"
    for message in listener.messages:
        validate(f"messages/{message['type']}", message)
    done = next(line for line in spoken["lines"] if line["type"] == "done")
    assert done["acked"] == done["sent"] == len(sentences)


def test_transcripts_and_partials_are_records_of_the_session(
    runtime: RunningRuntime, spoken: dict[str, Any]
) -> None:
    session: CreatedSession = spoken["session"]
    records = stream_records(runtime, session.session_id)
    transcripts = [r for r in records if r.get("type") == "transcript"]
    partials = [r for r in records if r.get("type") == "partial"]
    assert [r["sequence"] for r in transcripts] == [s["sequence"] for s in spoken["sentences"]]
    assert all(r["sourceLanguage"] == "en" for r in transcripts)
    assert partials, "no partial record reached the stream"
    # A partial carries the sequence its sentence will have, and comes before it.
    positions = {id(r): i for i, r in enumerate(records)}
    for partial in partials:
        final = next(t for t in transcripts if t["sequence"] == partial["sequence"])
        assert positions[id(partial)] < positions[id(final)]
    item = sessions_item(runtime, session.session_id)
    assert int(item["speakerSequence"]["N"]) == len(transcripts)
    assert "speakerConnectionId" not in item  # released at disconnect
    assert "speakerKeyHash" in item
    assert session.key not in str(item)


def test_recognition_and_dynamics_against_the_truth(
    talk: SpokenTalk, spoken: dict[str, Any]
) -> None:
    sentences = spoken["sentences"]
    text = " ".join(s["text"] for s in sentences)
    wer = word_error_rate(talk.script, text)
    print(f"\nWER {wer:.3f} over {len(talk.script.split())} words; {spoken['seconds']:.1f} s")
    assert wer < MAX_WER, text
    assert len(sentences) == len(SCRIPT)
    for truth, sentence in zip(talk.sentences, sentences, strict=True):
        dynamics = sentence["emotionDynamics"]
        print(
            f"  {truth.wpm:.0f} wpm true / {dynamics['rateWpm']} measured; "
            f"gain {truth.gain_db:+.0f} dB → {dynamics['volumeLevel']}"
        )
        assert abs(dynamics["rateWpm"] - truth.wpm) <= RATE_TOLERANCE * truth.wpm
        expected = {7.0: ("loud", "x-loud"), -5.0: ("soft", "x-soft")}.get(
            truth.gain_db, ("normal",)
        )
        assert dynamics["volumeLevel"] in expected


def test_the_session_link_carries_the_key_in_the_fragment(spoken: dict[str, Any]) -> None:
    session: CreatedSession = spoken["session"]
    links = session.links
    assert links["speakerUrl"].endswith(f"#speakerKey={session.key}")
    assert session.key not in links["speakerUrl"].split("#")[0]
    assert set(links["listenerUrls"]) == {"es", "fr"}
    assert "joinCode" not in links
