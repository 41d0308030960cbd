"""``polycast bench --size tiny`` end to end: the JSON's shape, ratios recomputed from
the raw measurements beside them, bars evaluated as stated, the plot, and
``polycast cost`` reading the result.

No timing assertions: timing scenarios are checked for honesty (the ratio and the
verdict follow from the numbers in the JSON), counting scenarios for their result.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from polycast_kit.cli.main import main

SCENARIOS = (
    "critical-path",
    "batch-of-sessions",
    "fan-out",
    "requests-per-segment",
    "local-engines",
    "cache",
    "latency-budget",
    "partials",
    "speech",
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "--size", "tiny", "--json", str(folder / "bench.json")])
    assert code == 0
    result: dict[str, Any] = json.loads((folder / "bench.json").read_text())
    result["_folder"] = folder
    result["_table"] = out.getvalue()
    return result


def scenario(bench: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = bench["scenarios"][name]
    assert "error" not in found, found.get("error")
    return found


def verdict(r: dict[str, Any]) -> bool:
    return bool(r["ratio"] >= r["bar"] if r["barKind"] == "min" else r["ratio"] <= r["bar"])


def test_shape_machine_table_and_plot(bench: dict[str, Any]) -> None:
    assert bench["size"] == "tiny"
    assert set(bench["scenarios"]) == set(SCENARIOS)
    assert bench["machine"]["nproc"] >= 1
    assert bench["machine"]["python"].startswith("3.")
    for name, r in bench["scenarios"].items():
        assert {"ratio", "bar", "barKind", "pass", "seconds"} <= set(r), name
        assert name in bench["_table"]
    png = bench["_folder"] / "bench.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_critical_path_ratio_is_measured_over_ideal(bench: dict[str, Any]) -> None:
    r = scenario(bench, "critical-path")
    ratios = []
    for run in r["runs"]:
        per = run["perLanguage"]
        assert set(per) == set(r["languages"])
        assert sum(lang["listeners"] for lang in per.values()) == r["listeners"]
        ideal = max(
            p["translateMs"]
            + p["synthesizeMs"]
            + math.ceil(p["listeners"] / r["concurrency"]) * p["postMs"]
            for p in per.values()
        )
        naive = sum(
            p["translateMs"] + p["synthesizeMs"] + p["listeners"] * p["postMs"]
            for p in per.values()
        )
        assert run["idealMs"] == pytest.approx(ideal, abs=0.01)
        assert run["naiveMs"] == pytest.approx(naive, abs=0.01)
        assert run["firstDeliveryMs"] <= run["measuredMs"]
        ratios.append(run["measuredMs"] / run["idealMs"])
    assert r["ratio"] == pytest.approx(statistics.median(ratios), abs=1e-3)
    assert r["bar"] == 1.10
    assert r["barKind"] == "max"
    assert r["pass"] == verdict(r)
    assert len(r["deliveryMs"]) == r["listeners"]  # every listener got the segment
    naive = r["naiveMeasured"]  # measured at tiny size, with the same fakes
    assert naive["measuredMs"] >= naive["computedMs"] * 0.99


def test_batch_of_sessions_speed_up_and_order(bench: dict[str, Any]) -> None:
    r = scenario(bench, "batch-of-sessions")
    assert r["sequential"]["maxParallelSessions"] == 1
    assert r["ratio"] == pytest.approx(
        r["sequential"]["elapsedMs"] / r["concurrent"]["elapsedMs"], abs=1e-3
    )
    for label in ("concurrent", "sequential", "concurrent32"):
        run = r[label]
        assert run["processed"] == r["records"]
        assert run["failed"] == 0
        by_session = run["sequencesBySession"]
        assert len(by_session) == r["sessions"]
        assert all(seqs == sorted(seqs) for seqs in by_session.values())
    assert r["orderKept"] is True  # counted, not timed: order is always kept
    assert r["bar"] == 10.0
    assert r["barKind"] == "min"
    assert r["pass"] == (verdict(r) and r["orderKept"])


def test_fan_out_share_of_the_bound(bench: dict[str, Any]) -> None:
    r = scenario(bench, "fan-out")
    shares = []
    for key in ("whole", "split"):
        m = r[key]
        assert m["delivered"] == r["listeners"]
        assert m["failed"] == 0
        bound = m["invocations"] * r["concurrency"] / (m["postMs"] / 1000)
        share = m["delivered"] / (m["elapsedMs"] / 1000) / bound
        assert m["share"] == pytest.approx(share, abs=1e-3)
        shares.append(share)
    assert r["whole"]["invocations"] == 1
    assert r["split"]["invocations"] == math.ceil(r["listeners"] / r["sliceSize"]) > 1
    assert r["ratio"] == pytest.approx(min(shares), abs=1e-3)
    assert r["pass"] == verdict(r)


def calls(counts: dict[str, float]) -> float:
    return sum(n for op, n in counts.items() if "#" not in op)


def test_requests_per_segment_flat_for_the_processor(bench: dict[str, Any]) -> None:
    r = scenario(bench, "requests-per-segment")
    sizes = r["sizes"]
    assert [s["listeners"] for s in sizes] == sorted(s["listeners"] for s in sizes)
    processor = [calls(s["processor"]) for s in sizes]
    assert processor == r["processorCallsPerSegment"]
    assert r["ratio"] == pytest.approx(processor[-1] / processor[0])
    assert r["pass"] is True
    assert r["ratio"] == 1.0
    assert processor[0] > 0
    for s in sizes:  # the broadcaster posts once per listener: it grows, as expected
        assert s["broadcaster"]["apigatewaymanagementapi.PostToConnection"] == s["listeners"]
        assert s["processor"]["dynamodb.GetItem"] == 1  # one Sessions read per segment
    assert r["broadcasterCallsPerSegment"][-1] > r["broadcasterCallsPerSegment"][0]


def test_local_engines_complete_and_share(bench: dict[str, Any]) -> None:
    r = scenario(bench, "local-engines")
    assert r["deliveries"] == r["expectedDeliveries"] == r["listeners"] * r["segments"]
    assert r["pass"] is True
    assert r["barKind"] == "complete"
    engines = r["engineMsPerSegment"]
    share = (engines["translateMs"]["p50"] + engines["synthesizeMs"]["p50"]) / r["endToEndMs"][
        "p50"
    ]
    assert r["ratio"] == pytest.approx(share, abs=1e-3)
    assert r["endToEndMs"]["p50"] <= r["endToEndMs"]["p95"]


def test_speech_ratio_is_the_recognizers_real_time_factor(bench: dict[str, Any]) -> None:
    r = scenario(bench, "speech")
    rtf = r["realTimeFactor"]
    assert rtf["audioSeconds"] > 0
    assert r["ratio"] == pytest.approx(rtf["decodingCpuSeconds"] / rtf["audioSeconds"], abs=2e-3)
    assert r["barKind"] == "max"
    assert r["complete"] is True, r["recognized"]
    latency = r["endOfUtteranceToCaption"]
    assert latency["count"] == r["sentencesSpoken"] * len(r["languages"])
    assert r["p50Seconds"] <= r["p95Seconds"] == latency["p95Seconds"]
    passes = verdict(r) and r["p95Seconds"] <= latency["bar"]
    assert r["pass"] is passes


def test_cache_saves_every_repeat(bench: dict[str, Any]) -> None:
    r = scenario(bench, "cache")
    with_, without = r["withCaches"], r["withoutCaches"]
    ratio = (without["translateCalls"] + without["synthesizeCalls"]) / (
        with_["translateCalls"] + with_["synthesizeCalls"]
    )
    assert r["ratio"] == pytest.approx(ratio)
    languages = len(r["languages"])
    assert with_["translateCalls"] == with_["synthesizeCalls"] == r["distinctPhrases"] * languages
    assert without["translateCalls"] == r["transcripts"] * languages
    assert r["secondContainer"]["translateCalls"] == r["secondContainer"]["synthesizeCalls"] == 0
    assert r["bar"] == r["transcripts"] / r["distinctPhrases"]
    assert r["pass"] is True  # counted: deterministic


def test_cost_reads_the_bench_result(bench: dict[str, Any], tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "cost",
                "--bench",
                str(bench["_folder"] / "bench.json"),
                "--json",
                str(tmp_path / "c.json"),
            ]
        )
    assert code == 0
    result = json.loads((tmp_path / "c.json").read_text())
    rows = result["estimates"]
    assert {(row["listeners"], row["languages"]) for row in rows} == {
        (n, k) for n in (10, 500, 10_000) for k in (1, 3, 10)
    }
    for check in result["requestModel"]["check"]:  # the model reproduces the counts
        assert check["processorModel"] == check["processorMeasured"]
        assert check["broadcasterModel"] == pytest.approx(check["broadcasterMeasured"], rel=0.01)
    assert "reference: $0.04 per listener-hour at 500 listeners" in out.getvalue()


def test_unknown_scenario_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_latency_budget_follows_from_its_model_and_names_its_sources(
    bench: dict[str, Any],
) -> None:
    r = scenario(bench, "latency-budget")
    for figures in r["byConsumer"].values():
        for name in (
            "endOfSentenceToProcessor",
            "endOfSentenceToFinalCaption",
            "endOfSentenceToFirstAudio",
            "putRecordToFinalCaption",
            "putRecordToFirstAudio",
        ):
            assert 0 < figures[name]["p50Seconds"] <= figures[name]["p95Seconds"], name
        start = figures["putRecordToFirstAudio"]["p50Seconds"]
        assert start < figures["endOfSentenceToFirstAudio"]["p50Seconds"]
        # The final caption goes out before synthesis: ahead of the audio, after the
        # sentence reaches the processor.
        caption = figures["endOfSentenceToFinalCaption"]["p50Seconds"]
        assert figures["endOfSentenceToProcessor"]["p50Seconds"] < caption
        assert caption < figures["endOfSentenceToFirstAudio"]["p50Seconds"]
        for name, bar in (("endOfSentenceToFinalCaption", 1.0), ("endOfSentenceToFirstAudio", 1.5)):
            assert figures[name]["bar"] == bar
            assert figures[name]["pass"] == (figures[name]["p50Seconds"] <= bar)
        assert figures["ratio"] == pytest.approx(
            max(caption / 1.0, figures["endOfSentenceToFirstAudio"]["p50Seconds"] / 1.5), abs=1e-3
        )
        assert figures["pass"] == (figures["ratio"] <= 1.0)
    polling, pushed = r["byConsumer"]["polling"], r["byConsumer"]["enhancedFanOut"]
    assert (
        pushed["putRecordToFirstAudio"]["p50Seconds"]
        < polling["putRecordToFirstAudio"]["p50Seconds"]
    )
    # The verdict is enhanced fan-out's: under polling the sentence reaches the
    # processor about as late as the caption bar.
    assert r["judged"] == "enhancedFanOut"
    assert polling["endOfSentenceToProcessor"]["p50Seconds"] > 0.9
    caption = r["endOfSentenceToFinalCaption"]["p50Seconds"]
    audio = r["endOfSentenceToFirstAudio"]["p50Seconds"]
    assert (caption, audio) == (
        pushed["endOfSentenceToFinalCaption"]["p50Seconds"],
        pushed["endOfSentenceToFirstAudio"]["p50Seconds"],
    )
    assert r["ratio"] == pytest.approx(max(caption / 1.0, audio / 1.5), abs=1e-3)
    assert r["pass"] == verdict(r)
    assert r["talk"] == {"languages": 3, "listeners": 500, "concurrency": 100}
    work = statistics.median(run["measuredMs"] - run["idealMs"] for run in r["inProcess"]["runs"])
    assert r["inProcess"]["ms"] == pytest.approx(max(0.0, work), abs=0.01)
    assert r["inProcess"]["from"] == "critical-path"
    keys = {c["key"] for c in r["components"]}
    assert {"esmPolling", "esmEnhancedFanOut", "eventBridge", "polly", "translate"} <= keys
    for component in r["components"]:
        assert component["figure"]
        assert component["source"]
        assert component["assumed"] or "https://" in component["source"], component["key"]


def test_partials_figures_follow_from_the_measurements(bench: dict[str, Any]) -> None:
    r = scenario(bench, "partials")
    extra = r["extraCharacters"]
    assert extra["value"] == pytest.approx(
        extra["captionSourceChars"] / extra["finalSourceChars"], abs=1e-3
    )
    assert r["ratio"] == extra["value"]
    assert (r["bar"], r["barKind"], r["erasure"]["bar"]) == (0.5, "max", 0.2)
    assert r["erasure"]["pass"] == (r["erasure"]["value"] <= 0.2)
    assert r["pass"] == (verdict(r) and r["erasure"]["pass"])
    lags = sorted(r["lags"])
    assert r["captionLag"]["p50Seconds"] == pytest.approx(lags[len(lags) // 2], abs=1e-3)
    # A word is never captioned later than its final; some earlier (live captions).
    assert sum(r["lags"]) < sum(r["finalsOnlyLags"])
    assert all(a <= b + 1e-6 for a, b in zip(r["lags"], r["finalsOnlyLags"], strict=True))
    assert r["captionsPublished"] > 0
    # The baseline re-translates every partial: far more characters and erasure.
    assert r["naive"]["extraCharacters"] > extra["value"]
    assert r["naive"]["erasure"] > r["erasure"]["value"]
