"""The local runtime's plumbing with tiny handlers of our own: gateway routes, the
``@connections`` API through boto3, Kinesis → processor → EventBridge → broadcaster,
``local.json``, and a busy port (a restart on the same port: ``test_local_restart.py``)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from polycast_kit.local.runtime import LocalRuntime, PortInUse


class TinyPipeline:
    """Three handlers that behave like the real ones at their edges, nothing more."""

    def __init__(self) -> None:
        self.connections: dict[str, str] = {}  # connection id -> session
        self.events: list[dict[str, Any]] = []
        self.disconnected: list[str] = []
        self.contexts: list[Any] = []
        self.lock = threading.Lock()

    def connection(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.contexts.append(context)
        ctx = event["requestContext"]
        route = ctx["routeKey"]
        if route == "$connect":
            params = event.get("queryStringParameters") or {}
            if "sessionId" not in params:
                return {
                    "statusCode": 400,
                    "body": json.dumps({"code": "MISSING_FIELD", "message": "sessionId"}),
                }
            if params["sessionId"] == "nope":
                return {
                    "statusCode": 404,
                    "body": json.dumps({"code": "SESSION_NOT_FOUND", "message": "no such session"}),
                }
            with self.lock:
                self.connections[ctx["connectionId"]] = params["sessionId"]
            return {"statusCode": 200}
        if route == "$disconnect":
            with self.lock:
                self.connections.pop(ctx["connectionId"], None)
                self.disconnected.append(ctx["connectionId"])
            return {"statusCode": 200}
        if route == "ping":
            return {"statusCode": 200, "body": json.dumps({"type": "pong"})}
        return {"statusCode": 200, "body": json.dumps({"type": "echo", "route": route})}

    def processor(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        import base64

        client = boto3.client("events")
        entries = []
        for record in event["Records"]:
            body = json.loads(base64.b64decode(record["kinesis"]["data"]))
            entries.append(
                {
                    "Source": "polycast",
                    "DetailType": "SegmentReady",
                    "EventBusName": os.environ["EVENT_BUS_NAME"],
                    "Detail": json.dumps(
                        {
                            "sessionId": body["sessionId"],
                            "language": "es",
                            "sequence": body["sequence"],
                            "text": body["text"],
                        }
                    ),
                }
            )
        client.put_events(Entries=entries)
        return {"batchItemFailures": []}

    def broadcaster(self, event: dict[str, Any], context: Any) -> None:
        self.events.append(event)
        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=os.environ["API_GATEWAY_ENDPOINT"]
        )
        detail = event["detail"]
        with self.lock:
            targets = [c for c, s in self.connections.items() if s == detail["sessionId"]]
        for connection_id in targets:
            client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(detail).encode())


@pytest.fixture(scope="module")
def pipeline() -> TinyPipeline:
    return TinyPipeline()


@pytest.fixture(scope="module")
def runtime(pipeline: TinyPipeline, tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("state")
    rt = LocalRuntime(
        aws_port=0,
        ws_port=0,
        state_dir=state,
        root=tmp_path_factory.mktemp("root"),
        handlers={
            "ConnectionHandler": pipeline.connection,
            "TranscriptProcessor": pipeline.processor,
            "Broadcaster": pipeline.broadcaster,
            "SessionSweeper": lambda event, context: None,
            "Speaker": lambda event, context: None,
        },
        idle_timeout_seconds=600,
    )
    rt.languages = ("es",)
    with rt:
        yield rt


def test_local_json_matches_the_design(runtime: LocalRuntime) -> None:
    assert runtime.state_dir is not None
    data = json.loads((runtime.state_dir / "local.json").read_text())
    assert set(data) == {
        "awsEndpoint",
        "region",
        "transcriptStream",
        "eventBus",
        "websocketUrl",
        "listenerPage",
        "languages",
    }
    assert data["awsEndpoint"].startswith("http://127.0.0.1:")
    assert data["websocketUrl"].startswith("ws://127.0.0.1:")
    assert data["eventBus"] == "polycast"


def test_segment_flows_from_kinesis_to_a_websocket_listener(
    runtime: LocalRuntime, pipeline: TinyPipeline
) -> None:
    endpoints = runtime.endpoints
    assert endpoints is not None

    async def scenario() -> list[dict[str, Any]]:
        url = f"{endpoints.websocket_url}/?sessionId=s-1&targetLanguage=es"
        async with websockets.connect(url) as ws:
            kinesis = boto3.client(
                "kinesis", endpoint_url=endpoints.aws_endpoint, region_name="us-east-1"
            )
            for n in (1, 2, 3):
                kinesis.put_record(
                    StreamName=endpoints.transcript_stream,
                    PartitionKey="s-1",
                    Data=json.dumps({"sessionId": "s-1", "sequence": n, "text": f"t{n}"}),
                )
            got = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in range(3)]
            await ws.send(json.dumps({"action": "ping"}))
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            await ws.send("not json")
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
            return got

    got = asyncio.run(scenario())
    assert [m["sequence"] for m in got[:3]] == [1, 2, 3]
    assert got[3] == {"type": "pong"}
    assert got[4] == {"type": "echo", "route": "$default"}
    event = pipeline.events[0]
    assert event["account"] == "123456789012"
    assert event["detail-type"] == "SegmentReady"
    context = pipeline.contexts[0]
    assert context.function_name == "polycast-ConnectionHandler"
    assert context.memory_limit_in_mb == 512
    assert context.get_remaining_time_in_millis() > 0


def test_refused_connect_carries_status_and_reason(runtime: LocalRuntime) -> None:
    endpoints = runtime.endpoints
    assert endpoints is not None

    async def refused(query: str) -> tuple[int, dict[str, Any]]:
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(f"{endpoints.websocket_url}/?{query}"):
                pass
        response = info.value.response
        return response.status_code, json.loads(response.body or b"{}")

    status, body = asyncio.run(refused("sessionId=nope&targetLanguage=es"))
    assert (status, body["code"]) == (404, "SESSION_NOT_FOUND")
    status, body = asyncio.run(refused("targetLanguage=es"))
    assert (status, body["code"]) == (400, "MISSING_FIELD")


def test_connections_api_works_through_boto3(runtime: LocalRuntime, pipeline: TinyPipeline) -> None:
    endpoints = runtime.endpoints
    assert endpoints is not None
    assert runtime.gateway is not None
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=runtime.gateway.http_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )

    async def scenario() -> tuple[str, dict[str, Any], str]:
        async with websockets.connect(
            f"{endpoints.websocket_url}/?sessionId=s-2&targetLanguage=es"
        ) as ws:
            connection_id = next(c for c, s in pipeline.connections.items() if s == "s-2")
            info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            await asyncio.to_thread(
                client.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": 1}'
            )
            received = await asyncio.wait_for(ws.recv(), 10)
            await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            await asyncio.wait_for(ws.wait_closed(), 10)
            return connection_id, info, str(received)

    connection_id, info, received = asyncio.run(scenario())
    assert "=" in connection_id or len(connection_id) == 16
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert "ConnectedAt" in info
    assert "LastActiveAt" in info
    assert json.loads(received) == {"hello": 1}
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId=connection_id)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="bm90LWEtY29ubmVjdGlvbg=", Data=b"{}")
    assert connection_id in pipeline.disconnected


def test_oversized_client_message_closes_with_1009(runtime: LocalRuntime) -> None:
    endpoints = runtime.endpoints
    assert endpoints is not None

    async def scenario() -> int | None:
        async with websockets.connect(
            f"{endpoints.websocket_url}/?sessionId=s-3&targetLanguage=es", max_size=None
        ) as ws:
            await ws.send("x" * (128 * 1024 + 1))
            await asyncio.wait_for(ws.wait_closed(), 10)
            return ws.close_code

    assert asyncio.run(scenario()) == 1009


def test_listener_page_and_config_are_served(runtime: LocalRuntime) -> None:
    import urllib.request

    assert runtime.gateway is not None
    base = runtime.gateway.http_url
    with urllib.request.urlopen(base + "/") as response:
        assert "text/html" in response.headers["Content-Type"]
    with urllib.request.urlopen(base + "/config.json") as response:
        config = json.loads(response.read())
    assert config["websocketUrl"] == runtime.gateway.websocket_url
    assert set(config) >= {"websocketUrl", "languages", "sourceLanguage", "awsEndpoint"}


def test_idle_connection_is_closed(runtime: LocalRuntime) -> None:
    assert runtime.gateway is not None
    runtime.gateway.idle_timeout_seconds = 0.5
    try:

        async def scenario() -> int | None:
            async with websockets.connect(
                f"{runtime.gateway.websocket_url}/?sessionId=s-4&targetLanguage=es"
            ) as ws:
                await asyncio.wait_for(ws.wait_closed(), 10)
                return ws.close_code

        assert asyncio.run(scenario()) == 1001
    finally:
        runtime.gateway.idle_timeout_seconds = 600


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        runtime = LocalRuntime(
            aws_port=0,
            ws_port=port,
            state_dir=None,
            root=tmp_path,
            handlers={"x": lambda e, c: None},
        )
        with pytest.raises(PortInUse) as info:
            runtime.start()
    assert str(port) in str(info.value)
    assert "--ws-port" in str(info.value)


def test_a_busy_aws_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        runtime = LocalRuntime(aws_port=port, ws_port=0, state_dir=None, root=tmp_path)
        with pytest.raises(PortInUse) as info:
            runtime.start()
    assert str(port) in str(info.value)
    assert "--aws-port" in str(info.value)


def test_audio_by_reference_is_served_from_the_local_bucket(runtime: LocalRuntime) -> None:
    import urllib.error
    import urllib.request

    assert runtime.gateway is not None
    assert runtime.settings is not None
    s3 = boto3.client(
        "s3",
        endpoint_url=runtime.aws.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    s3.put_object(Bucket=runtime.settings.audio_bucket, Key="audio/s-1/es/7.mp3", Body=b"ID3mp3")
    assert runtime.settings.audio_url_base == runtime.gateway.http_url + "/audio/"
    with urllib.request.urlopen(runtime.settings.audio_url_base + "audio/s-1/es/7.mp3") as response:
        assert response.read() == b"ID3mp3"
        assert response.headers["Content-Type"] == "audio/mpeg"
    for missing in ("/audio/nothing-here.mp3", "/audio/../web/index.html"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(runtime.gateway.http_url + missing)
        assert info.value.code == 404
