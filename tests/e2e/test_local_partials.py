"""Live captions on the real local runtime (moto, the gateway, Apertium, espeak-ng).

Partial records, then the final transcript, per sentence, through Kinesis: real
WebSocket listeners get live captions of each sentence before its segment, never one
after it and none twice — also for a partial that arrives after its final. The
listeners of a synthesized language read each sentence's final text as a partial
before its segment (the final caption published ahead of the audio). A
captions-only listener (the ``audio`` action) gets segments without audio, and a
language whose only listener chose captions only is not synthesized at all.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from local_e2e_support import (
    RunningRuntime,
    open_listener,
    put,
    running_runtime,
    start_session,
)

from polycast.schemas import validate
from polycast_kit.cli.listen import Listener, listener_url

pytestmark = pytest.mark.e2e

SENTENCES = (
    "Good morning to you all, and thank you for coming to this talk today.",
    "Our next speaker flew in from Lisbon, and she will tell us about maps.",
    "We tried many things last year, and most of them did not work at all.",
)
# As deployed: the final caption of a synthesized language goes out before its audio
# (the local runtime's own default is off: espeak-ng is fast, see docs/local.md).
OVERRIDES = {"final_caption_first": 1}
PACE_SECONDS = 0.6  # the processor sends at most two live captions a second per session


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    with running_runtime(tmp_path_factory.mktemp("polycast-partials"), OVERRIDES) as running:
        yield running


def records(session_id: str) -> list[tuple[float, dict[str, Any]]]:
    """(pause before, record): growing partials, the final, then a late partial."""
    out: list[tuple[float, dict[str, Any]]] = []
    for sequence, sentence in enumerate(SENTENCES, start=1):
        words = sentence.split()
        clause = next(i for i, w in enumerate(words) if w.endswith(",")) + 1
        for stable in (clause, len(words) - 1):
            out.append(
                (
                    PACE_SECONDS,
                    {
                        "type": "partial",
                        "sessionId": session_id,
                        "sequence": sequence,
                        "sourceLanguage": "en",
                        "text": " ".join(words[: stable + 1]),
                        "stableText": " ".join(words[:stable]),
                    },
                )
            )
        final = {
            "sessionId": session_id,
            "sequence": sequence,
            "sourceLanguage": "en",
            "transcriptText": sentence,
        }
        late = {**out[-1][1], "text": sentence, "stableText": sentence}
        out += [(0.0, final), (PACE_SECONDS, late)]
    return out


def check_final_caption_first(messages: list[dict[str, Any]]) -> None:
    """Each segment's own text came as a partial before it (the final caption, ahead
    of the audio): the last partial of its sequence."""
    last: dict[int, str] = {}
    for message in messages:
        if message["type"] == "partial":
            last[message["sequence"]] = message["text"]
        elif message["type"] == "segment":
            sequence = message["sequence"]
            assert last.get(sequence) == message["text"], (sequence, last.get(sequence))


def check_live_captions(messages: list[dict[str, Any]]) -> None:
    """Partials then the segment, per sequence; never a partial after it; none twice."""
    finals: set[int] = set()
    seen: set[tuple[int, str]] = set()
    captioned: set[int] = set()
    for message in messages:
        validate(f"messages/{message['type']}", message)
        if message["type"] == "segment":
            finals.add(message["sequence"])
        elif message["type"] == "partial":
            sequence = message["sequence"]
            assert sequence not in finals, f"partial #{sequence} after its segment"
            assert (sequence, message["text"]) not in seen, f"partial #{sequence} twice"
            seen.add((sequence, message["text"]))
            captioned.add(sequence)
    assert finals == {1, 2, 3}
    assert captioned == {1, 2, 3}, f"live captions only for {sorted(captioned)}"


async def captions_only_listener(
    runtime: RunningRuntime, session_id: str, language: str, acked: asyncio.Event
) -> list[dict[str, Any]]:
    """A listener that turns audio off first; its messages until sessionEnded."""
    out: list[dict[str, Any]] = []
    async with websockets.connect(
        listener_url(runtime.ws_url, session_id, language), max_size=None
    ) as connection:
        await connection.send(json.dumps({"action": "audio", "on": False}))
        async with asyncio.timeout(120):
            async for frame in connection:
                message = json.loads(frame)
                out.append(message)
                if message.get("type") == "ack":
                    acked.set()
                if message.get("type") == "sessionEnded":
                    break
    return out


def produce(runtime: RunningRuntime, session_id: str) -> None:
    for pause, record in records(session_id):
        time.sleep(pause)
        put(runtime, session_id, [record])
    put(runtime, session_id, [{"type": "sessionEnded", "sessionId": session_id}])


def test_live_captions_precede_each_segment_and_never_follow_it(runtime: RunningRuntime) -> None:
    session_id = f"live-lark-{secrets.randbelow(900) + 100}"

    async def scenario() -> tuple[Listener, list[dict[str, Any]], list[dict[str, Any]]]:
        start_session(runtime, session_id)
        es_task, _ = await open_listener(runtime, session_id, "es")
        es_reader_acked, fr_acked = asyncio.Event(), asyncio.Event()
        es_reader = asyncio.create_task(
            captions_only_listener(runtime, session_id, "es", es_reader_acked)
        )
        fr_reader = asyncio.create_task(captions_only_listener(runtime, session_id, "fr", fr_acked))
        async with asyncio.timeout(30):
            await es_reader_acked.wait()
            await fr_acked.wait()
        await asyncio.to_thread(produce, runtime, session_id)
        return await es_task, await es_reader, await fr_reader

    es, es_reader, fr_reader = asyncio.run(scenario())
    log = runtime.log()
    check_live_captions(es.messages)
    check_live_captions(es_reader)
    check_live_captions(fr_reader)
    # es is synthesized (one listener hears it): its final captions come first, to
    # the captions-only reader of es too; fr (nobody hears it) gets none.
    check_final_caption_first(es.messages)
    check_final_caption_first(es_reader)
    fr_segments = {m["sequence"]: m["text"] for m in fr_reader if m["type"] == "segment"}
    fr_partials = [m for m in fr_reader if m["type"] == "partial"]
    assert all(m["text"] != fr_segments.get(m["sequence"]) for m in fr_partials)
    # Captions are translated (Apertium), and grow in place toward the segment.
    first = [m["text"] for m in es.messages if m["type"] == "partial" and m["sequence"] == 1]
    assert first[0].lower().startswith("buenos días"), first
    # The ears get audio; the captions-only listeners none — fr (nobody hears it) is
    # not synthesized at all, es is (one listener still hears it).
    assert all(s.audio is not None for s in es.segments), log[-3000:]
    for messages in (es_reader, fr_reader):
        segments = [m for m in messages if m["type"] == "segment"]
        assert segments
        assert all(m["audio"] is None for m in segments)
    assert {"type": "ack", "action": "audio", "on": False} in fr_reader
