"""A function whose invocations run in their own processes, as Lambda runs concurrent
invocations of one function in separate containers.

In-process, every function shares one interpreter lock with the embedded AWS, the
gateway and the other functions. The broadcaster's fan-out is the heaviest of
them (an SDK call per listener): run beside the rest it waited for the lock more
than it worked (docs/local.md, "Where the time goes"). Here each container is a
worker process started with the runtime's environment; it loads the handler file
once (a fresh module, as a cold start does) and then takes invocations one at a
time. Events and results cross as pickles, as Lambda passes JSON. A handler's
exception fails the invocation in the caller — the queue drain leaves the event
for redelivery, as for an in-process function — and a container that dies is
replaced for the next invocation.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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


def _function(logical_id: str) -> wiring.Function:
    for function in wiring.FUNCTIONS:
        if function.logical_id == logical_id:
            return function
    raise KeyError(f"no function {logical_id!r} in the wiring")


def _watch_runtime(runtime_pid: int, every_seconds: float = 1.0) -> None:
    """Exit when the runtime that started this container is gone.

    A runtime stopped normally shuts its containers down; one killed (SIGKILL, a
    test timeout) cannot, and a worker waiting for work would live on. Reparented,
    the container leaves at once.
    """
    while os.getppid() == runtime_pid:
        time.sleep(every_seconds)
    os._exit(0)


def _start_container(logical_id: str, root: str, env: Mapping[str, str], quiet: bool) -> None:
    """A container's cold start: the runtime's environment, the engines, the handler."""
    # Ctrl-C reaches the whole process group: the runtime stops its containers itself
    # (after the invocations in hand), so they must not die of it halfway through one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_watch_runtime, args=(os.getppid(),), name="runtime-watch", daemon=True
    ).start()
    os.environ.clear()
    os.environ.update(env)
    from polycast_kit import engines

    engines.register()
    if quiet:
        import warnings

        warnings.filterwarnings("ignore", message="No application metrics to publish")
    function = _function(logical_id)
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
    ) -> None:
        self.function = function
        self.root = root
        self.region = region
        self.containers = containers
        self.quiet_metrics = quiet_metrics
        self.invocations = 0
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.region)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.function.logical_id}: the runtime is stopping")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.containers,
                    # Not fork: the runtime's threads and sockets must not be copied.
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_container,
                    initargs=(
                        self.function.logical_id,
                        str(self.root),
                        dict(os.environ),
                        self.quiet_metrics,
                    ),
                )
            return self._pool

    def invoke(self, event: Mapping[str, Any] | dict[str, Any]) -> Any:
        with self._lock:
            self.invocations += 1
        pool = self._executor()
        try:
            future = pool.submit(_invoke_in_container, self.region, dict(event))
            return future.result()
        except BrokenProcessPool as exc:
            # A container died (killed, out of memory): start afresh next time; this
            # invocation fails, and its event is retried like any failed one.
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError(f"{self.function.logical_id}: a container died") from exc

    def close(self) -> None:
        """Stop the containers (after the invocations in hand finish)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
