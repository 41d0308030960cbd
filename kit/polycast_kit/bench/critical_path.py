"""critical-path: one segment, many languages and listeners, record in → last listener.

The real processor (Kinesis batch → orchestrator) publishes ``SegmentReady``; each
event starts one broadcaster invocation in its own warm worker process
(EventBridge → Lambda, no bus delay), which fans out with the deployed
concurrency. Only Translate, Polly and PostToConnection take time (seeded
jitter); the stores are in memory.

Ideal schedule, from the delays actually drawn in the run, per language ``l``
(``T`` translate, ``S`` synthesize, ``n`` listeners, ``P`` mean post, ``C``
concurrent posts per invocation)::

    ideal = max_l ( T_l + S_l + ceil(n_l / C) · P_l )
    naive = Σ_l  ( T_l + S_l + n_l · P_l )      # one thing at a time

ratio = median over runs of measured ÷ ideal; bar ≤ 1.10.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping
from typing import Any

from polycast.adapters.aws.kinesis_records import stream_records
from polycast.domain.models import EmotionDynamics
from polycast.domain.ssml import build_ssml
from polycast.domain.voices import voice_for
from polycast_kit.bench.invocations import Audience, BroadcasterProcesses
from polycast_kit.bench.latency import Latency, SlowSender, SlowSynthesizer, SlowTranslator
from polycast_kit.bench.sizes import Progress, Size
from polycast_kit.bench.world import (
    TEN_LANGUAGES,
    DispatchingPublisher,
    LambdaContext,
    kinesis_event,
    listen,
    memory_pipeline,
    split_evenly,
    transcript,
)
from polycast_kit.testing.connections import MemoryConnectionStore

NAME = "critical-path"
BAR = 1.10
SESSION = "bench-critical-1"
CONCURRENCY = 100  # MAX_CONCURRENT_BROADCASTS


def ideal_ms(per_language: Mapping[str, Mapping[str, float]], concurrency: int) -> float:
    return max(
        lang["translateMs"]
        + lang["synthesizeMs"]
        + math.ceil(lang["listeners"] / concurrency) * lang["postMs"]
        for lang in per_language.values()
    )


def naive_ms(per_language: Mapping[str, Mapping[str, float]]) -> float:
    return sum(
        lang["translateMs"] + lang["synthesizeMs"] + lang["listeners"] * lang["postMs"]
        for lang in per_language.values()
    )


def ratio_of(runs: list[dict[str, Any]]) -> float:
    return float(statistics.median(run["measuredMs"] / run["idealMs"] for run in runs))


def run(size: Size, progress: Progress) -> dict[str, Any]:
    full = size == "full"
    languages = TEN_LANGUAGES if full else TEN_LANGUAGES[:3]
    listeners = 1000 if full else 30
    runs = 3 if full else 2
    scale = 1.0 if full else 0.2

    latency = Latency(scale=scale)
    translator = SlowTranslator(latency)
    synthesizer = SlowSynthesizer(latency)
    counts = split_evenly(listeners, languages)
    audience = Audience(SESSION, counts, concurrency=CONCURRENCY, latency_scale=scale)
    progress(f"{NAME}: starting {len(languages)} broadcaster workers")
    broadcasters = BroadcasterProcesses(audience, workers=len(languages))
    invocations: list[dict[str, Any]] = []

    def invoke(detail_type: str, detail: Mapping[str, Any]) -> None:
        out = broadcasters.invoke(detail_type, detail)
        invocations.append({"language": detail["language"], **out})

    dispatcher = DispatchingPublisher(invoke)
    pipeline = memory_pipeline(translator=translator, synthesizer=synthesizer, publisher=dispatcher)
    listen(pipeline.sessions, SESSION, counts)

    results: list[dict[str, Any]] = []
    deliveries: list[float] = []
    try:
        for number in range(runs + 1):  # run 0 warms the containers up
            translator.drawn.clear()
            synthesizer.drawn.clear()
            dispatcher.invocations.clear()
            invocations.clear()
            text = f"Segment number {number} of the benchmark talk, about eighty characters long."
            event = kinesis_event([transcript(SESSION, number + 1, text)])
            started = time.perf_counter()
            batch = pipeline.processor.process_batch(stream_records(event), LambdaContext())
            dispatcher.wait()
            finished = [t for inv in invocations for t in inv["finished"]]
            if batch.failed or len(finished) != listeners:
                raise RuntimeError(f"{NAME} run {number}: {len(finished)}/{listeners} delivered")
            if number == 0:
                continue
            measured = (max(finished) - started) * 1000
            post_ms = {inv["language"]: inv["postMs"] for inv in invocations}
            per_language = {
                lang: {
                    "listeners": n,
                    "translateMs": round(sum(translator.drawn[lang]), 3),
                    "synthesizeMs": round(sum(synthesizer.drawn[lang]), 3),
                    "postMs": round(post_ms[lang], 3),
                }
                for lang, n in counts.items()
            }
            deliveries = sorted((t - started) * 1000 for t in finished)
            results.append(
                {
                    "measuredMs": round(measured, 3),
                    "idealMs": round(ideal_ms(per_language, CONCURRENCY), 3),
                    "naiveMs": round(naive_ms(per_language), 3),
                    "firstDeliveryMs": round(deliveries[0], 3),
                    "perLanguage": per_language,
                }
            )
            progress(f"{NAME}: run {number}/{runs}: {measured:.0f} ms")
        naive_measured = None if full else _naive_sequential(latency, counts)
    finally:
        pipeline.close()
        dispatcher.close()
        broadcasters.close()

    ratio = ratio_of(results)
    return {
        "ratio": round(ratio, 4),
        "bar": BAR,
        "barKind": "max",
        "pass": ratio <= BAR,
        "languages": list(languages),
        "listeners": listeners,
        "concurrency": CONCURRENCY,
        "latencyScale": scale,
        "nominalMs": {
            "translate": translator.nominal_ms,
            "synthesize": synthesizer.nominal_ms,
            "post": audience.post_ms,
        },
        "jitter": latency.jitter,
        "runs": results,
        "naiveMeasured": naive_measured,
        "deliveryMs": [round(d, 2) for d in deliveries],
    }


def _naive_sequential(latency: Latency, counts: Mapping[str, int]) -> dict[str, float]:
    """One thing at a time, with the same fakes: the naive schedule, measured and computed."""
    translator = SlowTranslator(latency)
    synthesizer = SlowSynthesizer(latency)
    sender = SlowSender(latency, keep_payloads=False)
    audience = Audience(SESSION, counts)
    store = MemoryConnectionStore(page_size=1000)
    for connection in audience.connections():
        store.put(connection)
    started = time.perf_counter()
    text = "The naive schedule: one language, then one listener, at a time."
    for lang in counts:
        translated = translator.translate(text, source="en", target=lang)
        voice = voice_for(lang, synthesizer.engine)
        assert voice is not None
        audio = synthesizer.synthesize(
            build_ssml(translated, EmotionDynamics(), engine=voice.engine), language=lang
        )
        for page in store.listeners(SESSION, lang):
            for connection in page:
                sender.post(connection.connection_id, audio)
    measured = (time.perf_counter() - started) * 1000
    computed = sum(
        sum(delays)
        for recorder in (translator.drawn, synthesizer.drawn, sender.drawn)
        for delays in recorder.values()
    )
    return {"measuredMs": round(measured, 3), "computedMs": round(computed, 3)}
