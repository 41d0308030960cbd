"""Run scenarios, describe the machine, and render the result as a table.

The result is one JSON object: ``{"machine": {...}, "size": ..., "scenarios":
{name: {"ratio", "bar", "barKind", "pass", ...raw measurements}}}``. ``barKind``
says how the bar reads: ``min`` (ratio ≥ bar), ``max`` (ratio ≤ bar), or
``complete`` (no bar on the ratio; passes when the run was complete).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from polycast_kit.bench import (
    batch,
    cache,
    critical_path,
    fan_out,
    latency_budget,
    local_engines,
    partials,
    requests,
    speech,
)
from polycast_kit.bench.sizes import Progress, Size

Scenario = Callable[[Size, Progress], dict[str, Any]]

SCENARIOS: dict[str, Scenario] = {
    critical_path.NAME: critical_path.run,
    batch.NAME: batch.run,
    fan_out.NAME: fan_out.run,
    requests.NAME: requests.run,
    local_engines.NAME: local_engines.run,
    cache.NAME: cache.run,
    latency_budget.NAME: latency_budget.run,
    partials.NAME: partials.run,
    speech.NAME: speech.run,
}


def machine() -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with contextlib.suppress(OSError):
        info["loadAverage"] = [round(x, 2) for x in os.getloadavg()]
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            check=False,
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        if commit.returncode == 0:
            info["commit"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def run_bench(
    names: Iterable[str] | None = None,
    *,
    size: Size = "full",
    progress: Progress = lambda message: None,
) -> dict[str, Any]:
    """Run the named scenarios (all by default), in order; a scenario that breaks is
    reported with its error and ``pass: false``, and the others still run."""
    chosen = list(names or SCENARIOS)
    unknown = [n for n in chosen if n not in SCENARIOS]
    if unknown:
        raise ValueError(
            f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}"
        )
    out: dict[str, Any] = {"machine": machine(), "size": size, "scenarios": {}}
    for name in chosen:
        progress(f"{name}: started")
        started = time.perf_counter()
        try:
            result = SCENARIOS[name](size, progress)
        except Exception as exc:  # report it and go on: one broken scenario hides no others
            result = {
                "ratio": None,
                "bar": None,
                "barKind": "error",
                "pass": False,
                "error": f"{type(exc).__name__}: {exc}",
            }
        result["seconds"] = round(time.perf_counter() - started, 2)
        out["scenarios"][name] = result
        progress(f"{name}: {'pass' if result['pass'] else 'FAIL'} in {result['seconds']} s")
    return out


def _critical_path(r: Mapping[str, Any]) -> str:
    last = r["runs"][-1]
    return (
        f"{last['measuredMs']:.0f} ms vs ideal {last['idealMs']:.0f},"
        f" naive {last['naiveMs'] / 1000:.1f} s"
    )


def _batch(r: Mapping[str, Any]) -> str:
    return (
        f"{r['sequential']['elapsedMs'] / 1000:.1f} s →"
        f" {r['concurrent']['elapsedMs'] / 1000:.2f} s"
        f" ({r['concurrent']['maxParallelSessions']} sessions at once),"
        f" order kept: {r['orderKept']}"
    )


def _fan_out(r: Mapping[str, Any]) -> str:
    return (
        f"whole {r['whole']['deliveriesPerSecond']:.0f}/s ({r['whole']['share']:.2f}),"
        f" {r['split']['invocations']} slices {r['split']['deliveriesPerSecond']:.0f}/s"
        f" ({r['split']['share']:.2f})"
    )


def _requests(r: Mapping[str, Any]) -> str:
    sizes = "/".join(str(s["listeners"]) for s in r["sizes"])
    return (
        f"processor {r['processorCallsPerSegment']} calls/segment at {sizes} listeners;"
        f" broadcaster {r['broadcasterCallsPerSegment']}"
    )


def _local_engines(r: Mapping[str, Any]) -> str:
    e2e = r["endToEndMs"]
    return (
        f"p50 {e2e.get('p50')} ms, p95 {e2e.get('p95')} ms,"
        f" {r['deliveries']}/{r['expectedDeliveries']} delivered"
    )


def _cache(r: Mapping[str, Any]) -> str:
    w, wo = r["withCaches"], r["withoutCaches"]
    return (
        f"{wo['translateCalls']}+{wo['synthesizeCalls']} calls →"
        f" {w['translateCalls']}+{w['synthesizeCalls']};"
        f" 2nd container {r['secondContainer']['translateCalls']}"
    )


def _latency_budget(r: Mapping[str, Any]) -> str:
    return latency_budget.headline(r["byConsumer"])


def _partials(r: Mapping[str, Any]) -> str:
    lag = r["captionLag"]
    return (
        f"erasure {r['erasure']['value']} (≤ {r['erasure']['bar']}),"
        f" caption lag p50 {lag['p50Seconds']} s / p95 {lag['p95Seconds']} s"
        f" (finals only {lag['finalsOnly']['p50Seconds']} / {lag['finalsOnly']['p95Seconds']})"
    )


def _speech(r: Mapping[str, Any]) -> str:
    return (
        f"end of utterance → caption p50 {r['p50Seconds']} s, p95 {r['p95Seconds']} s;"
        f" real-time factor {r['ratio']}"
    )


HEADLINES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    critical_path.NAME: _critical_path,
    batch.NAME: _batch,
    fan_out.NAME: _fan_out,
    requests.NAME: _requests,
    local_engines.NAME: _local_engines,
    cache.NAME: _cache,
    latency_budget.NAME: _latency_budget,
    partials.NAME: _partials,
    speech.NAME: _speech,
}


def headline(name: str, result: Mapping[str, Any]) -> str:
    """One line of what the ratio means, in words."""
    if result.get("error"):
        return str(result["error"])[:60]
    line = HEADLINES.get(name)
    return line(result) if line else ""


def table(result: Mapping[str, Any]) -> str:
    rows = [("scenario", "ratio", "bar", "pass", "what")]
    for name, r in result["scenarios"].items():
        ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.3g}"
        kind = r.get("barKind")
        if kind in ("min", "max"):
            bar = f"{'≥' if kind == 'min' else '≤'} {r['bar']:g}"
        else:
            bar = "complete" if kind == "complete" else "-"
        rows.append((name, ratio, bar, "yes" if r["pass"] else "NO", headline(name, r)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    ]
    m = result["machine"]
    lines.append(
        f"({result['size']} size; {m.get('nproc')} CPUs, Python {m.get('python')},"
        f" load {m.get('loadAverage')})"
    )
    return "\n".join(lines)


def stderr_progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
