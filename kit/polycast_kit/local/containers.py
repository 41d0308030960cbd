"""A function whose invocations run in their own processes, as Lambda runs concurrent
invocations of one function in separate containers.

In-process, every function shares one interpreter lock with the embedded AWS, the
gateway and the other functions. The broadcaster's fan-out is the heaviest of
them (an SDK call per listener): run beside the rest it waited for the lock more
than it worked (docs/local.md, "Where the time goes"). Here each container is a
worker process started with the runtime's environment; it loads the handler file
once (a fresh module, as a cold start does) and then takes invocations one at a
time over its own pipe. Events and results cross as pickles, as Lambda passes JSON.
A handler's exception fails the invocation in the caller — the queue drain leaves
the event for redelivery, as for an in-process function — and a container that
dies fails only its own invocation and is not used again.

The containers are plain processes with a pipe each, not a ``ProcessPoolExecutor``:
a pool whose worker dies breaks for every invocation in flight, and Python 3.11's
pool can hang in ``shutdown`` (CPython gh-94440, gh-116685, gh-125451). Stopping here
is bounded: a container that does not leave when asked is terminated.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import traceback
from collections.abc import Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from polycast import wiring
from polycast_kit.local.functions import (
    Handler,
    function_arn,
    load_module,
    metrics_reset,
    new_context,
)

log = logging.getLogger("polycast.local.containers")

# In each container process: the function's handler and its after-invocation reset.
_container: dict[str, Any] = {}


def _start_container(
    function: wiring.Function, root: str, env: Mapping[str, str], quiet: bool
) -> None:
    """A container's cold start: the runtime's environment, the engines, the handler."""
    # Ctrl-C reaches the whole process group: the runtime stops its containers itself
    # (after the invocations in hand), so they must not die of it halfway through one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(env)
    from polycast_kit import engines

    engines.register()
    if quiet:
        import warnings

        warnings.filterwarnings("ignore", message="No application metrics to publish")
    module = load_module(function, Path(root))
    _container["function"] = function
    _container["handler"] = getattr(module, function.handler.rpartition(".")[2])
    _container["reset"] = metrics_reset(module) if quiet else None


def _invoke_in_container(region: str, event: dict[str, Any]) -> Any:
    handler: Handler = _container["handler"]
    try:
        return handler(event, new_context(_container["function"], region))
    finally:
        reset = _container.get("reset")
        if reset is not None:
            reset()


def _container_main(
    conn: Connection, function: wiring.Function, root: str, env: Mapping[str, str], quiet: bool
) -> None:
    """A container's life: the cold start, then one invocation per request until asked
    to leave (``None``) or its runtime is gone: a runtime stopped or killed closes its
    end of the pipe, so a waiting container reads the end and leaves."""
    cold_start_error: tuple[BaseException, str] | None = None
    try:
        _start_container(function, root, env, quiet)
    except BaseException as exc:  # answered to the first invocation, as Lambda's init error
        cold_start_error = (exc, traceback.format_exc())
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        if cold_start_error is not None:
            _reply(conn, (False, *cold_start_error))
            return
        region, event = request
        try:
            answer: tuple[Any, ...] = (True, _invoke_in_container(region, event))
        except Exception as exc:
            answer = (False, exc, traceback.format_exc())
        _reply(conn, answer)


def _reply(conn: Connection, answer: tuple[Any, ...]) -> None:
    try:
        conn.send(answer)
    except OSError:
        pass  # the runtime is gone: the next read ends the container
    except Exception as exc:  # a result or an exception that does not pickle
        conn.send(
            (False, RuntimeError(f"the invocation's answer cannot be sent back: {exc!r}"), "")
        )


class ContainerTraceback(Exception):
    """The traceback in the container, as the cause of the exception re-raised here."""


class ContainerDied(RuntimeError):
    """The container's process ended in the middle of an invocation."""


class _Container:
    """One worker process and its pipe; one invocation at a time."""

    def __init__(self, runner: ContainerRunner) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: no threads or sockets copied
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_container_main,
            args=(
                child,
                runner.function,
                str(runner.root),
                dict(os.environ),
                runner.quiet_metrics,
            ),
            name=f"container-{runner.function.logical_id}",
            daemon=True,
        )
        self.process.start()
        child.close()

    def invoke(self, region: str, event: dict[str, Any]) -> Any:
        try:
            self.conn.send((region, event))
            # Wait for the answer, noticing a process that died instead of answering.
            while not self.conn.poll(0.5):
                if not self.process.is_alive():
                    raise ContainerDied(f"exit code {self.process.exitcode}")
            answer = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise ContainerDied(f"exit code {self.process.exitcode}") from exc
        if answer[0]:
            return answer[1]
        error, remote = answer[1], answer[2]
        if remote:
            error.__cause__ = ContainerTraceback(remote)
        raise error

    def stop(self, timeout: float) -> None:
        """Ask the process to leave; terminate it if it has not within ``timeout``."""
        with contextlib.suppress(OSError, ValueError):  # gone already
            self.conn.send(None)
        self.process.join(timeout)
        if self.process.is_alive():
            log.warning("%s did not leave in %g s: terminated", self.process.name, timeout)
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class ContainerRunner:
    """Invokes one function in up to ``containers`` worker processes, started on demand.

    Same face as :class:`~polycast_kit.local.functions.FunctionRunner` (``arn``,
    ``invoke``, ``invocations``), so the poller and the drains take either.
    """

    def __init__(
        self,
        function: wiring.Function,
        *,
        root: Path,
        region: str,
        containers: int,
        quiet_metrics: bool = True,
        stop_timeout_seconds: float = 10.0,
    ) -> None:
        self.function = function
        self.root = root
        self.region = region
        self.containers = containers
        self.quiet_metrics = quiet_metrics
        self.stop_timeout_seconds = stop_timeout_seconds
        self.invocations = 0
        self._changed = threading.Condition()
        self._all: set[_Container] = set()  # started and not stopped
        self._idle: list[_Container] = []
        self._busy = 0
        self._closed = False

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.region)

    def invoke(self, event: Mapping[str, Any] | dict[str, Any]) -> Any:
        container = self._take()
        try:
            result = container.invoke(self.region, dict(event))
        except ContainerDied as exc:
            # Killed, out of memory: this invocation fails (its event is retried like
            # any failed one) and the next gets a fresh container.
            self._give_back(container, dead=True)
            raise RuntimeError(f"{self.function.logical_id}: a container died ({exc})") from exc
        except BaseException:
            self._give_back(container)
            raise
        self._give_back(container)
        return result

    def _take(self) -> _Container:
        """An idle container, or a new one while fewer than ``containers`` are busy."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._busy < self.containers)
            if self._closed:
                raise RuntimeError(f"{self.function.logical_id}: the runtime is stopping")
            self.invocations += 1
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        try:
            container = _Container(self)  # its cold start runs before its first answer
        except BaseException:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()
            raise
        with self._changed:
            self._all.add(container)
        return container

    def _give_back(self, container: _Container, *, dead: bool = False) -> None:
        with self._changed:
            self._busy -= 1
            keep = not dead and not self._closed
            if keep:
                self._idle.append(container)
            else:
                self._all.discard(container)
            self._changed.notify_all()
        if not keep:
            container.stop(timeout=1.0 if dead else self.stop_timeout_seconds)

    def close(self) -> None:
        """Stop the containers after the invocations in hand; one still busy after
        ``stop_timeout_seconds`` is terminated (its invocation fails)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._busy == 0, timeout=self.stop_timeout_seconds)
            containers, self._all, self._idle = list(self._all), set(), []
        for container in containers:
            container.stop(timeout=self.stop_timeout_seconds)
