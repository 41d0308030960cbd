"""Speech in, captions out, on the local runtime: latency and the recognizer's speed.

Festival speaks a talk whose sentence boundaries are known to the millisecond
(:mod:`polycast_kit.transcribe.festival`). The speak client (the code behind
``polycast speak``: :class:`SpeakerChannel`, :class:`SentenceCutter`, real-time
:func:`file_chunks`) streams it into an in-process runtime through the runtime's
Transcribe-protocol endpoint (pocketsphinx), while WebSocket listeners timestamp
every ``partial`` and ``segment`` they receive.

Two figures (docs/performance.md, "speech"):

* **end of utterance → caption**: from the moment a sentence's last word has been
  spoken (its known end in the WAV; the audio is sent as a microphone delivers it,
  each 100 ms chunk when its last sample has been "spoken") to the listener's
  translated caption of it (the ``segment`` of the transcript that completes it:
  the first one whose recognized end reaches the sentence's end). Everything
  between is in: the recognizer's pause detection and final pass, sentence
  cutting, the speaker function, Kinesis, the processor with Apertium and
  espeak-ng, EventBridge, the broadcaster, the gateway.
* **real-time factor**: the recognizer's decoding CPU time ÷ the audio's duration,
  as the runtime records it for every stream (``LocalRuntime.recognitions``); < 1
  keeps up with live speech.

Before the talk, one transcript (sequence 0) goes straight onto the stream and
every listener waits for it: it starts the engines' pipelines and warms the
handlers, as ``polycast measure`` does, and is reported on its own
(``warmupSeconds``, PutRecord → listener), outside the percentiles.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import boto3
import websockets

from polycast import wiring
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.adapters.aws.speakers import DynamoSpeakerStore
from polycast.domain.session_ids import new_session_id, new_speaker_key
from polycast.services.connections import hash_join_code
from polycast_kit.local.measure import percentile
from polycast_kit.local.runtime import LocalRuntime
from polycast_kit.transcribe.festival import SpokenTalk, speak
from polycast_kit.transcribe.scoring import word_error_rate
from polycast_kit.transcribe.speaker_session import (
    SentenceCutter,
    SpeakerChannel,
    file_chunks,
    speaker_socket_url,
    stream_chunks,
)

NAME = "speech"
SCRIPT: tuple[str, ...] = (
    "Good morning everyone and welcome to the conference.",
    "Today we will talk about the weather in the mountains.",
    "The rain will stop in the afternoon and the sun will come out.",
    "Thank you very much for listening to this short talk.",
    "Our next speaker comes from a small town in the north.",
    "She will tell us about the rivers and the lakes.",
    "Please turn off your phones before the next session.",
    "Lunch will be served at noon in the main hall.",
)
CHUNK_MS = 100
# Bars (docs/performance.md): the recognizer must keep up with live speech with
# room to spare on a busy two-core machine, and a listener should read a sentence
# within a few seconds of its end, as live captioning does.
RTF_BAR = 0.5
P95_SECONDS_BAR = 4.0
END_TOLERANCE_MS = 300  # a recognized end this close to the true end completes it


def _seconds(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50Seconds": None, "p95Seconds": None}
    return {
        "count": len(values),
        "p50Seconds": round(percentile(values, 50), 2),
        "p95Seconds": round(percentile(values, 95), 2),
        "maxSeconds": round(max(values), 2),
        "values": [round(v, 2) for v in values],
    }


def completing_sequence(end_ms: int, sentences: Sequence[dict[str, Any]]) -> int | None:
    """The sequence of the first sent sentence whose recognized end reaches ``end_ms``."""
    for sentence in sorted(sentences, key=lambda s: int(s["sequence"])):
        if int(sentence["endMs"]) >= end_ms - END_TOLERANCE_MS:
            return int(sentence["sequence"])
    return None


async def _listen(url: str, seen: dict[str, dict[int, float]], opened: asyncio.Event) -> None:
    """First arrival of each sequence's ``partial`` and of its ``segment`` (all parts)."""
    parts: dict[int, int] = {}
    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        opened.set()
        async for frame in ws:
            message = json.loads(frame)
            kind, sequence = message.get("type"), message.get("sequence")
            if kind == "sessionEnded":
                return
            if not isinstance(sequence, int):
                continue
            if kind == "partial":
                seen["partial"].setdefault(sequence, time.time())
            elif kind == "segment":
                parts[sequence] = parts.get(sequence, 0) + 1
                if parts[sequence] == int(message.get("parts", 1)):
                    seen["segment"].setdefault(sequence, time.time())


async def _speak_and_listen(
    runtime: LocalRuntime, session_id: str, key: str, talk: SpokenTalk, languages: Sequence[str]
) -> dict[str, Any]:
    endpoints = runtime.endpoints
    assert endpoints is not None
    heard: dict[str, dict[str, dict[int, float]]] = {}
    tasks = []
    for language in languages:
        heard[language] = {"partial": {}, "segment": {}}
        query = urlencode({"sessionId": session_id, "targetLanguage": language})
        opened = asyncio.Event()
        task = asyncio.create_task(
            _listen(f"{endpoints.websocket_url}/?{query}", heard[language], opened)
        )
        tasks.append(task)
        await asyncio.wait(
            {task, asyncio.create_task(opened.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if task.done():
            task.result()  # a refused connect raises here
    warmup = await asyncio.to_thread(_warm_up, runtime, session_id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(0 not in h["segment"] for h in heard.values()):
        await asyncio.sleep(0.05)
    warmup_seconds = max(h["segment"].get(0, float("nan")) - warmup for h in heard.values())
    sent: list[dict[str, Any]] = []

    def printer(kind: str, text: str, fields: dict[str, Any]) -> None:
        if kind == "sentence":
            sent.append({"text": text, "sentAt": time.time(), **fields})

    began: list[float] = []

    async def timed(chunks: Any) -> Any:
        async for chunk in chunks:
            if not began:
                # The first chunk's last sample is "spoken" now: audio time 0 was
                # one chunk ago, as a microphone delivers it.
                began.append(time.time() - CHUNK_MS / 1000)
            yield chunk

    url = speaker_socket_url(endpoints.websocket_url, session_id, key)
    async with SpeakerChannel(url) as channel:
        answer = await channel.transcribe_url("en-US", 16000)
        cutter = SentenceCutter(channel, printer)
        chunks = timed(file_chunks(talk.pcm, fast=False, chunk_ms=CHUNK_MS))
        await stream_chunks(str(answer["url"]), cutter.tap(chunks), cutter)
        settled = await channel.settle()
    expected = {int(s["sequence"]) for s in sent}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
        expected <= set(h["segment"]) for h in heard.values()
    ):
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "sent": sent,
        "heard": heard,
        "audioStart": began[0],
        "settled": settled,
        "warmupSeconds": warmup_seconds,
    }


def _warm_up(runtime: LocalRuntime, session_id: str) -> float:
    """Put the warm-up transcript (sequence 0) on the stream; when it was put."""
    endpoints = runtime.endpoints
    assert endpoints is not None
    kinesis = _client("kinesis", runtime)
    record = {
        "type": "transcript",
        "sessionId": session_id,
        "sequence": 0,
        "sourceLanguage": "en",
        "transcriptText": "Welcome, the talk begins in a moment.",
    }
    put_at = time.time()
    kinesis.put_record(
        StreamName=endpoints.transcript_stream,
        PartitionKey=session_id,
        Data=json.dumps(record).encode(),
    )
    return put_at


def _create_session(runtime: LocalRuntime, languages: Sequence[str]) -> tuple[str, str]:
    """A created session with a speaker key (stored hashed), as ``polycast session
    create`` makes it; its id and key."""
    ddb = _client("dynamodb", runtime)
    table = wiring.SESSIONS.local_name
    session_id, key = new_session_id(), new_speaker_key()
    created = DynamoSessionStore(ddb, table).create(session_id, "en", languages=tuple(languages))
    speakers = DynamoSpeakerStore(ddb, sessions_table=table, connections_table="")
    if not created or not speakers.set_key(session_id, hash_join_code(key)):
        raise RuntimeError(f"session {session_id} could not be created")
    return session_id, key


def _client(service: str, runtime: LocalRuntime) -> Any:
    endpoints = runtime.endpoints
    assert endpoints is not None
    kw: dict[str, Any] = {
        "endpoint_url": endpoints.aws_endpoint,
        "region_name": endpoints.region,
        "aws_access_key_id": "polycast-local",  # the emulator takes any credentials
        "aws_secret_access_key": "polycast-local",
    }
    make: Any = boto3.client
    return make(service, **kw)


def measure_speech_latency(
    *,
    sentences: Sequence[str] = SCRIPT,
    languages: Sequence[str] = ("es", "fr"),
    gap_seconds: float = 0.9,
) -> dict[str, Any]:
    """Speak ``sentences`` (Festival) into an in-process runtime; the figures as JSON."""
    talk = speak(sentences, gap_seconds=gap_seconds)
    with LocalRuntime(aws_port=0, ws_port=0, state_dir=None) as runtime:
        session_id, key = _create_session(runtime, languages)
        run = asyncio.run(_speak_and_listen(runtime, session_id, key, talk, languages))
        recognitions = list(runtime.recognitions)
    return summarize(talk, run, recognitions, languages)


def summarize(
    talk: SpokenTalk,
    run: dict[str, Any],
    recognitions: Sequence[tuple[float, float, float]],
    languages: Sequence[str],
) -> dict[str, Any]:
    """The scenario's JSON from what was spoken, sent, heard and decoded."""
    audio_start: float = run["audioStart"]
    latencies: list[float] = []
    per_language: dict[str, dict[str, Any]] = {}
    missing = 0
    for language in languages:
        segments = run["heard"][language]["segment"]
        values = []
        for truth in talk.sentences:
            sequence = completing_sequence(truth.end_ms, run["sent"])
            arrived = segments.get(sequence) if sequence is not None else None
            if arrived is None:
                missing += 1
                continue
            values.append(arrived - (audio_start + truth.end_ms / 1000))
        per_language[language] = _seconds(values)
        latencies += values
    audio = sum(r[0] for r in recognitions)
    cpu = sum(r[1] for r in recognitions)
    wall = sum(r[2] for r in recognitions)
    rtf = cpu / audio if audio else None
    e2e = _seconds(latencies)
    complete = missing == 0 and bool(run["settled"])
    recognized = " ".join(str(s["text"]) for s in run["sent"])
    p95 = e2e["p95Seconds"]
    return {
        "scenario": NAME,
        "ratio": None if rtf is None else round(rtf, 3),
        "bar": RTF_BAR,
        "barKind": "max",
        "pass": bool(
            complete
            and rtf is not None
            and rtf <= RTF_BAR
            and p95 is not None
            and p95 <= P95_SECONDS_BAR
        ),
        "realTimeFactor": {
            "cpu": None if rtf is None else round(rtf, 3),
            "wall": round(wall / audio, 3) if audio else None,
            "audioSeconds": round(audio, 1),
            "decodingCpuSeconds": round(cpu, 2),
            "bar": RTF_BAR,
        },
        "endOfUtteranceToCaption": {**e2e, "bar": P95_SECONDS_BAR, "barOn": "p95Seconds"},
        "p50Seconds": e2e["p50Seconds"],
        "p95Seconds": p95,
        "byLanguage": per_language,
        "complete": complete,
        "warmupSeconds": round(run["warmupSeconds"], 2),
        "sentencesSpoken": len(talk.sentences),
        "sentencesSent": len(run["sent"]),
        "wordErrorRate": round(word_error_rate(talk.script, recognized), 3),
        "recognized": [s["text"] for s in run["sent"]],
        "languages": list(languages),
        "talkSeconds": round(talk.seconds, 1),
        "command": f"polycast measure --speech --languages {','.join(languages)}",
        "machine": {"cpus": os.cpu_count(), "loadAverage": [round(x, 2) for x in os.getloadavg()]},
    }
