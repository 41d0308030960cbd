"""The transcript-processor handler on moto: real Kinesis and direct-invoke event shapes.

Tables, bus, rules, queues and bucket come from ``create_resources`` (the wiring);
the EventBridge rules deliver to SQS queues, which we read back to assert every
emitted event and validate it against its schema. moto has no Translate and its
Polly returns NUL bytes, so Translate and Polly are the hand-written fakes; every
other adapter is the real boto3 one (sessions, translation cache, S3 audio,
PutEvents, Powertools idempotency on DynamoDB).
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from polycast import schemas, wiring
from polycast.adapters.aws.listeners import DynamoListenerRegistry
from polycast.adapters.aws.sessions import DynamoSessionStore
from polycast.composition import processor_dependencies
from polycast.config import Settings
from polycast.domain.models import Connection
from polycast.errors import Throttled
from polycast_kit.cli.events import EventTap
from polycast_kit.local.functions import load_module, new_context
from polycast_kit.local.resources import LocalResources, local_settings
from polycast_kit.testing.synthesizer import ID3_HEADER, FakeSynthesizer
from polycast_kit.testing.translator import FakeTranslator
from tests.unit.processor_world import kinesis

from .handlers_on_moto import drain, moto_resources

ROOT = Path(__file__).resolve().parents[2]
A = "golden-eagle-427"
B = "silver-otter-12"
SEED_EVENT = {
    "sessionId": A,
    "sourceLanguage": "en",
    "transcriptText": "Hello everyone, this is important news.",
    "emotionDynamics": {
        "emotion": "happy",
        "intensity": 0.8,
        "rateWpm": 150,
        "volumeLevel": "normal",
    },
}


class ScriptedTranslator(FakeTranslator):
    """Throttles any text containing FAIL while ``failing`` is set."""

    failing = True

    def translate(self, text: str, *, source: str, target: str, settings: object = None) -> str:
        if self.failing and "FAIL" in text:
            raise Throttled("throttled")
        return super().translate(text, source=source, target=target)


@dataclass
class Pipeline:
    settings: Settings
    resources: LocalResources
    handler: ModuleType
    translator: ScriptedTranslator
    synthesizer: FakeSynthesizer
    sessions: DynamoSessionStore
    listeners: DynamoListenerRegistry
    # Every event on the bus: a private rule + queue (the analytics rule leaves out
    # the events carrying transcript text, SegmentReady among them).
    tap: EventTap

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler.lambda_handler(
            event, new_context(wiring.TRANSCRIPT_PROCESSOR, "us-east-1")
        )
        return result

    def listen(self, session_id: str, *languages: str) -> None:
        """A started session with these listeners, counted in as $connect counts them."""
        self.sessions.start(session_id, "en")
        for n, language in enumerate(languages):
            self.listeners.admit(Connection(f"{session_id}-{n}=", session_id, language, 1))

    def drain(self, queue: str) -> list[dict[str, Any]]:
        return drain(self.tap.queue_url if queue == "*" else self.resources.queue_urls[queue])

    def emitted(self) -> list[tuple[str, dict[str, Any]]]:
        """Every event on the bus since the last call, each validated against its schema."""
        out = []
        for event in self.drain("*"):
            assert event["source"] == "polycast"
            schemas.validate_event(event["detail-type"], event["detail"])
            out.append((event["detail-type"], event["detail"]))
        return out


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with running_pipeline(monkeypatch) as running:
        yield running


@contextmanager
def running_pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """The processor handler on moto, with scripted engines and a tap on the bus."""
    settings = local_settings(inline_audio_max_bytes=32 * 1024)
    with moto_resources(monkeypatch, settings) as resources:
        translator = ScriptedTranslator()
        synthesizer = FakeSynthesizer(engine="neural")
        deps = processor_dependencies(
            settings, translator=translator, synthesizer=synthesizer, max_language_workers=8
        )
        handler = load_module(wiring.TRANSCRIPT_PROCESSOR)
        handler.use_dependencies(deps)
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        sessions = DynamoSessionStore(ddb, settings.sessions_table)
        listeners = DynamoListenerRegistry(
            ddb,
            connections_table=settings.connections_table,
            sessions_table=settings.sessions_table,
        )
        tap = EventTap(
            boto3.client("events", region_name="us-east-1"),
            boto3.client("sqs", region_name="us-east-1"),
            bus_name=resources.bus_name,
        ).open()
        yield Pipeline(
            settings, resources, handler, translator, synthesizer, sessions, listeners, tap
        )
        deps.close()


# ---- Kinesis event shapes (``kinesis``: the processor world's Lambda record) ----------


def transcript(session_id: str, text: str, sequence: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {**SEED_EVENT, "type": "transcript", "sessionId": session_id}
    body["transcriptText"] = text
    if sequence is not None:
        body["sequence"] = sequence
    return kinesis(json.dumps(body).encode(), session_id)


def control(kind: str, session_id: str) -> dict[str, Any]:
    body = {"type": kind, "sessionId": session_id, "sourceLanguage": "en"}
    if kind == "sessionEnded":
        del body["sourceLanguage"]
    return kinesis(json.dumps(body).encode(), session_id)


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def seq_of(record: dict[str, Any]) -> str:
    return str(record["kinesis"]["sequenceNumber"])


def segments(events: list[tuple[str, dict[str, Any]]], session_id: str) -> list[tuple[int, str]]:
    return sorted(
        (d["sequence"], d["language"])
        for t, d in events
        if t == "SegmentReady" and d["sessionId"] == session_id
    )


# ---- the seed's direct invoke --------------------------------------------------------


def test_seed_direct_invoke_returns_the_seed_response(pipeline: Pipeline) -> None:
    pipeline.listen(A, "es", "es", "fr")
    response = pipeline.invoke(dict(SEED_EVENT))
    assert response["success"] is True
    assert response["statusCode"] == 200
    assert response["languagesProcessed"] == 2
    assert response["languagesFailed"] == 0
    assert response["listenerCount"] == 3
    assert response["cacheHitRate"] == 0.0
    assert response["broadcastSuccessRate"] == 1.0
    assert response["durationMs"] >= 0
    events = pipeline.emitted()
    assert segments(events, A) == [(1, "es"), (1, "fr")]
    es = next(d for t, d in events if t == "SegmentReady" and d["language"] == "es")
    assert es["text"] == "[es] Hello everyone, this is important news."
    assert base64.b64decode(es["audio"]["data"]).startswith(ID3_HEADER)

    again = pipeline.invoke(dict(SEED_EVENT))  # same sentence: both caches answer
    assert again["cacheHitRate"] == 1.0
    assert len(pipeline.synthesizer.calls) == 2


def test_seed_direct_invoke_names_a_missing_field(pipeline: Pipeline) -> None:
    event = {k: v for k, v in SEED_EVENT.items() if k != "transcriptText"}
    response = pipeline.invoke(event)
    assert response == {
        "statusCode": 400,
        "success": False,
        "error": {"code": "MISSING_FIELD", "message": "missing required field: transcriptText"},
    }
    assert pipeline.emitted() == []


def test_metrics_are_emitted_as_emf(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    pipeline.listen(A, "es")
    pipeline.invoke(dict(SEED_EVENT))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert blobs
    names = {
        m["Name"]
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == "TranslationPipeline"
        for m in directive["Metrics"]
    }
    assert {
        "CacheHitRate",
        "BroadcastSuccessRate",
        "ProcessingDuration",
        "LanguagesProcessed",
        "FailedLanguagesCount",
        "ListenerCount",
    } <= names


# ---- Kinesis batches -------------------------------------------------------------------


def test_two_sessions_in_one_batch_with_a_failure_in_one(pipeline: Pipeline) -> None:
    pipeline.listen(A, "es")
    pipeline.listen(B, "fr")
    a1, a2, a3 = transcript(A, "a one", 1), transcript(A, "a FAIL", 2), transcript(A, "a three", 3)
    b1, b2 = transcript(B, "b one", 1), transcript(B, "b two", 2)
    response = pipeline.invoke({"Records": [a1, b1, a2, b2, a3]})
    assert failures(response) == [seq_of(a2), seq_of(a3)]
    events = pipeline.emitted()
    assert segments(events, A) == [(1, "es")]
    assert segments(events, B) == [(1, "fr"), (2, "fr")]

    # Lambda retries from the lowest failed sequence number; the throttling is over.
    pipeline.translator.failing = False
    retry = pipeline.invoke({"Records": [a2, b2, a3]})
    assert failures(retry) == []
    events = pipeline.emitted()
    assert segments(events, A) == [(2, "es"), (3, "es")]
    assert segments(events, B) == []  # b2 was done: nothing new


def test_redelivery_of_a_batch_emits_nothing_new(pipeline: Pipeline) -> None:
    pipeline.listen(A, "es", "de")
    event = {
        "Records": [
            control("sessionStarted", B),
            transcript(A, "Hello."),
            transcript(A, "Again."),
            control("sessionEnded", B),
        ]
    }
    assert failures(pipeline.invoke(event)) == []
    first = pipeline.emitted()
    assert segments(first, A) == [(1, "de"), (1, "es"), (2, "de"), (2, "es")]
    others = [t for t, _ in first if t not in ("SegmentReady", "PartialReady")]
    assert others == ["SessionStarted", "SessionEnded"]
    # Each synthesized segment had its final caption ahead of the audio.
    captions = [(d["sequence"], d["language"]) for t, d in first if t == "PartialReady"]
    assert sorted(captions) == [(1, "de"), (1, "es"), (2, "de"), (2, "es")]
    calls = len(pipeline.translator.calls)

    assert failures(pipeline.invoke(event)) == []
    assert pipeline.emitted() == []
    assert len(pipeline.translator.calls) == calls
    session = pipeline.sessions.get(A)
    assert session is not None
    assert session.last_sequence == 2  # stream-order numbers were not taken twice


BAD = {
    "not json": (b"{oops", "INVALID_RECORD"),
    "wrong types": (
        json.dumps({**SEED_EVENT, "sequence": "four"}).encode(),
        "INVALID_RECORD",
    ),
    "unknown language": (
        json.dumps({**SEED_EVENT, "sourceLanguage": "xx"}).encode(),
        "UNSUPPORTED_LANGUAGE",
    ),
    "empty text": (json.dumps({**SEED_EVENT, "transcriptText": ""}).encode(), "INVALID_RECORD"),
    "oversize text": (
        json.dumps({**SEED_EVENT, "transcriptText": "long " * 2500}).encode(),
        "TRANSCRIPT_TOO_LONG",
    ),
    # Emotion hints out of range are advisory, not here: tests/unit/test_emotion_hints.py.
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_records_become_transcript_rejected_and_are_not_retried(
    pipeline: Pipeline, name: str
) -> None:
    pipeline.listen(A, "es")
    data, code = BAD[name]
    bad = kinesis(data, A)
    response = pipeline.invoke({"Records": [bad, transcript(A, "Fine.", 4)]})
    assert failures(response) == []
    events = pipeline.emitted()
    rejected = [d for t, d in events if t == "TranscriptRejected"]
    assert [(d["code"], d["recordId"]) for d in rejected] == [(code, seq_of(bad))]
    assert segments(events, A) == [(4, "es")]


def test_kpl_aggregated_records(pipeline: Pipeline) -> None:
    pipeline.listen(A, "es")
    agg = RecordAggregator()
    for n in (1, 2, 3):
        body = {**SEED_EVENT, "transcriptText": f"part {n}", "sequence": n}
        assert agg.add_user_record(A, json.dumps(body).encode()) is None
    _, _, data = agg.clear_and_get().get_contents()
    record = kinesis(data, A)
    del record["kinesis"]["approximateArrivalTimestamp"]  # deaggregator's silent trap
    assert failures(pipeline.invoke({"Records": [record]})) == []
    assert segments(pipeline.emitted(), A) == [(1, "es"), (2, "es"), (3, "es")]


def test_a_transcript_that_tries_to_inject_ssml(pipeline: Pipeline) -> None:
    pipeline.listen(A, "ro")  # Romanian: a standard voice, so the expressive SSML
    attack = 'Hi</emphasis></prosody><break time="10s"/><prosody volume="x-loud">there'
    assert failures(pipeline.invoke({"Records": [transcript(A, attack, 1)]})) == []
    ((language, ssml),) = pipeline.synthesizer.calls
    assert language == "ro"
    root = ET.fromstring(ssml)
    assert [el.tag for el in root.iter()].count("prosody") == 1
    assert all(b.get("time") != "10s" for b in root.iter("break"))
    (segment,) = [d for t, d in pipeline.emitted() if t == "SegmentReady"]
    assert segment["sourceText"] == attack


def test_zero_listeners_means_no_translation_and_no_synthesis(pipeline: Pipeline) -> None:
    pipeline.listen(A)
    assert failures(pipeline.invoke({"Records": [transcript(A, "Anyone?", 1)]})) == []
    assert pipeline.translator.calls == []
    assert pipeline.synthesizer.calls == []
    assert pipeline.emitted() == []


def test_a_language_failing_while_others_succeed(pipeline: Pipeline) -> None:
    pipeline.translator.fail_languages = {"de"}
    pipeline.listen(A, "es", "de")
    response = pipeline.invoke(dict(SEED_EVENT))
    assert (response["languagesProcessed"], response["languagesFailed"]) == (1, 1)
    assert segments(pipeline.emitted(), A) == [(1, "es")]


def test_synthesis_failure_sends_text_with_audio_null(pipeline: Pipeline) -> None:
    pipeline.synthesizer.fail_languages = {"es"}
    pipeline.listen(A, "es")
    pipeline.invoke({"Records": [transcript(A, "Hello.", 1)]})
    ((_, segment),) = [e for e in pipeline.emitted() if e[0] == "SegmentReady"]
    assert segment["audio"] is None
    assert segment["text"] == "[es] Hello."


def test_large_audio_goes_by_s3_reference(pipeline: Pipeline) -> None:
    pipeline.synthesizer.audio_size = 100_000  # over the 32 KB inline threshold
    pipeline.listen(A, "es")
    pipeline.invoke({"Records": [transcript(A, "A long sentence.", 1)]})
    ((_, segment),) = [e for e in pipeline.emitted() if e[0] == "SegmentReady"]
    audio = segment["audio"]
    assert audio["bucket"] == pipeline.settings.audio_bucket
    body = (
        boto3.client("s3", region_name="us-east-1")
        .get_object(Bucket=audio["bucket"], Key=audio["key"])["Body"]
        .read()
    )
    assert len(body) == audio["size"] == 100_000
    assert body.startswith(ID3_HEADER)


def test_session_ended_reaches_the_broadcaster_rule(pipeline: Pipeline) -> None:
    pipeline.invoke({"Records": [transcript(A, "Hi.", 1), control("sessionEnded", A)]})
    to_broadcaster = pipeline.drain("BroadcastEvents")
    assert [e["detail-type"] for e in to_broadcaster] == ["SessionEnded"]
    session = pipeline.sessions.get(A)
    assert session is not None
    assert session.status == "ended"
    late = pipeline.invoke({"Records": [transcript(A, "Late.", 2)]})
    assert failures(late) == []
    rejected = [d for t, d in pipeline.emitted() if t == "TranscriptRejected"]
    assert [d["code"] for d in rejected] == ["SESSION_ENDED"]
