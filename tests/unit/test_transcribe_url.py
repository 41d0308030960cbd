"""The presigned Transcribe URL: the runtime's signer against the kit's independent verifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from botocore.credentials import Credentials, RefreshableCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from polycast.adapters.aws.transcribe_url import (
    MAX_EXPIRES_SECONDS,
    PATH,
    TranscribeUrlError,
    presign,
)
from polycast.schemas import validate
from polycast_kit.transcribe.presigned import LocalCredentials, Refusal, StreamRequest, verify

KEY, SECRET, REGION = "polycast-local", "polycast-local", "us-east-1"
LOCAL = LocalCredentials(KEY, SECRET, REGION)
ENDPOINT = "ws://127.0.0.1:8080"


def _signed(
    *,
    region: str = REGION,
    language: str = "en-US",
    rate: int = 16000,
    expires_in: int = MAX_EXPIRES_SECONDS,
    endpoint: str = ENDPOINT,
    media_encoding: str = "pcm",
    stability: str = "high",
) -> str:
    return presign(
        Credentials(KEY, SECRET),
        region,
        language,
        rate,
        expires_in=expires_in,
        endpoint=endpoint,
        media_encoding=media_encoding,
        stability=stability,
    ).url


def _verify(
    url: str,
    now: datetime | None = None,
    host: str | None = None,
    credentials: LocalCredentials = LOCAL,
) -> StreamRequest:
    parts = urlsplit(url)
    return verify(
        parts.path,
        parts.query,
        {"host": host or parts.netloc},
        credentials,
        now or datetime.now(UTC),
    )


def _refusal(url: str, **kw: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        _verify(url, **kw)
    validate("transcribe/refusal", caught.value.body())
    return caught.value


def test_aws_url_has_transcribes_endpoint_and_parameters() -> None:
    url = presign(
        Credentials("AKIDEXAMPLE", "secret", "session-token"), "eu-west-1", "en-GB", 16000
    )
    parts = urlsplit(url.url)
    assert parts.scheme == "wss"
    assert parts.netloc == "transcribestreaming.eu-west-1.amazonaws.com:8443"
    assert parts.path == PATH
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["language-code"] == "en-GB"
    assert query["media-encoding"] == "pcm"
    assert query["sample-rate"] == "16000"
    assert query["enable-partial-results-stabilization"] == "true"
    assert query["partial-results-stability"] == "high"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].endswith("/eu-west-1/transcribe/aws4_request")
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/")
    assert query["X-Amz-Expires"] == str(MAX_EXPIRES_SECONDS) == url.expires_in.__str__()
    assert query["X-Amz-SignedHeaders"] == "host"
    assert query["X-Amz-Security-Token"] == "session-token"
    assert len(query["X-Amz-Signature"]) == 64


def test_refreshable_credentials_are_frozen_before_signing() -> None:
    creds = RefreshableCredentials(
        KEY,
        SECRET,
        None,
        datetime.now(UTC) + timedelta(hours=1),
        lambda: {"access_key": KEY, "secret_key": SECRET, "token": None, "expiry_time": ""},
        "test",
    )
    url = presign(creds, REGION, "en-US", 16000, endpoint=ENDPOINT).url
    assert _verify(url).sample_rate == 16000


def test_local_endpoint_round_trip() -> None:
    stream = _verify(_signed(expires_in=60))
    assert (stream.language_code, stream.media_encoding, stream.sample_rate, stream.stability) == (
        "en-US",
        "pcm",
        16000,
        "high",
    )
    assert urlsplit(_signed()).scheme == "ws"
    assert _verify(_signed(stability="low")).stability == "low"


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"expires_in": 0}, "expiresIn"),
        ({"expires_in": MAX_EXPIRES_SECONDS + 1}, "expiresIn"),
        ({"rate": 4000}, "sampleRate"),
        ({"language": ""}, "languageCode"),
        ({"media_encoding": "mp3"}, "mediaEncoding"),
        ({"stability": "total"}, "stability"),
        ({"endpoint": "http://127.0.0.1:8080"}, "ws://"),
    ],
)
def test_signer_refuses_what_transcribe_would(kw: dict[str, Any], reason: str) -> None:
    with pytest.raises(TranscribeUrlError, match=reason):
        _signed(**kw)


def test_no_credentials_is_a_clear_error() -> None:
    with pytest.raises(TranscribeUrlError, match="credentials"):
        presign(None, REGION, "en-US", 16000)


def test_expired_and_future_urls_are_refused() -> None:
    url = _signed(expires_in=30)
    now = datetime.now(UTC)
    assert _verify(url, now=now + timedelta(seconds=25))
    assert "expired" in _refusal(url, now=now + timedelta(seconds=31)).message
    assert "not valid yet" in _refusal(url, now=now - timedelta(minutes=6)).message


def test_tampered_parameter_breaks_the_signature() -> None:
    url = _signed()
    refused = _refusal(url.replace("sample-rate=16000", "sample-rate=8000"))
    assert refused.status == 403
    assert "signature does not match" in refused.message


def test_url_signed_for_another_host_is_refused() -> None:
    assert _refusal(_signed(), host="127.0.0.1:9999").status == 403


def test_unknown_key_and_wrong_region_are_refused() -> None:
    other = LocalCredentials("someone-else", SECRET, REGION)
    assert "does not know" in _refusal(_signed(), credentials=other).message
    assert "scope" in _refusal(_signed(region="eu-west-1")).message


def test_wrong_secret_is_a_bad_signature() -> None:
    wrong = LocalCredentials(KEY, "not-the-secret", REGION)
    assert "signature" in _refusal(_signed(), credentials=wrong).message


def test_missing_and_malformed_parameters_are_bad_requests() -> None:
    url = _signed()
    parts = urlsplit(url)
    pairs = [p for p in parts.query.split("&") if not p.startswith("sample-rate=")]
    refused = _refusal(f"{ENDPOINT}{PATH}?{'&'.join(pairs)}")
    assert (refused.status, refused.code) == (400, "BadRequestException")
    assert "sample-rate" in refused.message
    assert _refusal(f"{ENDPOINT}{PATH}").status == 400
    assert "twice" in _refusal(url + "&language-code=en-US").message
    bad_date = url.replace("X-Amz-Date=", "X-Amz-Date=x")
    assert "malformed" in _refusal(bad_date).message


def test_signature_covers_every_parameter_even_unusual_values() -> None:
    # A language code with characters that need encoding still verifies.
    url = _signed(language="en-US")
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    query["language-code"] = "en-US"
    rebuilt = f"{ENDPOINT}{PATH}?{urlencode(query, safe='%')}"
    assert _verify(rebuilt).language_code == "en-US"


@settings(max_examples=40, deadline=None)
@given(
    language=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=16
    ),
    rate=st.integers(min_value=8000, max_value=48000),
    expires=st.integers(min_value=10, max_value=MAX_EXPIRES_SECONDS),
    port=st.integers(min_value=1, max_value=65535),
)
def test_every_signed_url_verifies(language: str, rate: int, expires: int, port: int) -> None:
    """botocore's signer and our verifier agree on the canonical request, whatever it holds."""
    url = _signed(
        language=language, rate=rate, expires_in=expires, endpoint=f"ws://127.0.0.1:{port}"
    )
    stream = _verify(url)
    assert (stream.language_code, stream.sample_rate) == (language, rate)
