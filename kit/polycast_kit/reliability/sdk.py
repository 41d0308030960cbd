"""The AWS SDK's retries under the harness's faults, as the deployed clients make them.

The harness injects its faults per HTTP attempt, and in a deployed function botocore
sits between that attempt and the service code: it retries throttling, 5xx and
timeouts before the port call returns. :class:`SdkRetries` puts that level back,
for one function's client of one service, with botocore's own standard-mode parts
(``botocore.retries.standard``: the retry conditions, the retry quota and the
backoff with jitter) and the attempts ``polycast.adapters.aws.clients`` configures
for that service — nothing here repeats those figures. The backoff is recorded,
not slept: the plan decides what fails, not the clock.

What botocore cannot see stays with the services: PutEvents entries refused inside
a 200 are sent again by the real ``EventBridgePublisher`` (:class:`.faults.FaultyBus`
is its client), and a 410 Gone is never retried.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ReadTimeoutError
from botocore.retries import quota, standard

from polycast.adapters.aws import clients
from polycast.errors import TransientError

# The AWS service (and a typical operation) behind each port the harness wraps: the
# client whose retry configuration applies to it.
PORT_SERVICES: dict[str, tuple[str, str]] = {
    "translator": ("translate", "TranslateText"),
    "synthesizer": ("polly", "SynthesizeSpeech"),
    "translation_cache": ("dynamodb", "GetItem"),
    "audio": ("s3", "PutObject"),
    "sessions": ("dynamodb", "UpdateItem"),
    "segments": ("dynamodb", "UpdateItem"),
    "connections": ("dynamodb", "Query"),
    "listeners": ("dynamodb", "TransactWriteItems"),
    "sender": ("apigatewaymanagementapi", "PostToConnection"),
    "bus": ("events", "PutEvents"),
}


def max_attempts(service: str) -> int:
    """Total attempts (the first included) of the configured client for ``service``."""
    config = clients.client_config(service)
    retries: dict[str, Any] = getattr(config, "retries", None) or {}
    if retries.get("mode") != "standard":  # the model below is botocore's standard mode
        raise ValueError(f"{service}: the harness models standard retries, not {retries!r}")
    return int(retries["total_max_attempts"])


@cache
def _operation(service: str, operation: str) -> Any:
    return botocore.session.get_session().get_service_model(service).operation_model(operation)


@dataclass
class _Answer:
    """The parts of an HTTP response botocore's retry checks read."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


def failed_attempt(kind: str, attempt: int, operation: Any) -> standard.RetryContext:
    """The retry context botocore builds for one attempt that failed with the plan's
    ``kind``: a throttling code, a 5xx, or (timeouts) no answer at all."""
    if kind == "throttling":
        parsed = {"Error": {"Code": "ThrottlingException"}}
        return standard.RetryContext(attempt, operation, parsed, _Answer(400))
    if kind == "timeout":
        lost = ReadTimeoutError(endpoint_url="https://127.0.0.1/")
        return standard.RetryContext(attempt, operation, caught_exception=lost)
    parsed = {"Error": {"Code": "InternalFailure"}}
    return standard.RetryContext(attempt, operation, parsed, _Answer(500))


class SdkRetries:
    """One function's botocore client for one service: its retry decisions, quota and
    (recorded) backoff."""

    def __init__(self, service: str, operation: str, *, seed: int = 0) -> None:
        self.service = service
        self.operation = _operation(service, operation)
        self.max_attempts = max_attempts(service)
        detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
        self._conditions = standard.StandardRetryConditions(max_attempts=self.max_attempts)
        self._quota = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
        self._backoff = standard.ExponentialBackoff(
            random=random.Random(seed).random,
            service_name=self.operation.service_model.service_id.hyphenize(),
            throttling_detector=detector,
        )
        self._lock = threading.Lock()
        self.retries = 0
        self.backoff_seconds = 0.0
        self.quota_refusals = 0

    def call(self, attempt: Callable[[], Any], kind: str) -> Any:
        """Run ``attempt`` (one HTTP attempt, which may raise the plan's fault of
        ``kind``) until it succeeds or botocore would give up; then raise the fault."""
        request: dict[str, Any] = {}
        number = 1
        while True:
            try:
                result = attempt()
            except TransientError:
                if not self._again(kind, number, request):
                    raise
                number += 1
                continue
            with self._lock:
                # botocore passes the request context here (the stubs say RetryContext).
                self._quota.release_retry_quota(request, _Answer(200))  # type: ignore[arg-type]
            return result

    def _again(self, kind: str, number: int, request: dict[str, Any]) -> bool:
        context = failed_attempt(kind, number, self.operation)
        context.request_context = request
        with self._lock:
            if not self._conditions.is_retryable(context):
                return False
            if not self._quota.acquire_retry_quota(context):
                self.quota_refusals += 1
                return False
            self.retries += 1
            self.backoff_seconds += self._backoff.delay_amount(context)
        return True


class Sdk:
    """The clients of one deployed function (the processor, the broadcaster): one
    :class:`SdkRetries` per service, shared by the ports on that service."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._clients: dict[str, SdkRetries] = {}

    def for_port(self, port: str) -> SdkRetries:
        service, operation = PORT_SERVICES[port]
        if service not in self._clients:
            self._clients[service] = SdkRetries(
                service, operation, seed=self._seed + len(self._clients)
            )
        return self._clients[service]

    @property
    def retries(self) -> int:
        return sum(c.retries for c in self._clients.values())

    @property
    def backoff_seconds(self) -> float:
        return sum(c.backoff_seconds for c in self._clients.values())
