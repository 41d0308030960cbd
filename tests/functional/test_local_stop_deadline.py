"""A runtime stuck in stopping ends itself, with every thread's stack on stderr.

``polycast local`` and ``polycast demo`` stop through
:func:`polycast_kit.cli.local_cmd.stop_runtime`. Here a runtime whose ``stop()``
never returns runs in a process of its own (the deadline ends the process).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import io, threading
    from polycast_kit.cli.local_cmd import stop_runtime

    class StuckRuntime:
        def stop(self):
            {stop_body}

    def waiting_for_the_stuck_invocation():
        stop_runtime(StuckRuntime(), io.StringIO(), budget_seconds={budget})

    waiting_for_the_stuck_invocation()
    print("never printed")
    """
)


def run_script(budget: float, stop_body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", SCRIPT.format(budget=budget, stop_body=stop_body)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_stuck_stop_prints_where_it_is_stuck_and_ends_the_process() -> None:
    done = run_script(budget=1.0, stop_body="threading.Event().wait()  # never ends")
    assert done.returncode == 1, done.stderr
    assert "Timeout (0:00:01)!" in done.stderr
    assert "waiting_for_the_stuck_invocation" in done.stderr
    assert "never printed" not in done.stdout


def test_a_stop_that_ends_in_time_exits_normally() -> None:
    done = run_script(budget=30.0, stop_body="pass")
    assert done.returncode == 0, done.stderr
    assert "never printed" in done.stdout
    assert "Timeout" not in done.stderr
