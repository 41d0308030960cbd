"""One PNG of a bench result: latency distributions, counts, and each ratio against its bar."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def render(result: Mapping[str, Any], path: Path) -> Path:
    """Draw what ``result`` holds (scenarios not run leave their panel empty)."""
    scenarios = result["scenarios"]
    fig, axes = plt.subplots(2, 4, figsize=(22, 9.5))
    panels = [
        ("critical-path", _critical_path),
        ("fan-out", _fan_out),
        ("requests-per-segment", _requests),
        ("local-engines", _local_engines),
        ("cache", _cache),
        ("partials", _partials),
    ]
    for ax, (name, draw) in zip(axes.flat, panels, strict=False):
        data = scenarios.get(name)
        if data is None or data.get("error"):
            ax.set_title(f"{name}: not run" if data is None else f"{name}: error")
            ax.axis("off")
            continue
        draw(ax, data)
    axes.flat[6].axis("off")
    _verdicts(axes.flat[7], scenarios)
    m = result["machine"]
    fig.suptitle(
        f"polycast bench ({result.get('size')}) — {m.get('nproc')} CPUs, Python {m.get('python')}, "
        f"load {m.get('loadAverage')}, {m.get('date')}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _critical_path(ax: Axes, r: Mapping[str, Any]) -> None:
    run = r["runs"][-1]
    times = r["deliveryMs"]
    ax.hist(times, bins=40, color="tab:blue", alpha=0.8, label="deliveries (last run)")
    ax.axvline(run["idealMs"], color="tab:green", ls="--", label=f"ideal {run['idealMs']:.0f} ms")
    ax.axvline(
        run["measuredMs"], color="tab:red", label=f"last listener {run['measuredMs']:.0f} ms"
    )
    ax.set_title(
        f"critical path: {len(r['languages'])} languages, {r['listeners']} listeners\n"
        f"ratio {r['ratio']:.2f} (bar ≤ {r['bar']}); naive schedule {run['naiveMs'] / 1000:.1f} s"
    )
    ax.set_xlabel("ms after the record entered the processor")
    ax.set_ylabel("listeners")
    ax.legend(fontsize=8)


def _fan_out(ax: Axes, r: Mapping[str, Any]) -> None:
    for key, color in (("whole", "tab:blue"), ("split", "tab:orange")):
        m = r[key]
        times = m["deliveryMs"]
        step = m["delivered"] / max(1, len(times))
        ax.plot(
            times,
            [step * (i + 1) for i in range(len(times))],
            color=color,
            label=f"{m['invocations']} invocation(s): {m['deliveriesPerSecond']:.0f}/s"
            f" = {m['share']:.2f} of bound",
        )
        bound_ms = m["delivered"] / (m["invocations"] * r["concurrency"] / m["postMs"])
        ax.plot([0, bound_ms], [0, m["delivered"]], color=color, ls=":", lw=1)
    ax.set_title(
        f"fan-out: {r['listeners']} listeners, {r['nominalPostMs']:g} ms posts\n"
        f"dotted: the bound (concurrency ÷ latency); ratio {r['ratio']:.2f} (bar ≥ {r['bar']})"
    )
    ax.set_xlabel("ms")
    ax.set_ylabel("deliveries")
    ax.legend(fontsize=8)


def _requests(ax: Axes, r: Mapping[str, Any]) -> None:
    sizes = [str(s["listeners"]) for s in r["sizes"]]
    x = range(len(sizes))
    ax.bar([i - 0.2 for i in x], r["processorCallsPerSegment"], width=0.4, label="processor")
    ax.bar([i + 0.2 for i in x], r["broadcasterCallsPerSegment"], width=0.4, label="broadcaster")
    for i, (p, b) in enumerate(
        zip(r["processorCallsPerSegment"], r["broadcasterCallsPerSegment"], strict=True)
    ):
        ax.text(i - 0.2, p, f"{p:g}", ha="center", va="bottom", fontsize=8)
        ax.text(i + 0.2, b, f"{b:g}", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(list(x), sizes)
    ax.set_xlabel("listeners (3 languages)")
    ax.set_ylabel("AWS calls per segment (log)")
    ax.set_title(
        "requests per segment (moto, botocore-counted)\n"
        f"processor ratio {r['ratio']:g} (bar ≤ {r['bar']:g})"
    )
    ax.legend(fontsize=8)


def _local_engines(ax: Axes, r: Mapping[str, Any]) -> None:
    langs = list(r["endToEndMsByLanguage"])
    p50 = [r["endToEndMsByLanguage"][lang].get("p50", 0) for lang in langs]
    p95 = [r["endToEndMsByLanguage"][lang].get("p95", 0) for lang in langs]
    x = range(len(langs))
    ax.bar([i - 0.2 for i in x], p50, width=0.4, label="p50 end to end")
    ax.bar([i + 0.2 for i in x], p95, width=0.4, label="p95 end to end")
    engines = r["engineMsPerSegment"]
    work = engines.get("translateMs", {}).get("p50", 0) + engines.get("synthesizeMs", {}).get(
        "p50", 0
    )
    ax.axhline(
        work, color="tab:red", ls="--", label=f"engines (translate + synthesize p50) {work:.0f} ms"
    )
    ax.set_xticks(list(x), langs)
    ax.set_ylabel("ms, PutRecord → listener")
    share = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
    ax.set_title(
        f"local runtime, real engines: {r['listeners']} listeners, {r['segments']} segments\n"
        f"engines' share of p50: {share}; {r['deliveries']}/{r['expectedDeliveries']} delivered"
    )
    ax.legend(fontsize=8)


def _cache(ax: Axes, r: Mapping[str, Any]) -> None:
    runs = [
        ("no caches", r["withoutCaches"]),
        ("caches", r["withCaches"]),
        ("2nd container", r["secondContainer"]),
    ]
    x = range(len(runs))
    ax.bar(
        [i - 0.2 for i in x],
        [m["translateCalls"] for _, m in runs],
        width=0.4,
        label="Translate calls",
    )
    ax.bar(
        [i + 0.2 for i in x],
        [m["synthesizeCalls"] for _, m in runs],
        width=0.4,
        label="Polly calls",
    )
    ax.set_xticks(list(x), [label for label, _ in runs])
    ax.set_title(
        f"cache: {r['transcripts']} transcripts, {r['distinctPhrases']} distinct, "
        f"{len(r['languages'])} languages\ncalls saved: ×{r['ratio']:g} (bar ≥ {r['bar']:g})"
    )
    ax.legend(fontsize=8)


def _partials(ax: Axes, r: Mapping[str, Any]) -> None:
    bins = [x / 4 for x in range(0, 33)]
    ax.hist(r["finalsOnlyLags"], bins=bins, alpha=0.5, color="tab:gray", label="finals only")
    ax.hist(r["lags"], bins=bins, alpha=0.7, color="tab:blue", label="with live captions")
    lag = r["captionLag"]
    ax.axvline(lag["p50Seconds"], color="tab:blue", ls="--", label=f"p50 {lag['p50Seconds']} s")
    ax.set_xlabel("word end → its translated caption (s)")
    ax.set_ylabel("words")
    ax.legend(fontsize=8)
    ax.set_title(
        f"partials: erasure {r['erasure']['value']:.3f} (bar ≤ {r['erasure']['bar']}), "
        f"extra {r['ratio']:.2f}× finals (≤ {r['bar']})\n"
        f"naive re-translation: erasure {r['naive']['erasure']:.2f}, "
        f"{r['naive']['extraCharacters']:.1f}× finals",
        fontsize=9,
    )


def _verdicts(ax: Axes, scenarios: Mapping[str, Any]) -> None:
    """Each ratio as a margin over its bar: ≥ 1 meets it, whichever way the bar reads."""
    names, margins, colors = [], [], []
    for name, r in scenarios.items():
        if r.get("ratio") is None or r.get("barKind") not in ("min", "max") or not r["ratio"]:
            continue
        margin = r["ratio"] / r["bar"] if r["barKind"] == "min" else r["bar"] / r["ratio"]
        names.append(
            f"{name}\n{r['ratio']:.3g} {'≥' if r['barKind'] == 'min' else '≤'} {r['bar']:g}?"
        )
        margins.append(margin)
        colors.append("tab:green" if r["pass"] else "tab:red")
    ax.barh(names, margins, color=colors)
    ax.axvline(1.0, color="black", lw=1)
    ax.invert_yaxis()
    ax.set_xlabel("ratio against its bar (≥ 1: bar met)")
    ax.set_title("ratios vs bars")
    ax.tick_params(axis="y", labelsize=8)
