"""``polycast local`` hears its signal, whichever thread the kernel hands it to, and a
runtime stuck in stopping ends itself, with every thread's stack on stderr.

``polycast local`` waits in :func:`polycast_kit.cli.local_cmd.wait_for_a_signal` and
stops through :func:`polycast_kit.cli.local_cmd.stop_runtime`. Each case runs in a
process of its own (signals, and a deadline that ends the process).
"""

from __future__ import annotations

import signal
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


WAITER = textwrap.dedent(
    """
    import signal, threading, time
    from polycast_kit.cli.local_cmd import terminate_on_sigterm, wait_for_a_signal

    terminate_on_sigterm()
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    # The main thread blocks SIGTERM, so the kernel hands it to the other thread, as
    # it may to any thread of a busy runtime; Python still runs the handler in main.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    print("waiting", flush=True)
    try:
        wait_for_a_signal()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    """
)


def test_a_signal_another_thread_received_still_stops_the_wait() -> None:
    waiter = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", WAITER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert waiter.stdout is not None
        assert waiter.stdout.readline().strip() == "waiting"
        waiter.send_signal(signal.SIGTERM)
        out, _ = waiter.communicate(timeout=20)
        assert out.strip() == "stopping"
        assert waiter.returncode == 0
    finally:
        if waiter.poll() is None:
            waiter.kill()
