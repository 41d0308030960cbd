"""Presigned Amazon Transcribe streaming WebSocket URLs (SigV4 query-string signing).

The speaker handler signs with its own role's credentials, so the browser (or
``polycast speak``) holds none: the URL carries a signature valid for one stream
and at most five minutes (Transcribe's ceiling for ``X-Amz-Expires``). Partial-
results stabilization is always on: live captions need items marked ``Stable``.

``endpoint`` replaces the AWS host for the local runtime, which serves the same
protocol (``ws://127.0.0.1:PORT/stream-transcription-websocket``) and checks the
signature with the same algorithm; see docs/speech-recognition.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest

SERVICE = "transcribe"
PATH = "/stream-transcription-websocket"
MAX_EXPIRES_SECONDS = 300  # Transcribe refuses a longer X-Amz-Expires
MEDIA_ENCODINGS: tuple[str, ...] = ("pcm", "ogg-opus", "flac")
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
STABILITY_LEVELS: tuple[str, ...] = ("low", "medium", "high")


class TranscribeUrlError(ValueError):
    """A request the signer will not sign (the caller answers it as bad input)."""


@dataclass(frozen=True)
class PresignedUrl:
    url: str
    expires_in: int


def aws_endpoint(region: str) -> str:
    """Transcribe streaming's WebSocket endpoint in ``region``."""
    return f"wss://transcribestreaming.{region}.amazonaws.com:8443"


def stream_params(
    language_code: str,
    sample_rate: int,
    *,
    media_encoding: str = "pcm",
    stability: str = "high",
) -> dict[str, str]:
    """The query parameters of one stream (Transcribe's own names)."""
    if not language_code or len(language_code) > 16:
        raise TranscribeUrlError("languageCode must be a code such as en-US")
    if media_encoding not in MEDIA_ENCODINGS:
        raise TranscribeUrlError(f"mediaEncoding must be one of {', '.join(MEDIA_ENCODINGS)}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise TranscribeUrlError(
            f"sampleRate must be {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz, got {sample_rate}"
        )
    if stability not in STABILITY_LEVELS:
        raise TranscribeUrlError(f"stability must be one of {', '.join(STABILITY_LEVELS)}")
    return {
        "language-code": language_code,
        "media-encoding": media_encoding,
        "sample-rate": str(sample_rate),
        "enable-partial-results-stabilization": "true",
        "partial-results-stability": stability,
    }


def presign(
    credentials: Any,
    region: str,
    language_code: str,
    sample_rate: int,
    *,
    expires_in: int = MAX_EXPIRES_SECONDS,
    endpoint: str | None = None,
    media_encoding: str = "pcm",
    stability: str = "high",
) -> PresignedUrl:
    """A ``wss://`` (or, for a ``ws://`` endpoint, ``ws://``) URL for one stream.

    ``credentials`` are botocore credentials (``session.get_credentials()``; frozen
    or refreshable); a session token becomes ``X-Amz-Security-Token``.
    """
    if credentials is None:
        raise TranscribeUrlError("no AWS credentials to sign the Transcribe URL with")
    if not 1 <= expires_in <= MAX_EXPIRES_SECONDS:
        raise TranscribeUrlError(f"expiresIn must be 1–{MAX_EXPIRES_SECONDS} seconds")
    base = urlsplit(endpoint or aws_endpoint(region))
    if base.scheme not in ("ws", "wss") or not base.netloc:
        raise TranscribeUrlError(f"endpoint must be a ws:// or wss:// URL, got {endpoint!r}")
    # SigV4 signs the host (with its port) and the path; the scheme only decides
    # which default port botocore leaves out, so sign the matching http(s) URL.
    http_scheme = "https" if base.scheme == "wss" else "http"
    request = AWSRequest(
        method="GET",
        url=urlunsplit((http_scheme, base.netloc, PATH, "", "")),
        params=stream_params(
            language_code, sample_rate, media_encoding=media_encoding, stability=stability
        ),
    )
    frozen = (
        credentials.get_frozen_credentials()
        if hasattr(credentials, "get_frozen_credentials")
        else credentials
    )
    SigV4QueryAuth(frozen, SERVICE, region, expires=expires_in).add_auth(request)
    signed = urlsplit(str(request.url))
    url = urlunsplit((base.scheme, signed.netloc, signed.path, signed.query, ""))
    return PresignedUrl(url=url, expires_in=expires_in)
