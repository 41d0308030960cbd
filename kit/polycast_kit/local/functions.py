"""Lambda functions run in-process: handler loading and the invocation context
(``containers.py`` runs a function in worker processes with the same pieces).

The handlers live in ``stream_processors/<name>/handler.py`` (not a package), so
they are loaded by file path. Each runtime loads its own copy of a module, like a
fresh Lambda container, after the environment has been set.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from polycast import wiring

log = logging.getLogger("polycast.local.functions")

Handler = Callable[[Any, Any], Any]

ACCOUNT_ID = "123456789012"


def repo_root() -> Path:
    """The project folder: this file is ``kit/polycast_kit/local/functions.py``."""
    return Path(__file__).resolve().parents[3]


@dataclass
class LambdaContext:
    """The attributes and method Lambda's Python context object offers."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.log_stream_name or time.strftime("%Y/%m/%d/[$LATEST]local")
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_name(function: wiring.Function) -> str:
    return f"polycast-{function.logical_id}"


def function_arn(function: wiring.Function, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name(function)}"


def new_context(function: wiring.Function, region: str) -> LambdaContext:
    return LambdaContext(
        function_name=function_name(function),
        memory_limit_in_mb=function.memory_mb,
        invoked_function_arn=function_arn(function, region),
        timeout_seconds=function.timeout_seconds,
    )


def load_module(function: wiring.Function, root: Path | None = None) -> ModuleType:
    """Import ``<code_dir>/<module>.py`` by path, under a fresh module name."""
    root = root or repo_root()
    module_name = function.handler.rpartition(".")[0]
    path = root / function.code_dir / f"{module_name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{function.logical_id}: handler file {path} not found")
    unique = f"polycast_fn_{function.logical_id.lower()}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler(function: wiring.Function, root: Path | None = None) -> Handler:
    handler: Handler = getattr(load_module(function, root), function.handler.rpartition(".")[2])
    return handler


def metrics_reset(module: ModuleType) -> Callable[[], None]:
    """Clears the module's Powertools ``Metrics`` after each invocation.

    With metrics disabled (the local default, so EMF lines do not flood the
    terminal) Powertools never clears its metric set, and once a metric holds 100
    values it prints the set anyway. Clearing after each call keeps it quiet.
    """
    holders = [
        value
        for value in vars(module).values()
        if not isinstance(value, type) and callable(getattr(value, "clear_metrics", None))
    ]

    def reset() -> None:
        for holder in holders:
            try:
                holder.clear_metrics()
            except Exception:  # never let housekeeping fail an invocation
                log.debug("clearing metrics failed", exc_info=True)

    return reset


@dataclass
class FunctionRunner:
    """Invokes one function like Lambda does: a context per call, timeouts reported."""

    function: wiring.Function
    handler: Handler
    region: str = "us-east-1"
    after_invoke: Callable[[], None] | None = None
    invocations: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def arn(self) -> str:
        return function_arn(self.function, self.region)

    def close(self) -> None:
        """Nothing to stop: the handler runs in the caller's thread."""

    def invoke(self, event: Mapping[str, Any] | dict[str, Any]) -> Any:
        context = new_context(self.function, self.region)
        with self._lock:
            self.invocations += 1
        started = time.monotonic()
        try:
            return self.handler(event, context)
        finally:
            if self.after_invoke is not None:
                self.after_invoke()
            elapsed = time.monotonic() - started
            if elapsed > self.function.timeout_seconds:
                # A thread cannot be killed; say what Lambda would have done.
                log.warning(
                    "%s ran %.1f s, past its %d s timeout (Lambda would have stopped it)",
                    context.function_name,
                    elapsed,
                    self.function.timeout_seconds,
                )
