"""The commands a user types: ``polycast demo --once`` (what ``make run`` runs, in short)
and ``polycast events tail`` against the running runtime."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from local_e2e_support import RunningRuntime, free_port, open_listener, start_session, talk

pytestmark = pytest.mark.e2e


def test_demo_streams_a_talk_to_a_listener_and_stops_cleanly(tmp_path: Path) -> None:
    records = talk(3)
    short = tmp_path / "short.jsonl"
    short.write_text(
        "\n".join(json.dumps({**r, "offsetMs": 4000 + 1000 * n}) for n, r in enumerate(records))
    )
    command = [
        sys.executable,
        "-m",
        "polycast_kit.cli.main",
        "demo",
        "--once",
        "--talk",
        str(short),
        "--aws-port",
        str(free_port()),
        "--ws-port",
        str(free_port()),
        "--state-dir",
        str(tmp_path / ".polycast"),
        "--language",
        "fr",
    ]
    process = subprocess.Popen(  # noqa: S603
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/\?sessionId=([\w-]+)&targetLanguage=fr)", line)
        if found:
            url, session_id = found.group(1), found.group(2)
    assert url is not None, "".join(lines)
    state = json.loads((tmp_path / ".polycast" / "local.json").read_text())
    runtime = RunningRuntime(process, tmp_path / ".polycast", tmp_path / "none", state)  # type: ignore[arg-type]

    async def listen_fr() -> list[int]:
        task, listener = await open_listener(runtime, session_id, "fr", timeout=60)
        await task
        return [s.sequence for s in listener.segments]

    got = asyncio.run(listen_fr())
    rest = process.stdout.read()
    code = process.wait(timeout=60)
    output = "".join(lines) + rest
    assert code == 0, output
    assert got == [1, 2, 3]
    for sequence in (1, 2, 3):
        assert re.search(rf"<- #{sequence} fr: delivered to 1 listener", output), output
    assert "stopped." in output
    assert not (tmp_path / ".polycast" / "local.json").exists()


def test_events_tail_prints_the_pipelines_events(runtime: RunningRuntime) -> None:
    session_id = f"e2e-tail-{secrets.token_hex(3)}"
    command = [
        sys.executable,
        "-m",
        "polycast_kit.cli.main",
        "events",
        "tail",
        "--timeout",
        "20",
        "--session",
        session_id,
        "--state-dir",
        str(runtime.state_dir),
    ]
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "tailing events" in first, first + (process.stdout.read() or "")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    start_session(runtime, session_id)
    deadline = time.monotonic() + 20
    while not any("SessionStarted" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.terminate()  # SIGTERM: the tail removes its rule and queue on the way out
    process.wait(timeout=10)
    rules = runtime.client("events").list_rules(NamePrefix="polycast-tap-", EventBusName="polycast")
    assert rules["Rules"] == [], rules["Rules"]
    queues = runtime.client("sqs").list_queues(QueueNamePrefix="polycast-tap-")
    assert queues.get("QueueUrls", []) == []
    started = [line for line in lines if "SessionStarted" in line]
    assert started, lines
    assert session_id in started[0]
    assert "source en" in started[0]


def test_measure_reports_latency_and_engine_time(runtime: RunningRuntime) -> None:
    from polycast_kit.local.measure import measure_local_latency
    from polycast_kit.local.runtime import RuntimeEndpoints

    result = measure_local_latency(
        languages=("es", "ca"),
        listeners=4,
        segments=2,
        interval_seconds=0.2,
        endpoints=RuntimeEndpoints.from_json(runtime.state),
        timeout_seconds=60,
    )
    assert result["complete"], result
    assert result["deliveries"] == 8
    assert result["endToEndMs"]["p50"] <= result["endToEndMs"]["p95"]
    assert set(result["endToEndMsByLanguage"]) == {"es", "ca"}
    assert "translateMs" in result["engineMsPerSegment"]
    assert "synthesizeMs" in result["engineMsPerSegment"]
    # Each language's fan-out, from the broadcaster's BroadcastCompleted reports.
    fan_outs = result["broadcastMsPerSegment"]
    assert 1 <= fan_outs["count"] <= 4, fan_outs
    assert 0 < fan_outs["p50"] <= fan_outs["max"]
    json.dumps(result)
