"""local-engines: the local runtime with real Apertium and espeak-ng, end to end.

Delegates to :func:`polycast_kit.local.measure.measure_local_latency` (the same
measurement ``polycast measure`` prints): an in-process runtime on free ports,
a talk put on the stream one record at a time, WebSocket listeners spread over
the languages. There is no bar on absolute latency (it is this machine's);
ratio = the share of the median end-to-end latency spent in translation and
synthesis (median translate + median synthesize, from ``SegmentReady``
timings, ÷ p50), and the scenario passes when every listener got every segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polycast_kit.bench.sizes import Progress, Size

NAME = "local-engines"


def ratio_of(result: Mapping[str, Any]) -> float | None:
    engines = result["engineMsPerSegment"]
    if "translateMs" not in engines or "synthesizeMs" not in engines:
        return None
    work = engines["translateMs"]["p50"] + engines["synthesizeMs"]["p50"]
    return float(work / result["endToEndMs"]["p50"])


def run(size: Size, progress: Progress) -> dict[str, Any]:
    from polycast_kit.local.measure import measure_local_latency

    full = size == "full"
    languages = ("es", "fr", "ca") if full else ("es", "ca")
    listeners, segments, interval = (50, 30, 1.5) if full else (4, 3, 0.3)
    progress(
        f"{NAME}: starting the local runtime ({len(languages)} languages, "
        f"{listeners} listeners, {segments} segments)"
    )
    result = measure_local_latency(
        languages=languages,
        listeners=listeners,
        segments=segments,
        interval_seconds=interval,
        timeout_seconds=120 if full else 60,
    )
    result.pop("machine", None)
    ratio = ratio_of(result)
    progress(f"{NAME}: p50 {result['endToEndMs'].get('p50')} ms, engines' share {ratio}")
    return {
        "ratio": None if ratio is None else round(ratio, 4),
        "bar": None,
        "barKind": "complete",
        "pass": bool(result["complete"]),
        **result,
    }
