"""The connection handler on moto, with API Gateway WebSocket event shapes.

Sessions, Connections and Segments are moto tables created from the wiring; events
go to the real bus and are read back from the analytics rule's queue. Replies to
listeners go through the hand-written RecordingSender (moto has no GoneException).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from polycast import schemas, wiring
from polycast.config import Settings
from polycast.domain import events
from polycast.domain.models import Segment
from polycast.services.connections import hash_join_code
from polycast_kit.local.functions import load_module
from polycast_kit.local.resources import LocalResources, local_settings
from polycast_kit.testing.sender import RecordingSender

from .handlers_on_moto import drain, moto_resources

ROOT = Path(__file__).resolve().parents[2]
SESSION = "golden-eagle-427"
PRIVATE = "quiet-owl-101"
ENDED = "old-news-100"


@dataclass
class Context:
    function_name: str = "polycast-ConnectionHandler"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:polycast-ConnectionHandler"
    )
    aws_request_id: str = "req-1"


def request_context(route_key: str, connection_id: str, event_type: str) -> dict[str, Any]:
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": "Xyz=",
        "requestTime": "29/Nov/2026:14:00:00 +0000",
        "messageDirection": "IN",
        "stage": "prod",
        "connectedAt": 1_800_000_000_000,
        "requestTimeEpoch": 1_800_000_000_000,
        "identity": {"sourceIp": "192.0.2.1", "userAgent": "test"},
        "requestId": "Abc=",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "connectionId": connection_id,
        "apiId": "abc123",
    }


@dataclass
class Gateway:
    """Sends the events API Gateway would, and shows what came back."""

    settings: Settings
    resources: LocalResources
    handler: ModuleType
    sender: RecordingSender

    def connect(self, connection_id: str, **params: str) -> dict[str, Any]:
        event = {
            "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
            "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
            "queryStringParameters": params or None,
            "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} or None,
            "requestContext": request_context("$connect", connection_id, "CONNECT"),
            "isBase64Encoded": False,
        }
        return self._invoke(event)

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        context = request_context("$disconnect", connection_id, "DISCONNECT")
        context.update(disconnectStatusCode=1001, disconnectReason="Going away")
        return self._invoke({"headers": {}, "requestContext": context, "isBase64Encoded": False})

    def message(self, connection_id: str, body: str, route_key: str) -> dict[str, Any]:
        context = request_context(route_key, connection_id, "MESSAGE")
        context["messageId"] = "Msg="
        return self._invoke({"requestContext": context, "body": body, "isBase64Encoded": False})

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler.lambda_handler(event, Context())
        return result

    def counts(self, session_id: str = SESSION) -> tuple[int, dict[str, int]]:
        session = self.handler.service().sessions.get(session_id)
        return session.listener_count, dict(session.language_counts)

    def emitted(self, detail_type: str) -> list[dict[str, Any]]:
        return [
            event["detail"]
            for event in drain(self.resources.queue_urls["AnalyticsEvents"])
            if event["detail-type"] == detail_type
        ]


@contextmanager
def running_gateway() -> Iterator[Gateway]:
    settings = local_settings(
        api_gateway_endpoint="https://abc123.execute-api.us-east-1.amazonaws.com/prod",
        max_listeners_per_session=3,
    )
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        moto_resources(monkeypatch, settings) as resources,
    ):
        handler = load_module(wiring.CONNECTION_HANDLER)
        sender = RecordingSender()
        service = handler.service()
        service.sender = sender
        service.sessions.start(SESSION, "en")
        service.sessions.start(
            PRIVATE, "en", join_code_hash=hash_join_code("open-sesame", iterations=1000)
        )
        service.sessions.start(ENDED, "en")
        service.sessions.end(ENDED, reason="test")
        yield Gateway(settings, resources, handler, sender)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as running:
        yield running


@pytest.fixture(scope="class")
def refusing_gateway() -> Iterator[Gateway]:
    """Shared by the refusal cases: a refused connect changes nothing."""
    with running_gateway() as running:
        yield running


def test_connect_admits_counts_and_announces(gateway: Gateway) -> None:
    response = gateway.connect("c1", sessionId=SESSION, targetLanguage="es")

    assert response["statusCode"] == 200
    assert gateway.handler.service().connections.get("c1").language == "es"
    assert gateway.counts() == (1, {"es": 1})
    (joined,) = gateway.emitted("ListenerJoined")
    schemas.validate_event("ListenerJoined", joined)
    assert joined["languageCount"] == 1


class TestRefusals:
    """One gateway for all cases (class scope): a refused connect changes nothing."""

    @pytest.mark.parametrize(
        ("params", "status", "code"),
        [
            ({}, 400, "MISSING_FIELD"),
            ({"sessionId": SESSION}, 400, "MISSING_FIELD"),
            ({"targetLanguage": "es"}, 400, "MISSING_FIELD"),
            ({"sessionId": "bad id!", "targetLanguage": "es"}, 400, "BAD_REQUEST"),
            ({"sessionId": SESSION, "targetLanguage": "xx-!"}, 400, "BAD_REQUEST"),
            ({"sessionId": SESSION, "targetLanguage": "tlh"}, 400, "UNSUPPORTED_LANGUAGE"),
            ({"sessionId": "nobody-here-999", "targetLanguage": "es"}, 404, "SESSION_NOT_FOUND"),
            ({"sessionId": ENDED, "targetLanguage": "es"}, 404, "SESSION_ENDED"),
            ({"sessionId": PRIVATE, "targetLanguage": "es"}, 401, "JOIN_CODE_REQUIRED"),
            (
                {"sessionId": PRIVATE, "targetLanguage": "es", "joinCode": "nope"},
                403,
                "JOIN_CODE_INVALID",
            ),
        ],
    )
    def test_connect_refusals_carry_status_and_code(
        self, refusing_gateway: Gateway, params: dict[str, str], status: int, code: str
    ) -> None:
        gateway = refusing_gateway
        response = gateway.connect("c1", **params)

        assert response["statusCode"] == status
        body = json.loads(response["body"])
        assert body["code"] == code
        assert body["message"]
        assert "Traceback" not in response["body"]
        assert gateway.handler.service().connections.get("c1") is None


def test_unsupported_language_refusal_lists_the_supported_ones(gateway: Gateway) -> None:
    response = gateway.connect("c1", sessionId=SESSION, targetLanguage="tlh")
    message = json.loads(response["body"])["message"]
    assert "es" in message.split("supported: ", 1)[1].split(", ")


def test_join_code_admits_the_right_code(gateway: Gateway) -> None:
    response = gateway.connect("c1", sessionId=PRIVATE, targetLanguage="fr", joinCode="open-sesame")
    assert response["statusCode"] == 200


def test_full_session_is_refused_with_503(gateway: Gateway) -> None:
    for n in range(3):
        assert gateway.connect(f"c{n}", sessionId=SESSION, targetLanguage="es")["statusCode"] == 200

    response = gateway.connect("c9", sessionId=SESSION, targetLanguage="es")

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["code"] == "SESSION_FULL"
    assert gateway.counts() == (3, {"es": 3})


def test_disconnect_is_idempotent_and_counts_never_go_negative(gateway: Gateway) -> None:
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")
    gateway.connect("c2", sessionId=SESSION, targetLanguage="fr")

    assert gateway.disconnect("c1")["statusCode"] == 200
    assert gateway.disconnect("c1")["statusCode"] == 200
    assert gateway.disconnect("never-connected")["statusCode"] == 200

    assert gateway.counts() == (1, {"es": 0, "fr": 1})
    gateway.disconnect("c2")
    gateway.disconnect("c2")
    assert gateway.counts() == (0, {"es": 0, "fr": 0})
    left = gateway.emitted("ListenerLeft")
    assert len(left) == 2
    for detail in left:
        schemas.validate_event("ListenerLeft", detail)


def test_ping_answers_pong_through_the_management_api(gateway: Gateway) -> None:
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")

    response = gateway.message("c1", '{"action":"ping"}', "ping")

    assert response == {"statusCode": 200}
    (pong,) = gateway.sender.messages("c1")
    schemas.validate("messages/pong", pong)


@pytest.mark.parametrize("body", ['{"action":"dance"}', "not json", '{"no":"action"}', "[1,2]"])
def test_unknown_action_answers_unknown_action(gateway: Gateway, body: str) -> None:
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")

    gateway.message("c1", body, "$default")

    (error,) = gateway.sender.messages("c1")
    schemas.validate("messages/error", error)
    assert error["code"] == "UNKNOWN_ACTION"


def record(gateway: Gateway, sequence: int, language: str = "es") -> None:
    segment = Segment(
        SESSION, sequence, language, "en", f"texto {sequence}", f"text {sequence}", None
    )
    gateway.handler.service().segments.record(segment, ttl_seconds=600)


def test_catch_up_resends_exactly_the_later_segments_in_order(gateway: Gateway) -> None:
    for n in (4, 1, 6, 2, 5, 3):
        record(gateway, n)
    record(gateway, 5, "fr")
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")

    response = gateway.message(
        "c1", json.dumps({"action": "catchUp", "fromSequence": 3}), "catchUp"
    )

    assert response["statusCode"] == 200
    received = gateway.sender.messages("c1")
    segments = [m for m in received if m["type"] == "segment"]
    for message in segments:
        schemas.validate("messages/segment", message)
    assert [m["sequence"] for m in segments] == [4, 5, 6]
    assert {m["language"] for m in segments} == {"es"}
    schemas.validate("messages/ack", received[-1])
    assert received[-1]["resent"] == 3


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"action": "catchUp"}, "MISSING_FIELD"),
        ({"action": "catchUp", "fromSequence": "x"}, "BAD_REQUEST"),
        ({"action": "catchUp", "fromSequence": -4}, "BAD_REQUEST"),
    ],
)
def test_catch_up_errors_reach_the_listener_as_error_messages(
    gateway: Gateway, body: dict[str, Any], code: str
) -> None:
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")

    response = gateway.message("c1", json.dumps(body), "catchUp")

    assert response["statusCode"] == 400
    (error,) = gateway.sender.messages("c1")
    schemas.validate("messages/error", error)
    assert error["code"] == code


def test_catch_up_serves_what_the_broadcaster_recorded(gateway: Gateway) -> None:
    """The broadcaster's SegmentLog is the catch-up buffer: same table, same payload."""
    gateway.connect("c1", sessionId=SESSION, targetLanguage="es")
    broadcaster = load_module(wiring.BROADCASTER)
    broadcaster.broadcaster().sender = RecordingSender()
    for n in (1, 2, 3):
        segment = Segment(SESSION, n, "es", "en", f"texto {n}", f"text {n}", None)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "SegmentReady",
            "source": "polycast",
            "account": "123456789012",
            "time": "2026-11-29T14:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": events.segment_ready(segment),
        }
        broadcaster.lambda_handler(event, Context())

    gateway.message("c1", '{"action":"catchUp","fromSequence":1}', "catchUp")

    resent = [m for m in gateway.sender.messages("c1") if m["type"] == "segment"]
    assert [(m["sequence"], m["text"]) for m in resent] == [(2, "texto 2"), (3, "texto 3")]
