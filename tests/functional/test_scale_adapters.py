"""Issue 6 adapters against moto and hand-written boto3 stand-ins: per-slice marks in
the Segments table, local audio URLs, Translate splitting, Polly throttling."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from polycast.adapters.aws.audio import S3AudioStore
from polycast.adapters.aws.polly import PollySynthesizer
from polycast.adapters.aws.segments import DynamoSegmentLog
from polycast.adapters.aws.translate import AmazonTranslator
from polycast.composition import audio_url_base
from polycast.config import Settings
from polycast.domain.models import AudioRef, Segment
from polycast.errors import Throttled, TranscriptTooLong
from polycast_kit.local.resources import create_resources, local_settings

SESSION = "golden-eagle-427"


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        create_resources(local_settings())
        yield boto3.client("dynamodb", region_name="us-east-1")


def segment(sequence: int) -> Segment:
    return Segment(SESSION, sequence, "es", "en", "Hola", "Hello", None)


def test_segment_log_marks_each_audience_slice_on_its_own(ddb: Any) -> None:
    log = DynamoSegmentLog(ddb, local_settings().segments_table)
    assert log.record(segment(7), ttl_seconds=60)

    log.mark_delivered(segment(7), audience_slice=(1, 3))
    log.mark_delivered(segment(7), audience_slice=(1, 3))  # idempotent

    assert log.is_delivered(SESSION, "es", 7, audience_slice=(1, 3))
    assert not log.is_delivered(SESSION, "es", 7, audience_slice=(0, 3))
    assert not log.is_delivered(SESSION, "es", 7)  # the whole segment is another mark
    log.mark_delivered(segment(7))
    assert log.is_delivered(SESSION, "es", 7)
    assert not log.is_delivered(SESSION, "es", 7, audience_slice=(2, 3))
    assert log.since(SESSION, "es", 0) == [segment(7)]  # catch-up is unchanged


def test_local_audio_urls_point_at_the_gateway_and_aws_ones_are_presigned() -> None:
    local = Settings(engines="local", api_gateway_endpoint="http://127.0.0.1:8123")
    assert audio_url_base(local) == "http://127.0.0.1:8123/audio/"
    assert audio_url_base(Settings(audio_url_base="https://cdn.example/a/")) == (
        "https://cdn.example/a/"
    )
    assert audio_url_base(Settings(engines="aws", api_gateway_endpoint="https://x/live")) == ""

    ref = AudioRef(bucket="polycast-audio", key="audio/espeak/es/abc.mp3", size=9)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        gateway = S3AudioStore(s3, "polycast-audio", url_base="http://127.0.0.1:8123/audio/")
        assert gateway.url(ref) == "http://127.0.0.1:8123/audio/audio/espeak/es/abc.mp3"
        presigned = S3AudioStore(s3, "polycast-audio").url(ref)
        assert "X-Amz-Signature=" in presigned or "Signature=" in presigned


class RecordingTranslate:
    """TranslateText that upper-cases and refuses anything over 10,000 bytes, as AWS does."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def translate_text(self, **kw: Any) -> dict[str, Any]:
        text = kw["Text"]
        if len(text.encode("utf-8")) > 10_000:
            raise ClientError(
                {"Error": {"Code": "TextSizeLimitExceededException", "Message": "too long"}},
                "TranslateText",
            )
        self.texts.append(text)
        return {"TranslatedText": text.upper()}


def test_translate_splits_text_over_10000_bytes_at_sentence_ends() -> None:
    client = RecordingTranslate()
    text = " ".join(f"Sentence {n} ends here." for n in range(900))  # ~22,000 bytes
    out = AmazonTranslator(client).translate(text, source="en", target="es")  # type: ignore[arg-type]
    assert out == text.upper()
    assert len(client.texts) == 3  # ~22,000 bytes in three runs
    assert all(piece.endswith(".") for piece in client.texts)


def test_translate_rejects_one_sentence_over_the_limit() -> None:
    with pytest.raises(TranscriptTooLong):
        AmazonTranslator(RecordingTranslate()).translate(  # type: ignore[arg-type]
            "a" * 10_001, source="en", target="es"
        )


class ThrottledPolly:
    def __init__(self) -> None:
        self.engines: list[str] = []

    def synthesize_speech(self, **kw: Any) -> dict[str, Any]:
        self.engines.append(kw["Engine"])
        if kw["Engine"] == "neural":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "SynthesizeSpeech",
            )
        return {"AudioStream": io.BytesIO(b"\xff\xfbmp3")}


def test_polly_reports_throttling_and_leaves_degradation_to_the_orchestrator() -> None:
    client = ThrottledPolly()
    with pytest.raises(Throttled):
        PollySynthesizer(client, engine="neural").synthesize("<speak>x</speak>", language="es")  # type: ignore[arg-type]
    assert client.engines == ["neural"]  # no hidden second request
    standard = PollySynthesizer(client, engine="standard")  # type: ignore[arg-type]
    assert standard.synthesize("<speak>x</speak>", language="es") == b"\xff\xfbmp3"
