"""The broadcaster handler on moto: real EventBridge event shapes, real tables.

Listeners join through the connection handler's ``$connect``; segments travel
PutEvents → the broadcast rule → its SQS target, and the SQS bodies (EventBridge
events as AWS shapes them) are handed to the broadcaster handler. moto has no
GoneException, so the listener side is the hand-written RecordingSender; the
boto3 sender itself is checked against a small HTTP server that answers like
API Gateway's ``@connections`` API.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from polycast import schemas, wiring
from polycast.adapters.aws.connections import DynamoConnectionStore
from polycast.adapters.aws.segments import DynamoSegmentLog
from polycast.adapters.aws.sender import ApiGatewaySender
from polycast.composition import broadcaster_dependencies, connection_dependencies
from polycast.config import Settings
from polycast.domain import events
from polycast.domain.models import AudioRef, Connection, Segment
from polycast.errors import ConnectionGone, PolycastError, TransientError
from polycast.services.broadcaster import CONNECTING_GRACE_SECONDS
from polycast_kit.local.functions import load_module
from polycast_kit.local.resources import LocalResources, create_resources, local_settings
from polycast_kit.testing.sender import RecordingSender

from .handlers_on_moto import drain, moto_resources

ROOT = Path(__file__).resolve().parents[2]
SESSION = "golden-eagle-427"


@dataclass
class Context:
    function_name: str = "polycast-Broadcaster"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:polycast-Broadcaster"
    )
    aws_request_id: str = "req-1"


@dataclass
class Pipeline:
    settings: Settings
    resources: LocalResources
    broadcaster: ModuleType
    connections: ModuleType
    sender: RecordingSender

    def connect(self, connection_id: str, language: str) -> dict[str, Any]:
        event = {
            "headers": {"Host": "example.execute-api.us-east-1.amazonaws.com"},
            "queryStringParameters": {"sessionId": SESSION, "targetLanguage": language},
            "requestContext": {
                "routeKey": "$connect",
                "eventType": "CONNECT",
                "connectionId": connection_id,
                "stage": "prod",
                "requestTimeEpoch": 1_800_000_000_000,
            },
            "isBase64Encoded": False,
        }
        result: dict[str, Any] = self.connections.lambda_handler(event, Context())
        return result

    def put_events(self, *entries: tuple[str, dict[str, Any]]) -> None:
        client = boto3.client("events", region_name="us-east-1")
        out = client.put_events(
            Entries=[
                {
                    "Source": "polycast",
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": self.settings.event_bus_name,
                }
                for detail_type, detail in entries
            ]
        )
        assert out["FailedEntryCount"] == 0

    def drain(self, queue: str) -> list[dict[str, Any]]:
        return drain(self.resources.queue_urls[queue])

    def deliver_broadcast_events(self) -> list[dict[str, Any]]:
        """What the broadcast rule's target received, each handed to the broadcaster."""
        return [
            self.broadcaster.lambda_handler(event, Context())
            for event in self.drain("BroadcastEvents")
        ]

    def emitted(self, detail_type: str) -> list[dict[str, Any]]:
        return [
            e["detail"] for e in self.drain("AnalyticsEvents") if e["detail-type"] == detail_type
        ]

    def session(self) -> Any:
        return self.broadcaster.broadcaster().sessions.get(SESSION)


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with running_pipeline(monkeypatch) as running:
        yield running


@contextmanager
def running_pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The broadcaster and connection handlers on moto, with a recording sender."""
    settings = local_settings(
        api_gateway_endpoint="https://example.execute-api.us-east-1.amazonaws.com/prod",
        max_concurrent_broadcasts=8,
    )
    with moto_resources(
        monkeypatch, settings, POWERTOOLS_METRICS_NAMESPACE="TranslationPipeline"
    ) as resources:
        broadcaster = load_module(wiring.BROADCASTER)
        connections = load_module(wiring.CONNECTION_HANDLER)
        sender = RecordingSender()
        broadcaster.broadcaster().sender = sender
        broadcaster.broadcaster().sleep = lambda _s: None
        connections.service().sender = sender
        connections.service().sessions.start(SESSION, "en")
        yield Pipeline(settings, resources, broadcaster, connections, sender)


def segment(sequence: int, language: str = "es", audio: AudioRef | None = None) -> Segment:
    return Segment(
        SESSION, sequence, language, "en", f"texto {sequence}", f"text {sequence}", audio
    )


def test_segment_ready_reaches_every_listener_of_its_language(pipeline: Pipeline) -> None:
    for n in range(5):
        assert pipeline.connect(f"es-{n}", "es")["statusCode"] == 200
    pipeline.connect("fr-0", "fr")

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    (result,) = pipeline.deliver_broadcast_events()

    assert (result["delivered"], result["gone"], result["failed"]) == (5, 0, 0)
    assert result["broadcastSuccessRate"] == 100.0
    assert pipeline.sender.messages("fr-0") == []
    for n in range(5):
        (message,) = pipeline.sender.messages(f"es-{n}")
        schemas.validate("messages/segment", message)
    (completed,) = pipeline.emitted("BroadcastCompleted")
    schemas.validate_event("BroadcastCompleted", completed)
    assert completed["delivered"] == 5


def test_gone_listener_is_pruned_from_the_table_and_the_counts(pipeline: Pipeline) -> None:
    pipeline.connect("stays", "es")
    pipeline.connect("left", "es")
    pipeline.sender.gone.add("left")
    # Past the connecting grace: a 410 now means gone, not "upgrade still running".
    later = time.time() + CONNECTING_GRACE_SECONDS + 1
    pipeline.broadcaster.broadcaster().clock = lambda: later

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    (result,) = pipeline.deliver_broadcast_events()

    assert (result["delivered"], result["gone"]) == (1, 1)
    store = pipeline.broadcaster.broadcaster().connections
    assert store.get("left") is None
    assert store.get("stays") is not None
    session = pipeline.session()
    assert session.listener_count == 1
    assert session.language_counts["es"] == 1


def test_a_post_still_throttled_after_the_sdk_counts_failed_without_a_second_try(
    pipeline: Pipeline,
) -> None:
    """The Sender port sits above botocore's retries (the one retry level, counted in
    test_retries.py): a post that fails there is counted, never sent again."""
    pipeline.connect("fine", "es")
    pipeline.connect("hopeless", "es")
    pipeline.sender.throttle("hopeless", 1)

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    (result,) = pipeline.deliver_broadcast_events()

    assert (result["delivered"], result["failed"]) == (1, 1)
    assert result["broadcastSuccessRate"] == 50.0
    assert len(pipeline.sender.messages("fine")) == 1
    assert pipeline.sender.attempts["hopeless"] == 1


def test_redelivered_segment_ready_is_not_delivered_twice(pipeline: Pipeline) -> None:
    pipeline.connect("a", "es")
    detail = events.segment_ready(segment(4))

    pipeline.put_events(("SegmentReady", detail), ("SegmentReady", detail))
    results = pipeline.deliver_broadcast_events()

    assert sorted(r["status"] for r in results) == ["duplicate", "ok"]
    assert [m["sequence"] for m in pipeline.sender.messages("a")] == [4]


def test_fan_out_concurrency_stays_within_the_setting(pipeline: Pipeline) -> None:
    pipeline.sender.delay = 0.005
    for n in range(30):
        pipeline.connect(f"l-{n}", "es")

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    (result,) = pipeline.deliver_broadcast_events()

    assert result["delivered"] == 30
    assert 1 < pipeline.sender.max_in_flight <= 8


def test_large_audio_travels_in_parts_or_by_reference(pipeline: Pipeline) -> None:
    pipeline.connect("a", "es")
    clip = bytes(range(256)) * 800  # 200 KB
    inline = AudioRef(data_b64=base64.b64encode(clip).decode("ascii"), size=len(clip))
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=pipeline.settings.audio_bucket, Key="audio/x.mp3", Body=clip)
    ref = AudioRef(bucket=pipeline.settings.audio_bucket, key="audio/x.mp3", size=len(clip))

    # Handed to the handler directly: a 270 KB detail is past PutEvents' limit,
    # which is why the processor sends audio this large by reference.
    pipeline.broadcaster.lambda_handler(bridge_event(segment(1, audio=inline)), Context())
    pipeline.put_events(("SegmentReady", events.segment_ready(segment(2, audio=ref))))
    pipeline.deliver_broadcast_events()

    messages = pipeline.sender.messages("a")
    for message in messages:
        schemas.validate("messages/segment", message)
    parts = [m for m in messages if m["sequence"] == 1]
    assert len(parts) > 1
    assert b"".join(base64.b64decode(p["audio"]["data"]) for p in parts) == clip
    (by_ref,) = [m for m in messages if m["sequence"] == 2]
    assert "audio/x.mp3" in by_ref["audio"]["url"]


def test_session_ended_tells_every_listener(pipeline: Pipeline) -> None:
    pipeline.connect("es-1", "es")
    pipeline.connect("fr-1", "fr")
    pipeline.connect("ca-1", "ca")

    pipeline.put_events(("SessionEnded", events.session_ended(SESSION, "ended by speaker")))
    (result,) = pipeline.deliver_broadcast_events()

    assert result["delivered"] == 3
    for cid in ("es-1", "fr-1", "ca-1"):
        (message,) = pipeline.sender.messages(cid)
        schemas.validate("messages/sessionEnded", message)


def test_malformed_event_is_rejected_not_retried(pipeline: Pipeline) -> None:
    event = bridge_event(segment(1))
    del event["detail"]["language"]

    result = pipeline.broadcaster.lambda_handler(event, Context())

    assert result["status"] == "rejected"


def bridge_event(seg: Segment) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SegmentReady",
        "source": "polycast",
        "account": "123456789012",
        "time": "2026-11-29T14:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": events.segment_ready(seg),
    }


# -- DynamoDB adapters on moto --------------------------------------------------------


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        create_resources(local_settings())
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_connection_store_pages_listeners_through_the_gsi(ddb: Any) -> None:
    store = DynamoConnectionStore(ddb, local_settings().connections_table, page_size=3)
    for n in range(7):
        store.put(Connection(f"es-{n}", SESSION, "es", 1))
    store.put(Connection("fr-0", SESSION, "fr", 1, paused=True))
    store.put(Connection("other", "other-session-1", "es", 1))

    pages = list(store.listeners(SESSION, "es"))
    everyone = [c for page in store.listeners(SESSION) for c in page]

    assert all(len(page) <= 3 for page in pages)
    assert sorted(c.connection_id for page in pages for c in page) == [f"es-{n}" for n in range(7)]
    assert len(everyone) == 8
    assert store.get("fr-0") == Connection("fr-0", SESSION, "fr", 1, paused=True)
    assert store.delete("fr-0") is not None
    assert store.delete("fr-0") is None


def test_segment_log_records_once_and_returns_later_segments_in_order(ddb: Any) -> None:
    log = DynamoSegmentLog(ddb, local_settings().segments_table)
    for n in (3, 1, 2, 10):
        assert log.record(segment(n), ttl_seconds=60)
    assert not log.record(segment(2), ttl_seconds=60)
    assert log.record(segment(2, "fr"), ttl_seconds=60)

    assert not log.is_delivered(SESSION, "es", 2)
    log.mark_delivered(segment(2))
    assert log.is_delivered(SESSION, "es", 2)
    assert [s.sequence for s in log.since(SESSION, "es", 1)] == [2, 3, 10]
    assert [s.sequence for s in log.since(SESSION, "es", 1, limit=2)] == [2, 3]
    assert log.since(SESSION, "es", 2)[0] == segment(3)


# -- the boto3 sender against an @connections look-alike ------------------------------


class _Connections(BaseHTTPRequestHandler):
    """Answers like API Gateway: 410 for ``gone-*``, 429 for ``busy-*``, 500 for ``oops-*``."""

    received: dict[str, list[bytes]] = {}

    def do_POST(self) -> None:
        connection_id = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = {"gone": 410, "busy": 429, "oops": 500, "deny": 403}.get(
            connection_id.split("-")[0], 200
        )
        if status == 200:
            self.received.setdefault(connection_id, []).append(body)
        self._answer(status)

    def do_DELETE(self) -> None:
        self._answer(410 if self.path.endswith("gone-1") else 204)

    def _answer(self, status: int) -> None:
        error = {
            403: "ForbiddenException",
            410: "GoneException",
            429: "LimitExceededException",
            500: "InternalServerError",
        }
        payload = json.dumps({"message": error.get(status, "")}).encode()
        self.send_response(status)
        if status in error:
            self.send_header("x-amzn-ErrorType", error[status])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def management_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Connections)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_api_gateway_sender_maps_gone_throttling_and_5xx(management_endpoint: str) -> None:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=management_endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    sender = ApiGatewaySender(client)

    sender.post("fine-1", b'{"type":"pong"}')
    assert _Connections.received["fine-1"] == [b'{"type":"pong"}']
    with pytest.raises(ConnectionGone):
        sender.post("gone-1", b"{}")
    with pytest.raises(TransientError):
        sender.post("busy-1", b"{}")
    with pytest.raises(TransientError):
        sender.post("oops-1", b"{}")
    with pytest.raises(PolycastError) as denied:
        sender.post("deny-1", b"{}")
    assert not isinstance(denied.value, TransientError | ConnectionGone)
    sender.close("fine-1")
    sender.close("gone-1")  # already gone: not an error


def test_composition_builds_both_functions_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = local_settings(api_gateway_endpoint="http://127.0.0.1:9")
    with mock_aws():
        broadcaster = broadcaster_dependencies(settings)
        service = connection_dependencies(settings)
    assert broadcaster.max_concurrent == settings.max_concurrent_broadcasts
    assert "es" in service.supported_languages
    with pytest.raises(ValueError, match="API_GATEWAY_ENDPOINT"):
        broadcaster_dependencies(local_settings())
