"""The README's commands, in the order shown, on one session id: create the session,
a listener joins and waits for the speaker, the talk is produced, the listener hears
every sentence from the first, pause/resume/end reach it."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from local_e2e_support import RunningRuntime


def _cli(runtime: RunningRuntime, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603, PLW1510 - our own interpreter; the code is checked
        [
            sys.executable,
            "-m",
            "polycast_kit.cli.main",
            *argv,
            "--state-dir",
            str(runtime.state_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for(lines: list[str], needle: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(needle in line for line in lines):
        assert time.monotonic() < deadline, f"no {needle!r} in:\n{''.join(lines)}"
        time.sleep(0.1)


def test_readme_commands_in_order_on_one_session(runtime: RunningRuntime, tmp_path: Path) -> None:
    session = f"readme-flow-{secrets.token_hex(3)}"
    created = _cli(
        runtime,
        "session",
        "create",
        "--session",
        session,
        "--source",
        "en",
        "--languages",
        "es,fr",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    links = json.loads(created.stdout)
    assert links["sessionId"] == session
    assert set(links["listenerUrls"]) == {"es", "fr"}
    assert f"sessionId={session}" in links["joinUrl"]

    # The attendee arrives first, with the page URL the organizer shared.
    listener = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "polycast_kit.cli.main",
            "listen",
            "--url",
            links["listenerUrls"]["es"],
            "--timeout",
            "120",
            "--no-reconnect",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(listener.stdout or []), daemon=True)
    reader.start()
    try:
        _wait_for(lines, "waiting for the speaker")
        talk = tmp_path / "talk.txt"
        talk.write_text("Good morning everyone.\nThank you for coming.\n")
        produced = _cli(runtime, "produce", str(talk), "--session", session, "--no-end")
        assert produced.returncode == 0, produced.stderr
        _wait_for(lines, "#2")
        for control in ("--pause", "--resume", "--end"):
            done = _cli(runtime, "produce", "--session", session, control)
            assert done.returncode == 0, done.stderr
        listener.wait(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
        reader.join(5)
    output = "".join(lines)
    assert listener.returncode == 0, output
    assert "#1" in output, output  # the start of the talk is not missed
    assert "paused by the speaker" in output
    assert "resumed" in output
    assert output.rstrip().endswith("session ended"), output
