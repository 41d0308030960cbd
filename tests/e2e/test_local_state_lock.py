"""One runtime per state folder: a second ``polycast local`` is refused, a killed one
does not block the next (real processes, real ``flock``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from local_e2e_support import local_command, runtime_env, start_runtime, stop_runtime


def _local(state_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603, PLW1510 - our own interpreter; the code is checked
        local_command(state_dir),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=runtime_env(),
    )


def test_a_second_runtime_on_the_same_folder_is_refused_and_a_killed_one_does_not_block(
    tmp_path: Path,
) -> None:
    first = start_runtime(tmp_path)
    state_file = first.state_dir / "local.json"
    try:
        second = _local(first.state_dir, tmp_path)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"PID {first.process.pid}" in second.stderr, second.stderr
        aws_port = first.state["awsEndpoint"].rsplit(":", 1)[1]
        assert aws_port in second.stderr, second.stderr
        assert "Traceback" not in second.stderr
        # The running runtime's file is untouched.
        assert json.loads(state_file.read_text()) == first.state
    except BaseException:
        stop_runtime(first)
        raise

    # kill -9: no cleanup runs, the file stays, yet the lock died with the process.
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    assert state_file.exists()
    os.replace(state_file, tmp_path / "stale-local.json")  # so we can see the new one appear
    third = start_runtime(tmp_path)
    try:
        assert third.state != first.state
    finally:
        assert stop_runtime(third) == 0, third.log()
    assert not state_file.exists()
