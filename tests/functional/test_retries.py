"""Retries once: how many AWS calls each path makes while AWS keeps throttling.

Real botocore clients, built by ``polycast.adapters.aws.clients`` with the retry
policy it configures, whose HTTP layer is answered by hand: a ``before-send`` hook
counts every attempt and answers it (throttled, or whatever the test says) without
a socket. The real adapters and services sit on top, so a retry loop stacked over
botocore's anywhere on a path shows up as a count too high. The policy is in
docs/architecture.md ("Retries").

botocore's backoff really sleeps (up to 1 s, then 2 s, for throttling): this module
takes a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from polycast.adapters.aws import clients
from polycast.adapters.aws.events import EventBridgePublisher
from polycast.adapters.aws.polly import PollySynthesizer
from polycast.adapters.aws.sender import ApiGatewaySender
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.adapters.aws.translate import AmazonTranslator
from polycast.config import Settings
from polycast.domain.models import Connection, Session, Transcript
from polycast.errors import ConnectionGone, Throttled, TransientError
from polycast.services.broadcaster import Broadcaster
from polycast.services.orchestrator import Orchestrator
from polycast.services.translation_cache import TranslationCache
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore

SESSION = "golden-eagle-427"
# Loopback only: the hook answers every request, and nothing may leave the machine
# even if it did not.
SETTINGS = Settings(
    region="us-east-1",
    aws_endpoint_url="http://127.0.0.1:9",
    api_gateway_endpoint="http://127.0.0.1:9/local",
)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class HandAnsweredAws:
    """The HTTP layer of one botocore client: counts attempts, answers each by hand."""

    answer: Answer
    attempts: int = 0

    def attach(self, client: Any) -> Any:
        client.meta.events.register_first("before-send", self._send)
        return client

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts += 1
        headers = {"x-amzn-RequestId": f"req-{self.attempts}", **self.answer.headers}
        data = json.dumps(self.answer.body).encode()
        return AWSResponse(request.url, self.answer.status, headers, _Body(data))  # type: ignore[no-untyped-call]


def json_throttled(code: str) -> Answer:
    """awsJson protocols (Translate, EventBridge, DynamoDB): the code in ``__type``."""
    return Answer(400, {"__type": code, "message": "Rate exceeded"})


def rest_throttled(code: str) -> Answer:
    """restJson protocols (Polly, API Gateway Management): the code in a header."""
    return Answer(429, {"message": "Rate exceeded"}, {"x-amzn-ErrorType": code})


def client(service: str, answer: Answer) -> tuple[Any, HandAnsweredAws]:
    aws = HandAnsweredAws(answer)
    return aws.attach(clients.client(service, SETTINGS)), aws


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Requests are signed before they are answered: dummy credentials, no account.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "polycast-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "polycast-test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def attempts(service: str) -> int:
    return clients.PROFILES[service].max_attempts


def test_the_policy_is_three_attempts_and_polly_two() -> None:
    """The figures docs/architecture.md states."""
    assert {name: p.max_attempts for name, p in clients.PROFILES.items()} == {
        "dynamodb": 3,
        "translate": 3,
        "polly": 2,
        "events": 3,
        "s3": 3,
        "apigatewaymanagementapi": 3,
    }
    # botocore's "max_attempts" key counts retries only; the first call is not in it.
    assert clients.client_config("translate").retries == {
        "total_max_attempts": 3,
        "mode": "standard",
    }


def test_a_throttled_translation_costs_three_calls_before_the_record_is_retried() -> None:
    """Through the orchestrator, as the processor runs it: 3 calls, not 3 × 3."""
    translate, aws = client("translate", json_throttled("ThrottlingException"))
    orchestrator = Orchestrator(
        sessions=MemorySessionStore(),
        translator=AmazonTranslator(translate),
        synthesizer=FakeSynthesizer(),
        cache=TranslationCache(MemoryTranslationCacheStore()),
        audio=MemoryAudioStore(),
        publisher=MemoryEventPublisher(),
        audio_bucket="polycast-audio",
    )
    session = Session(SESSION, "en", listener_count=1, language_counts={"es": 1})
    try:
        with pytest.raises(TransientError):
            orchestrator.process(Transcript(SESSION, "en", "Hello."), 1, session=session)
    finally:
        orchestrator.close()
    assert aws.attempts == attempts("translate") == 3


def test_a_throttled_synthesis_costs_two_calls_per_voice() -> None:
    polly, aws = client("polly", rest_throttled("ThrottlingException"))
    with pytest.raises(Throttled):
        PollySynthesizer(polly).synthesize("<speak>Hola.</speak>", language="es")
    assert aws.attempts == attempts("polly") == 2


def test_a_throttled_put_events_call_costs_three_calls() -> None:
    events, aws = client("events", json_throttled("ThrottlingException"))
    result = EventBridgePublisher(events, "polycast").publish([("SessionEnded", {"a": 1})])
    assert aws.attempts == attempts("events") == 3
    assert [f["errorCode"] for f in result.failed] == ["ThrottlingException"]


def test_entries_refused_inside_a_successful_put_events_are_sent_three_times() -> None:
    """FailedEntryCount: botocore sees a 200, so this one retry is the publisher's."""
    refused = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}],
    }
    events, aws = client("events", Answer(200, refused))
    publisher = EventBridgePublisher(events, "polycast", backoff_seconds=0.001)
    result = publisher.publish([("SessionEnded", {"a": 1})])
    assert aws.attempts == publisher.attempts == 3
    assert result.published == 0
    assert [f["errorCode"] for f in result.failed] == ["ThrottlingException"]


def test_a_throttled_dynamodb_read_costs_three_calls() -> None:
    ddb, aws = client(
        "dynamodb",
        json_throttled("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"),
    )
    with pytest.raises(TransientError):
        DynamoSessionStore(ddb, "polycast-sessions").get(SESSION)
    assert aws.attempts == attempts("dynamodb") == 3


def _broadcaster(sender: ApiGatewaySender) -> Broadcaster:
    sessions = MemorySessionStore()
    connections = MemoryConnectionStore()
    return Broadcaster(
        connections=connections,
        listeners=MemoryListenerRegistry(connections, sessions),
        sessions=sessions,
        segments=MemorySegmentLog(),
        sender=sender,
        publisher=MemoryEventPublisher(),
        max_concurrent=1,
    )


def test_a_throttled_post_to_connection_costs_three_calls_then_counts_failed() -> None:
    aws = HandAnsweredAws(rest_throttled("LimitExceededException"))
    management = aws.attach(clients.management_client(SETTINGS, pool=1))
    broadcaster = _broadcaster(ApiGatewaySender(management))
    try:
        outcome = broadcaster.deliver(Connection("c1", SESSION, "es"), [b"{}"])
    finally:
        broadcaster.close()
    assert outcome == "failed"
    assert aws.attempts == attempts("apigatewaymanagementapi") == 3


def test_a_gone_connection_is_not_retried() -> None:
    aws = HandAnsweredAws(Answer(410, {"message": "Gone"}, {"x-amzn-ErrorType": "GoneException"}))
    sender = ApiGatewaySender(aws.attach(clients.management_client(SETTINGS, pool=1)))
    with pytest.raises(ConnectionGone):
        sender.post("c1", b"{}")
    assert aws.attempts == 1
