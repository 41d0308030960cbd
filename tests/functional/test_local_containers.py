"""A function run in containers (worker processes): its handler file is loaded in
another process with the runtime's environment, results and exceptions come back to
the caller, a container that dies is replaced, and a closed runner refuses work.

The handler is a real file under a temporary root, in the broadcaster's code folder,
so the runner loads it exactly as it loads the real one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from polycast import wiring
from polycast_kit.local.containers import ContainerRunner

HANDLER = """
import os
import time


def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("raise"):
        raise ValueError("refused: " + event["raise"])
    if event.get("die"):
        os._exit(3)
    return {
        "pid": os.getpid(),
        "marker": os.environ.get("POLYCAST_CONTAINER_TEST"),
        "function": context.function_name,
        "echo": event.get("echo"),
    }
"""


def handler_root(tmp_path: Path) -> Path:
    """A project root whose broadcaster code folder holds ``HANDLER``."""
    code = tmp_path / wiring.BROADCASTER.code_dir
    code.mkdir(parents=True)
    (code / "handler.py").write_text(HANDLER)
    return tmp_path


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContainerRunner]:
    handler_root(tmp_path)
    monkeypatch.setenv("POLYCAST_CONTAINER_TEST", "from-the-runtime")
    runner = ContainerRunner(wiring.BROADCASTER, root=tmp_path, region="eu-west-1", containers=2)
    try:
        yield runner
    finally:
        runner.close()


def test_invocations_run_in_another_process_with_the_runtimes_environment(
    runner: ContainerRunner,
) -> None:
    out = runner.invoke({"echo": "¿hola?"})
    assert out["pid"] != os.getpid()
    assert out["marker"] == "from-the-runtime"
    assert out["function"] == "polycast-Broadcaster"
    assert out["echo"] == "¿hola?"
    assert runner.invocations == 1
    assert runner.arn.endswith(":function:polycast-Broadcaster")
    assert ":eu-west-1:" in runner.arn


def test_a_handler_exception_fails_the_invocation_in_the_caller(runner: ContainerRunner) -> None:
    with pytest.raises(ValueError, match="refused: no"):
        runner.invoke({"raise": "no"})
    assert runner.invoke({"echo": 1})["echo"] == 1  # the container lives on


def test_a_dead_container_fails_its_invocation_and_is_replaced(runner: ContainerRunner) -> None:
    first = runner.invoke({})["pid"]
    with pytest.raises(RuntimeError, match="a container died"):
        runner.invoke({"die": True})
    after = runner.invoke({})["pid"]
    assert after != first


def test_a_dying_container_fails_only_its_own_invocation(runner: ContainerRunner) -> None:
    with ThreadPoolExecutor(2) as calls:
        slow = calls.submit(runner.invoke, {"sleep": 2, "echo": "still here"})
        time.sleep(0.5)  # the slow one is in its container
        with pytest.raises(RuntimeError, match="a container died"):
            runner.invoke({"die": True})
        assert slow.result(timeout=30)["echo"] == "still here"


def test_a_cold_start_failure_fails_the_invocation_with_its_cause(tmp_path: Path) -> None:
    (tmp_path / wiring.BROADCASTER.code_dir).mkdir(parents=True)  # no handler file
    runner = ContainerRunner(wiring.BROADCASTER, root=tmp_path, region="eu-west-1", containers=1)
    try:
        with pytest.raises(FileNotFoundError, match="handler file") as raised:
            runner.invoke({})
        assert "load_module" in str(raised.value.__cause__)  # the container's traceback
    finally:
        runner.close()


def test_closing_ends_a_container_stuck_in_an_invocation(tmp_path: Path) -> None:
    handler_root(tmp_path)
    runner = ContainerRunner(
        wiring.BROADCASTER,
        root=tmp_path,
        region="eu-west-1",
        containers=1,
        stop_timeout_seconds=1.0,
    )
    with ThreadPoolExecutor(1) as calls:
        stuck = calls.submit(runner.invoke, {"sleep": 600})
        time.sleep(1.0)
        started = time.monotonic()
        runner.close()
        assert time.monotonic() - started < 15
        with pytest.raises(RuntimeError, match="a container died"):
            stuck.result(timeout=15)


def test_a_closed_runner_refuses_work(runner: ContainerRunner) -> None:
    runner.invoke({})
    runner.close()
    with pytest.raises(RuntimeError, match="stopping"):
        runner.invoke({})


def test_containers_leave_when_their_runtime_is_killed(tmp_path: Path) -> None:
    """A runtime killed outright cannot stop its containers; they notice and exit."""
    import signal
    import subprocess
    import sys
    import time

    handler_root(tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from polycast import wiring\n"
        "from polycast_kit.local.containers import ContainerRunner\n"
        "if __name__ == '__main__':\n"
        "    r = ContainerRunner(wiring.BROADCASTER, root=Path(sys.argv[1]), region='us-east-1',"
        " containers=1)\n"
        "    print(r.invoke({})['pid'], flush=True)\n"
        "    import time; time.sleep(600)\n"
    )
    runtime = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert runtime.stdout is not None
        container = int(runtime.stdout.readline())
        os.kill(runtime.pid, signal.SIGKILL)
        runtime.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(container, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(container, signal.SIGKILL)
        raise AssertionError(f"container {container} outlived its killed runtime")
    finally:
        if runtime.poll() is None:
            runtime.kill()


def test_ctrl_c_stops_the_runtime_not_its_containers_midway(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group; the containers ignore it and the runtime
    shuts them down itself: no traceback from a container, a clean stop."""
    import signal
    import subprocess
    import sys

    handler_root(tmp_path)
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from polycast import wiring\n"
        "from polycast_kit.local.containers import ContainerRunner\n"
        "if __name__ == '__main__':\n"
        "    r = ContainerRunner(wiring.BROADCASTER, root=Path(sys.argv[1]), region='us-east-1',"
        " containers=2)\n"
        "    try:\n"  # a Ctrl-C right after the print is handled too
        "        print(r.invoke({})['pid'], flush=True)\n"
        "        time.sleep(600)\n"
        "    except KeyboardInterrupt:\n"
        "        r.close()\n"
        "        print('closed', flush=True)\n"
    )
    runtime = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert runtime.stdout is not None
        container = int(runtime.stdout.readline())
        os.killpg(runtime.pid, signal.SIGINT)
        out, err = runtime.communicate(timeout=30)
        assert "closed" in out
        assert "Traceback" not in err, err
        assert runtime.returncode == 0
        with pytest.raises(ProcessLookupError):
            os.kill(container, 0)
    finally:
        if runtime.poll() is None:
            os.killpg(runtime.pid, signal.SIGKILL)
