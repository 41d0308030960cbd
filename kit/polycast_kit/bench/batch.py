"""batch-of-sessions: one Kinesis batch holding many sessions, against one record at a time.

The same processor class, fakes and latencies run the same batch twice: as
deployed (sessions concurrently, each in order, ``max_parallel_sessions`` from
the processor's default) and with ``max_parallel_sessions=1``, which is what
Powertools' BatchProcessor does (one record after another). Records of the
sessions are interleaved in the batch, as a shard interleaves them.

ratio = sequential ms ÷ concurrent ms; bar ≥ 10, and every session's
``SegmentReady`` events must come out in sequence order.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from polycast.adapters.aws.kinesis_records import stream_records
from polycast_kit.bench.latency import Latency, SlowSynthesizer, SlowTranslator
from polycast_kit.bench.sizes import Progress, Size
from polycast_kit.bench.world import (
    DEFAULT_PARALLEL_SESSIONS,
    LambdaContext,
    kinesis_event,
    listen,
    memory_pipeline,
    transcript,
)
from polycast_kit.testing.events import MemoryEventPublisher

NAME = "batch-of-sessions"
BAR = 10.0
LANGUAGES = {"es": 3, "fr": 2}


def in_order(sequences: dict[str, list[int]]) -> bool:
    return all(seqs == sorted(seqs) for seqs in sequences.values())


def ratio_of(result: dict[str, Any]) -> float:
    return float(result["sequential"]["elapsedMs"] / result["concurrent"]["elapsedMs"])


def _measure(
    label: str, sessions: int, per_session: int, scale: float, parallel: int
) -> dict[str, Any]:
    latency = Latency(scale=scale, seed=11)
    publisher = MemoryEventPublisher()
    pipeline = memory_pipeline(
        translator=SlowTranslator(latency),
        synthesizer=SlowSynthesizer(latency),
        publisher=publisher,
        max_parallel_sessions=parallel,
    )
    ids = [f"bench-{label}-{n:02d}" for n in range(sessions)]
    for session_id in ids:
        listen(pipeline.sessions, session_id, LANGUAGES)
    records = [
        transcript(session_id, seq, f"Sentence {seq} of session {session_id}, said in the talk.")
        for seq in range(1, per_session + 1)
        for session_id in ids
    ]
    try:
        started = time.perf_counter()
        batch = pipeline.processor.process_batch(
            stream_records(kinesis_event(records)), LambdaContext()
        )
        elapsed = (time.perf_counter() - started) * 1000
    finally:
        pipeline.close()
    order: dict[str, list[int]] = defaultdict(list)
    for detail in publisher.of_type("SegmentReady"):
        if detail["language"] == "es":
            order[detail["sessionId"]].append(int(detail["sequence"]))
    return {
        "maxParallelSessions": parallel,
        "elapsedMs": round(elapsed, 3),
        "processed": len(batch.outcomes),
        "failed": len(batch.failed),
        "segmentReady": len(publisher.of_type("SegmentReady")),
        "sequencesBySession": dict(order),
    }


def run(size: Size, progress: Progress) -> dict[str, Any]:
    full = size == "full"
    sessions = 20
    per_session = 5 if full else 2
    scale = 1.0 if full else 0.05
    variants = {
        "concurrent": DEFAULT_PARALLEL_SESSIONS,
        "sequential": 1,
        "concurrent32": 32,
    }
    measured: dict[str, dict[str, Any]] = {}
    for label, parallel in variants.items():
        progress(f"{NAME}: {label} (max_parallel_sessions={parallel})")
        measured[label] = _measure(label, sessions, per_session, scale, parallel)
        progress(f"{NAME}: {label}: {measured[label]['elapsedMs']:.0f} ms")
    records = sessions * per_session
    for label, m in measured.items():
        if m["processed"] != records or m["failed"]:
            raise RuntimeError(f"{NAME} {label}: {m['processed']}/{records} processed")
    order_kept = all(in_order(m["sequencesBySession"]) for m in measured.values())
    ratio = ratio_of(measured)
    return {
        "ratio": round(ratio, 4),
        "bar": BAR,
        "barKind": "min",
        "pass": ratio >= BAR and order_kept,
        "orderKept": order_kept,
        "records": records,
        "sessions": sessions,
        "languagesPerSession": len(LANGUAGES),
        "latencyScale": scale,
        **measured,
        "speedUpWith32": round(
            measured["sequential"]["elapsedMs"] / measured["concurrent32"]["elapsedMs"], 4
        ),
    }
