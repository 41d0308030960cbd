"""speech: Festival-spoken test speech through the local recognizer to listeners.

Delegates to :func:`polycast_kit.local.measure_speech.measure_speech_latency` (the
same measurement ``polycast measure --speech`` prints): end of utterance → the
listener's translated caption (p50/p95 seconds, named ``p50Seconds`` and
``p95Seconds``), and the recognizer's real-time factor (decoding CPU ÷ audio),
which is the ratio, with its bar ≤ 0.5. The scenario passes when every sentence
reached every listener, the factor is within its bar and the p95 within
``P95_SECONDS_BAR`` (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from polycast_kit.bench.sizes import Progress, Size

NAME = "speech"


def run(size: Size, progress: Progress) -> dict[str, Any]:
    from polycast_kit.local.measure_speech import SCRIPT, measure_speech_latency

    sentences = SCRIPT if size == "full" else SCRIPT[:2]
    languages = ("es", "fr") if size == "full" else ("es",)
    progress(f"{NAME}: speaking {len(sentences)} sentences to {', '.join(languages)} listeners")
    result = measure_speech_latency(sentences=sentences, languages=languages)
    result.pop("machine", None)
    progress(
        f"{NAME}: real-time factor {result['ratio']}, end of utterance → caption "
        f"p50 {result['p50Seconds']} s, p95 {result['p95Seconds']} s"
    )
    return result
