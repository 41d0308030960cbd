"""fan-out: one segment to a large single-language audience, whole and split.

The bound a broadcaster invocation can reach is ``C / P`` deliveries per second
(``C`` concurrent posts, ``P`` mean PostToConnection latency drawn in the run);
``k`` invocations given audience slices reach ``k · C / P``. Each invocation runs
in its own warm worker process (a Lambda container of its own).

share = (delivered ÷ elapsed) ÷ bound, for the whole audience in one invocation
and split across ``ceil(listeners / AUDIENCE_SLICE_SIZE)`` invocations;
ratio = the smaller share; bar ≥ 0.8.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

from polycast.config import Settings
from polycast.domain import events
from polycast.domain.models import AudioRef, Segment
from polycast_kit.bench.invocations import Audience, BroadcasterProcesses
from polycast_kit.bench.latency import AUDIO_BYTES, POST_MS
from polycast_kit.bench.sizes import Progress, Size

NAME = "fan-out"
BAR = 0.8
SESSION = "bench-fan-out-1"
CONCURRENCY = 100


def share(
    delivered: int, elapsed_ms: float, invocations: int, post_ms: float, concurrency: int
) -> float:
    """Deliveries per second as a share of ``invocations · concurrency / post latency``."""
    bound = invocations * concurrency / (post_ms / 1000)
    return (delivered / (elapsed_ms / 1000)) / bound


def ratio_of(result: dict[str, Any]) -> float:
    return min(
        share(m["delivered"], m["elapsedMs"], m["invocations"], m["postMs"], result["concurrency"])
        for m in (result["whole"], result["split"])
    )


def _measure(audience: Audience, workers: int, progress: Progress) -> dict[str, Any]:
    """Warm every worker with one segment, then time the next: first event → last delivery."""
    segment = Segment(
        session_id=SESSION,
        sequence=1,
        language="es",
        source_language="en",
        text="Hola a todos, estas son noticias importantes.",
        source_text="Hello everyone, this is important news.",
        audio=AudioRef(data_b64=base64.b64encode(b"\xff" * AUDIO_BYTES).decode("ascii")),
    )
    detail = events.segment_ready(segment)
    with BroadcasterProcesses(audience, workers=workers) as pool:
        pool.broadcast("SegmentReady", {**detail, "sequence": 0})
        started = time.perf_counter()
        outs = pool.broadcast("SegmentReady", detail)
    delivering = [out for out in outs if out["posts"]]
    finished = [t for out in delivering for t in out["finished"]]
    posts = sum(out["posts"] for out in delivering)
    elapsed = (max(finished) - started) * 1000
    delivered = sum(out["delivered"] for out in delivering)
    progress(f"{NAME}: {len(delivering)} invocation(s): {delivered} delivered in {elapsed:.0f} ms")
    step = max(1, len(finished) // 500)
    return {
        "invocations": len(delivering),
        "splitBy": len(outs) - len(delivering),  # invocations that only handed slices on
        "delivered": delivered,
        "failed": sum(out["failed"] for out in delivering),
        "elapsedMs": round(elapsed, 3),
        "postMs": round(sum(out["postMs"] * out["posts"] for out in delivering) / posts, 4),
        "deliveryMs": [round((t - started) * 1000, 2) for t in sorted(finished)[::step]],
    }


def run(size: Size, progress: Progress) -> dict[str, Any]:
    full = size == "full"
    listeners = 10_000 if full else 1000
    slice_size = Settings().audience_slice_size if full else 500
    whole = _measure(
        Audience(SESSION, {"es": listeners}, concurrency=CONCURRENCY, slice_size=0), 1, progress
    )
    split = _measure(
        Audience(SESSION, {"es": listeners}, concurrency=CONCURRENCY, slice_size=slice_size),
        math.ceil(listeners / slice_size),
        progress,
    )
    result: dict[str, Any] = {
        "listeners": listeners,
        "concurrency": CONCURRENCY,
        "sliceSize": slice_size,
        "nominalPostMs": POST_MS,
        "whole": whole,
        "split": split,
    }
    for part in (whole, split):
        part["share"] = round(
            share(
                part["delivered"],
                part["elapsedMs"],
                part["invocations"],
                part["postMs"],
                CONCURRENCY,
            ),
            4,
        )
        part["deliveriesPerSecond"] = round(part["delivered"] / (part["elapsedMs"] / 1000), 1)
    ratio = ratio_of(result)
    return {"ratio": round(ratio, 4), "bar": BAR, "barKind": "min", "pass": ratio >= BAR, **result}
