"""``python -m polycast_kit.engines``: what the local engines can do here, and how fast.

Without options it prints the discovered languages, routes and voices as JSON.
``--measure N`` also times N sentences: the long-lived Apertium pipeline against
``apertium -u eng-spa`` started once per sentence, and espeak-ng + MP3 encoding.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from polycast_kit.engines import local_engines
from polycast_kit.engines.apertium_modes import discover

SENTENCES = [
    "Hello everyone, this is important news.",
    "The meeting starts at nine in the morning.",
    "We have finished the first part of the project.",
    "Thank you all for coming today.",
    "The new bridge will open next week.",
]


def _timings_ms(run: Callable[[str], object], n: int) -> dict[str, float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        run(SENTENCES[i % len(SENTENCES)])
        times.append((time.perf_counter() - start) * 1000)
    ordered = sorted(times)
    return {
        "n": n,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(ordered[max(0, round(0.95 * n) - 1)], 2),
        "mean_ms": round(statistics.fmean(times), 2),
    }


def report(source: str, experimental: bool) -> dict[str, Any]:
    catalog = discover(experimental=experimental)
    engines = local_engines(experimental=experimental)
    synthesizer = engines.synthesizer
    targets = catalog.targets(source)
    routes = {}
    for target in targets:
        route = catalog.route(source, target)
        routes[target] = route.describe() if route else None
    return {
        "source": source,
        "targets": targets,
        "routes": routes,
        "sourceOnly": catalog.source_only(source),
        "voices": {t: synthesizer.voice(t) for t in [source, *targets]},
    }


def measure(n: int) -> dict[str, Any]:
    engines = local_engines(experimental=False)
    try:
        translator, synthesizer = engines.translator, engines.synthesizer
        start = time.perf_counter()
        translator.warm_up(["es", "fr"])
        warm_up_ms = (time.perf_counter() - start) * 1000

        def per_process(text: str) -> object:
            return subprocess.run(
                ["apertium", "-u", "eng-spa"],  # noqa: S607
                input=text.encode(),
                capture_output=True,
                check=True,
            )

        ssml = (
            "<speak><prosody rate='110%'>"
            "Hola a todos, esta es una noticia importante.</prosody></speak>"
        )
        return {
            "apertium_start_two_pipelines_ms": round(warm_up_ms, 1),
            "apertium_long_lived_en_es": _timings_ms(
                lambda s: translator.translate(s, source="en", target="es"), n
            ),
            "apertium_long_lived_en_fr_via_es": _timings_ms(
                lambda s: translator.translate(s, source="en", target="fr"), n
            ),
            "apertium_process_per_sentence_en_es": _timings_ms(per_process, n),
            "espeak_wav_per_sentence": _timings_ms(
                lambda _: synthesizer.synthesize_pcm(ssml, language="es"), n
            ),
            "espeak_mp3_per_sentence": _timings_ms(
                lambda _: synthesizer.synthesize(ssml, language="es"), n
            ),
        }
    finally:
        engines.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m polycast_kit.engines")
    parser.add_argument("--source", default="en")
    parser.add_argument("--experimental", action="store_true", help="include install=no modes")
    parser.add_argument("--measure", type=int, metavar="N", help="time N sentences per engine")
    args = parser.parse_args()
    out = report(args.source, args.experimental)
    if args.measure:
        out["timings"] = measure(args.measure)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
