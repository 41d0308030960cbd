"""The handlers' Powertools Tracer: X-Ray when deployed, nothing to import elsewhere.

Powertools' ``Tracer`` resolves its default provider, the X-Ray recorder, before it
looks at whether tracing is disabled, so ``aws_xray_sdk.core`` (about a third of the
processor's cold import) loads even where no trace is ever sent. Where Powertools
disables tracing anyway — ``POWERTOOLS_TRACE_DISABLED`` set, or not running in Lambda
(no ``LAMBDA_TASK_ROOT``, or SAM / Chalice local) — :func:`lambda_tracer` hands it a
provider that does nothing, so X-Ray is never imported: the local runtime, tests and
tools. In a deployed function (the CDK app turns on active tracing) it is Powertools'
own Tracer with the X-Ray provider, unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """A tracing provider that records nothing (tracing is off here)."""

    @contextlib.contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(
        self, name: Any = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def tracing_disabled() -> bool:
    """Powertools' own rule (env var, or not in Lambda), so the decision cannot drift."""
    return bool(Tracer._is_tracer_disabled())


def lambda_tracer(service: str) -> Tracer:
    """The handler's Tracer: X-Ray in a deployed function, a no-op provider (and no
    ``aws_xray_sdk`` import) wherever Powertools would disable tracing."""
    if tracing_disabled():
        return Tracer(service=service, disabled=True, provider=NoTracing())
    return Tracer(service=service)
