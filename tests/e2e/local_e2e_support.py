"""Support for the end-to-end tests: the real runtime in a subprocess, and listeners.

The runtime runs as ``polycast local`` in its own process (as a user runs it), on
free ports, so its environment and moto's process-wide state never leak into the
rest of the test session.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from polycast import schemas
from polycast_kit.cli.listen import ConnectRefused, Listener, listen

REPO = Path(__file__).resolve().parents[2]
TALK = REPO / "samples" / "talk.jsonl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def runtime_env() -> dict[str, str]:
    """This environment without AWS_* variables: a subprocess finds its AWS (moto) through
    the runtime's state folder, never through the test session's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def local_command(state_dir: Path, *extra: str) -> list[str]:
    """``polycast local`` on free ports, keeping its state in ``state_dir``."""
    return [
        *(sys.executable, "-m", "polycast_kit.cli.main", "local"),
        *("--aws-port", str(free_port()), "--ws-port", str(free_port())),
        *("--state-dir", str(state_dir), *extra),
    ]


@dataclass
class RunningRuntime:
    process: subprocess.Popen[bytes]
    state_dir: Path
    log_path: Path
    state: dict[str, Any]

    @property
    def ws_url(self) -> str:
        return str(self.state["websocketUrl"])

    @property
    def http_url(self) -> str:
        return str(self.state["listenerPage"]).rstrip("/")

    @property
    def stream(self) -> str:
        return str(self.state["transcriptStream"])

    def client(self, service: str, **kw: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=kw.pop("endpoint_url", self.state["awsEndpoint"]),
            region_name=self.state["region"],
            aws_access_key_id="e2e",
            aws_secret_access_key="e2e",
            **kw,
        )

    def log(self) -> str:
        """The log's end: enough for a stuck stop's thread stacks."""
        try:
            return self.log_path.read_text(errors="replace")[-16000:]
        except OSError:
            return ""


def start_runtime(
    workdir: Path, timeout: float = 90, overrides: Mapping[str, Any] | None = None
) -> RunningRuntime:
    """``polycast local`` on free ports; waits for local.json; fails loudly if it cannot.

    ``overrides`` (Settings fields) start it through ``settings_runtime.py`` instead,
    for tests that need small thresholds (idle time, slice size, listener cap).
    """
    state_dir = workdir / ".polycast"
    log_path = workdir / "runtime.log"
    env = {**runtime_env(), "PYTHONUNBUFFERED": "1"}
    if overrides is not None:
        command = [
            sys.executable,
            str(Path(__file__).resolve().parent / "settings_runtime.py"),
            str(free_port()),
            str(free_port()),
            str(state_dir),
            json.dumps(dict(overrides)),
        ]
    else:
        command = local_command(state_dir, "--log-level", "WARNING")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + timeout
    path = state_dir / "local.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"polycast local exited with {process.returncode}:\n{log_path.read_text()}"
            )
        if path.is_file():
            try:
                state = json.loads(path.read_text())
            except ValueError:
                state = None
            if state:
                return RunningRuntime(process, state_dir, log_path, state)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"polycast local did not become ready:\n{log_path.read_text()}")


def cli(
    runtime: RunningRuntime, *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``polycast <args> --state-dir <the runtime's>``, as a user runs it."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "polycast_kit.cli.main",
            *args,
            "--state-dir",
            str(runtime.state_dir),
        ],
        cwd=cwd,
        env=runtime_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stop_runtime(runtime: RunningRuntime, timeout: float = 90) -> int:
    """SIGTERM, as a user's Ctrl-C would; returns the exit code.

    A runtime stuck in stopping ends itself after ``STOP_BUDGET_SECONDS`` (60 s) with
    every thread's stack in its log (exit code 1); ``timeout`` is beyond that.
    """
    runtime.process.send_signal(signal.SIGTERM)
    try:
        return runtime.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        runtime.process.kill()
        runtime.process.wait()
        pytest.fail(f"the runtime did not stop in {timeout:g} s:\n{runtime.log()}")


@contextmanager
def running_runtime(
    workdir: Path, overrides: Mapping[str, Any] | None = None
) -> Iterator[RunningRuntime]:
    """A runtime for a module's tests; it must stop cleanly (exit code 0) afterwards."""
    running = start_runtime(workdir, overrides=overrides)
    try:
        yield running
    finally:
        code = stop_runtime(running)
        assert code == 0, f"runtime exited with {code}:\n{running.log()}"


def put(runtime: RunningRuntime, session_id: str, records: list[dict[str, Any] | bytes]) -> None:
    """Plain boto3 ``put_records``, one Kinesis record each, in order."""
    kinesis = runtime.client("kinesis")
    for record in records:
        data = record if isinstance(record, bytes) else json.dumps(record).encode()
        response = kinesis.put_records(
            StreamName=runtime.stream, Records=[{"PartitionKey": session_id, "Data": data}]
        )
        assert response["FailedRecordCount"] == 0


def start_session(runtime: RunningRuntime, session_id: str, timeout: float = 30) -> None:
    """Send ``sessionStarted`` and wait until the processor has created the session."""
    start = {"type": "sessionStarted", "sessionId": session_id, "sourceLanguage": "en"}
    put(runtime, session_id, [start])
    ddb = runtime.client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = ddb.get_item(
            TableName="polycast-sessions",
            Key={"sessionId": {"S": session_id}},
            ConsistentRead=True,
        ).get("Item")
        if item:
            return
        time.sleep(0.05)
    raise AssertionError(f"session {session_id} was not created:\n{runtime.log()}")


def talk(count: int) -> list[dict[str, Any]]:
    """The first ``count`` transcripts of the sample talk, without offsets."""
    lines = TALK.read_text().splitlines()[:count]
    out = []
    for line in lines:
        record = json.loads(line)
        record.pop("offsetMs", None)
        out.append(record)
    return out


async def open_listener(
    runtime: RunningRuntime,
    session_id: str,
    language: str,
    *,
    timeout: float = 120,
    ready_within: float = 30,
) -> tuple[asyncio.Task[Listener], Listener]:
    """Start a listener (retrying while the session is still being created)."""
    deadline = time.monotonic() + ready_within
    while True:
        listener = Listener()
        connected = asyncio.Event()
        task = asyncio.create_task(
            listen(
                runtime.ws_url,
                session_id,
                language,
                timeout=timeout,
                listener=listener,
                connected=connected,
            )
        )
        waiter = asyncio.create_task(connected.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if connected.is_set():
            return task, listener
        waiter.cancel()
        try:
            task.result()
        except ConnectRefused as exc:
            if exc.code != "SESSION_NOT_FOUND" or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


def logged_events(runtime: RunningRuntime, session_id: str) -> list[dict[str, Any]]:
    """The runtime's analytics log (text-free events) for one session, each validated
    against its schema. The runtime may be appending the last line right now."""
    path = runtime.state_dir / "events.jsonl"
    lines = path.read_text().splitlines() if path.is_file() else []
    if lines and not lines[-1].endswith("}"):
        lines.pop()
    out = []
    for line in lines:
        event = json.loads(line)
        if event.get("detail", {}).get("sessionId") != session_id:
            continue
        schemas.validate_event(event["detail-type"], event["detail"])
        out.append(event)
    return out
