"""Live captions and captions only through the broadcaster and connection handlers on
moto: PartialReady through the broadcast rule (the analytics rule leaves it out), never
after its segment nor twice; a captions-only listener gets segments without audio."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from polycast import schemas
from polycast.domain import events
from polycast.domain.models import AudioRef, LiveCaption

from .test_broadcaster import SESSION, Context, Pipeline, running_pipeline, segment


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with running_pipeline(monkeypatch) as running:
        yield running


def act(pipeline: Pipeline, connection_id: str, body: dict[str, Any]) -> dict[str, Any]:
    event = {
        "requestContext": {
            "routeKey": body["action"],
            "eventType": "MESSAGE",
            "connectionId": connection_id,
            "stage": "prod",
            "requestTimeEpoch": 1_800_000_000_000,
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    result: dict[str, Any] = pipeline.connections.lambda_handler(event, Context())
    return result


def test_partial_ready_goes_to_the_broadcaster_not_to_analytics_and_never_after_its_segment(
    pipeline: Pipeline,
) -> None:
    pipeline.connect("a", "es")
    caption = LiveCaption(SESSION, 1, "es", "en", "texto uno,", 3)
    pipeline.put_events(("PartialReady", events.partial_ready(caption)))
    pipeline.put_events(("PartialReady", events.partial_ready(caption)))  # redelivered
    results = pipeline.deliver_broadcast_events()
    assert sorted(r["status"] for r in results) == ["duplicate", "ok"]
    assert all(r["broadcastSuccessRate"] is not None for r in results if r["status"] == "ok")

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    pipeline.deliver_broadcast_events()
    late = LiveCaption(SESSION, 1, "es", "en", "texto uno, tarde", 5)
    pipeline.put_events(("PartialReady", events.partial_ready(late)))
    (dropped,) = pipeline.deliver_broadcast_events()
    assert dropped["status"] == "duplicate"

    received = pipeline.sender.messages("a")
    for message in received:
        schemas.validate(f"messages/{message['type']}", message)
    assert [(m["type"], m["sequence"]) for m in received] == [("partial", 1), ("segment", 1)]
    assert pipeline.emitted("PartialReady") == []  # text: the analytics rule leaves it out


def test_the_early_final_caption_goes_through_the_broadcast_rule_before_its_segment(
    pipeline: Pipeline,
) -> None:
    pipeline.connect("a", "es")
    live = LiveCaption(SESSION, 1, "es", "en", "texto uno,", 3)
    early = LiveCaption(SESSION, 1, "es", "en", "texto uno, entero.", 6, final=True)
    detail = events.partial_ready(early)
    schemas.validate_event("PartialReady", detail)
    pipeline.put_events(("PartialReady", events.partial_ready(live)))
    pipeline.deliver_broadcast_events()
    pipeline.put_events(("PartialReady", detail))
    (sent,) = pipeline.deliver_broadcast_events()
    assert sent["status"] == "ok"
    overtaken = LiveCaption(SESSION, 1, "es", "en", "texto uno, en", 5)
    pipeline.put_events(("PartialReady", events.partial_ready(overtaken)))
    (dropped,) = pipeline.deliver_broadcast_events()
    assert dropped["status"] == "duplicate"

    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1))))
    pipeline.deliver_broadcast_events()
    pipeline.put_events(("PartialReady", detail))  # redelivered after its segment
    (late,) = pipeline.deliver_broadcast_events()
    assert late["status"] == "duplicate"

    received = pipeline.sender.messages("a")
    for message in received:
        schemas.validate(f"messages/{message['type']}", message)
    assert [(m["type"], m["text"]) for m in received] == [
        ("partial", "texto uno,"),
        ("partial", "texto uno, entero."),
        ("segment", segment(1).text),
    ]


def test_a_captions_only_listener_gets_segments_without_audio(pipeline: Pipeline) -> None:
    pipeline.connect("ears", "es")
    pipeline.connect("eyes", "es")
    assert act(pipeline, "eyes", {"action": "audio", "on": False})["statusCode"] == 200
    (ack,) = pipeline.sender.messages("eyes")
    assert ack == {"type": "ack", "action": "audio", "on": False}
    session = pipeline.session()
    assert session.captions_only_counts == {"es": 1}
    assert session.wants_audio("es")

    audio = AudioRef(data_b64=base64.b64encode(b"\xff\xfb" + b"\0" * 200).decode(), size=202)
    pipeline.put_events(("SegmentReady", events.segment_ready(segment(1, audio=audio))))
    pipeline.deliver_broadcast_events()
    (heard,) = pipeline.sender.messages("ears")
    read = pipeline.sender.messages("eyes")[-1]
    assert heard["audio"] is not None
    assert read["type"] == "segment"
    assert read["audio"] is None

    pipeline.connections.lambda_handler(
        {
            "requestContext": {
                "routeKey": "$disconnect",
                "eventType": "DISCONNECT",
                "connectionId": "ears",
                "stage": "prod",
                "requestTimeEpoch": 1_800_000_000_000,
            },
            "isBase64Encoded": False,
        },
        Context(),
    )
    assert not pipeline.session().wants_audio("es")  # nobody left who hears es
