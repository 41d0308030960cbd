"""End-to-end latency of the local runtime with real engines (docs/performance.md).

A talk goes in through ``put_records`` one transcript at a time; WebSocket
listeners spread over the languages timestamp each complete segment (all audio
parts). Latency is PutRecord → listener, per delivery. The processor's own
``SegmentReady`` timings give translation and synthesis time per segment, and the
broadcaster's ``BroadcastCompleted`` reports how long each language's fan-out took
(record, read the listeners, post to each, mark delivered).
``measure_local_latency`` returns a dict so ``polycast bench`` can fold it in.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import websockets

from polycast.domain.session_ids import new_session_id
from polycast_kit.cli.events import EventTap
from polycast_kit.cli.produce import TranscriptProducer
from polycast_kit.local.functions import repo_root
from polycast_kit.local.runtime import LocalRuntime, RuntimeEndpoints


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: every value reported was observed)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def _talk_lines(talk: Path) -> list[dict[str, Any]]:
    out = []
    for line in talk.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record.pop("offsetMs", None)
            out.append(record)
    return out


def _wait_for_session(ddb: Any, table: str, session_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = ddb.get_item(
            TableName=table, Key={"sessionId": {"S": session_id}}, ConsistentRead=True
        ).get("Item")
        if item:
            return
        time.sleep(0.05)
    raise TimeoutError(f"session {session_id} was not created within {timeout} s")


async def _listener(
    url: str, arrivals: dict[tuple[int, int], float], index: int, opened: asyncio.Event
) -> None:
    """Record when each segment is complete (every part received) for one listener."""
    parts: dict[int, int] = {}
    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        opened.set()
        async for frame in ws:
            message = json.loads(frame)
            if message.get("type") == "sessionEnded":
                return
            if message.get("type") != "segment":
                continue
            sequence = int(message["sequence"])
            total = int(message.get("parts", 1))
            parts[sequence] = parts.get(sequence, 0) + 1
            if parts[sequence] == total:
                arrivals[(index, sequence)] = time.time()


def _engine_figures(
    timings: Sequence[dict[str, Any]], latencies: Sequence[float]
) -> tuple[dict[str, dict[str, float]], float | None]:
    """Per-stage engine times (the SegmentReady timings), and the engines' share of
    the median end-to-end latency."""
    engine: dict[str, list[float]] = {}
    for timing in timings:
        for key, value in timing.items():
            if isinstance(value, int | float):
                engine.setdefault(key, []).append(float(value))
    share = None
    if latencies and "translateMs" in engine and "synthesizeMs" in engine:
        work = statistics.median(engine["translateMs"]) + statistics.median(engine["synthesizeMs"])
        share = round(work / percentile(latencies, 50), 3)
    return {key: summary(values) for key, values in sorted(engine.items())}, share


def _read_tap(
    tap: EventTap,
    session_id: str,
    stop: threading.Event,
    timings: list[dict[str, Any]],
    broadcasts: list[float],
) -> None:
    """The session's SegmentReady timings and BroadcastCompleted durations, until ``stop``."""
    while not stop.is_set():
        for event in tap.receive(wait_seconds=1):
            detail = event.get("detail") or {}
            if detail.get("sessionId") != session_id or detail.get("sequence", 0) <= 0:
                continue
            if event.get("detail-type") == "BroadcastCompleted":
                broadcasts.append(float(detail.get("durationMs", 0.0)))
            else:
                timings.append(dict(detail.get("timings") or {}))


def measure_local_latency(
    *,
    languages: Sequence[str] = ("es", "fr", "ca"),
    listeners: int = 50,
    segments: int = 30,
    interval_seconds: float = 1.5,
    endpoints: RuntimeEndpoints | None = None,
    talk: Path | None = None,
    timeout_seconds: float = 120,
) -> dict[str, Any]:
    """Run the scenario (starting an in-process runtime on free ports unless given one)."""
    if endpoints is None:
        with LocalRuntime(aws_port=0, ws_port=0, state_dir=None) as runtime:
            assert runtime.endpoints is not None
            return measure_local_latency(
                languages=languages,
                listeners=listeners,
                segments=segments,
                interval_seconds=interval_seconds,
                endpoints=runtime.endpoints,
                talk=talk,
                timeout_seconds=timeout_seconds,
            )
    kw: dict[str, Any] = {
        "endpoint_url": endpoints.aws_endpoint,
        "region_name": endpoints.region,
        "aws_access_key_id": "polycast-local",
        "aws_secret_access_key": "polycast-local",
    }
    lines = _talk_lines(talk or repo_root() / "samples" / "talk.jsonl")
    session_id = new_session_id()
    producer = TranscriptProducer(boto3.client("kinesis", **kw), endpoints.transcript_stream)
    producer.send([{"type": "sessionStarted", "sessionId": session_id, "sourceLanguage": "en"}])
    _wait_for_session(boto3.client("dynamodb", **kw), "polycast-sessions", session_id)

    tap = EventTap(
        boto3.client("events", **kw),
        boto3.client("sqs", **kw),
        bus_name=endpoints.event_bus,
        detail_types=("SegmentReady", "BroadcastCompleted"),
    ).open()
    timings: list[dict[str, Any]] = []
    broadcasts: list[float] = []  # BroadcastCompleted durationMs, one per language
    stop_tap = threading.Event()

    tap_thread = threading.Thread(
        target=_read_tap,
        args=(tap, session_id, stop_tap, timings, broadcasts),
        name="measure-tap",
        daemon=True,
    )
    tap_thread.start()
    put_at: dict[int, float] = {}
    arrivals: dict[tuple[int, int], float] = {}
    language_of = {i: languages[i % len(languages)] for i in range(listeners)}

    def warmed_up() -> bool:
        return sum(1 for (_, seq) in arrivals if seq == 0) >= listeners

    def send_talk() -> None:
        # Sequence 0 warms the engines up (pipelines start, handlers go warm); it is
        # reported on its own, outside the percentiles, and the talk goes on once every
        # listener has it: a cold start that outlasts the interval would otherwise
        # hold the first sentences up behind it, in their (session, language) lanes.
        for n in range(segments + 1):
            record = {**lines[n % len(lines)], "sessionId": session_id, "sequence": n}
            put_at[n] = time.time()
            producer.send([record])
            if n == 0:
                deadline = time.monotonic() + timeout_seconds
                while not warmed_up() and time.monotonic() < deadline:
                    time.sleep(0.05)
            time.sleep(interval_seconds)

    async def scenario() -> float:
        tasks = []
        for i in range(listeners):
            query = urlencode({"sessionId": session_id, "targetLanguage": language_of[i]})
            opened = asyncio.Event()
            task = asyncio.create_task(
                _listener(f"{endpoints.websocket_url}/?{query}", arrivals, i, opened)
            )
            tasks.append(task)
            await asyncio.wait(
                {task, asyncio.create_task(opened.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            if task.done():
                task.result()  # a refused connect raises here
        started = time.monotonic()
        await asyncio.to_thread(send_talk)
        deadline = time.monotonic() + timeout_seconds
        while len(arrivals) < listeners * (segments + 1) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        producer.send([{"type": "sessionEnded", "sessionId": session_id}])
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        return time.monotonic() - started

    try:
        wall = asyncio.run(scenario())
    finally:
        stop_tap.set()
        tap_thread.join(timeout=5)
        tap.close()

    warmup = [(at - put_at[0]) * 1000 for (_, seq), at in arrivals.items() if seq == 0]
    measured = {key: at for key, at in arrivals.items() if key[1] > 0}
    latencies = [(at - put_at[seq]) * 1000 for (_, seq), at in measured.items()]
    per_language = {
        lang: summary(
            [
                (at - put_at[seq]) * 1000
                for (i, seq), at in measured.items()
                if language_of[i] == lang
            ]
        )
        for lang in languages
    }
    engine_summary, share = _engine_figures(timings, latencies)
    return {
        "scenario": "local real engines",
        "languages": list(languages),
        "listeners": listeners,
        "segments": segments,
        "intervalSeconds": interval_seconds,
        "expectedDeliveries": listeners * segments,
        "deliveries": len(measured),
        "complete": len(measured) == listeners * segments,
        "endToEndMs": summary(latencies),
        "warmupSegmentMs": summary(warmup),
        "endToEndMsByLanguage": per_language,
        "engineMsPerSegment": engine_summary,
        "engineShareOfP50": share,
        "broadcastMsPerSegment": summary(broadcasts),
        "wallSeconds": round(wall, 1),
        "command": (
            f"polycast measure --languages {','.join(languages)} "
            f"--listeners {listeners} --segments {segments} "
            f"--interval {interval_seconds}"
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.system(),
        },
    }
