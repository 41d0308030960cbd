"""The embedded AWS keeps moto's PutEvents cheap: JSONPath input paths are compiled
once per process (moto builds a new parser for each path of each target of each
event), and events still reach the rules' queues and the archive unchanged."""

from __future__ import annotations

import importlib
import json
from typing import Any

import boto3
import pytest

from polycast import wiring
from polycast_kit.local.aws import EmbeddedAws
from polycast_kit.local.resources import create_resources, local_settings


def client(service: Any, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_event_paths_are_compiled_once_and_events_still_reach_queue_and_archive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")  # the emulator ignores them; boto3 needs some
    aws = EmbeddedAws(port=0)
    aws.start()
    try:
        # The parser moto calls for every input path returns one compiled expression.
        parse = importlib.import_module("jsonpath_ng.ext").parse
        assert parse("$.detail") is parse("$.detail")

        settings = local_settings()
        resources = create_resources(settings, endpoint_url=aws.endpoint_url)
        events = client("events", aws.endpoint_url)
        detail: dict[str, Any] = {"sessionId": "dusky-wren-603", "language": "es"}
        for n in (1, 2):
            detail["listenerCount"] = n
            out = events.put_events(
                Entries=[
                    {
                        "Source": wiring.SOURCE,
                        "DetailType": "ListenerJoined",
                        "Detail": json.dumps(detail),
                        "EventBusName": resources.bus_name,
                    }
                ]
            )
            assert out["FailedEntryCount"] == 0

        sqs = client("sqs", aws.endpoint_url)
        url = resources.queue_urls[wiring.ANALYTICS_RULE.local_queue.logical_id]  # type: ignore[union-attr]
        bodies: list[dict[str, Any]] = []
        for _ in range(10):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            bodies += [json.loads(m["Body"]) for m in got.get("Messages", [])]
            if len(bodies) >= 2:
                break
        assert sorted(b["detail"]["listenerCount"] for b in bodies) == [1, 2]
        assert {b["detail-type"] for b in bodies} == {"ListenerJoined"}
        assert {b["detail"]["sessionId"] for b in bodies} == {"dusky-wren-603"}

        archive = events.describe_archive(ArchiveName=wiring.ARCHIVE_LOCAL_NAME)
        assert archive["EventCount"] == 2
    finally:
        aws.stop()


def test_the_service_lookup_is_done_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto resolves each request's service by listing its own package folder; the
    embedded AWS keeps the answer per host, so later requests skip the listing."""
    from moto import backends

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    listings: list[int] = []
    listing = backends.list_of_moto_modules

    def counted() -> Any:
        listings.append(1)
        return listing()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    aws = EmbeddedAws(port=0)
    aws.start()
    try:
        sqs = client("sqs", aws.endpoint_url)
        sqs.list_queues()
        first = len(listings)
        for _ in range(5):
            sqs.list_queues()
        assert first >= 1
        assert len(listings) == first  # answered from the remembered lookup
    finally:
        aws.stop()
