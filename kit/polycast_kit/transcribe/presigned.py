"""Check a presigned Transcribe streaming URL the way the service would (SigV4, expiry).

The local endpoint recomputes the signature with the runtime's own dummy credentials,
so the signer the deployed speaker handler uses
(:mod:`polycast.adapters.aws.transcribe_url`) is exercised, not bypassed. The
canonical request is built here from the SigV4 specification, independently of
botocore's signer: the two meet only in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from polycast.adapters.aws.transcribe_url import MAX_EXPIRES_SECONDS, SERVICE

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CLOCK_SKEW = timedelta(minutes=5)  # AWS accepts a request dated this far ahead
_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_STREAM_PARAMS = ("language-code", "media-encoding", "sample-rate")


class Refusal(Exception):
    """Why a stream was refused: an HTTP status, Transcribe's exception type, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _forbidden(message: str) -> Refusal:
    return Refusal(403, "AccessDeniedException", message)


def _bad_request(message: str) -> Refusal:
    return Refusal(400, "BadRequestException", message)


@dataclass(frozen=True)
class StreamRequest:
    """What a verified URL asks for."""

    language_code: str
    media_encoding: str
    sample_rate: int
    stability: str


@dataclass(frozen=True)
class LocalCredentials:
    access_key: str
    secret_key: str
    region: str


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (day, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def expected_signature(
    pairs: list[tuple[str, str]],
    *,
    path: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    credentials: LocalCredentials,
    amz_date: str,
) -> str:
    """The SigV4 signature of a presigned GET (payload: the hash of an empty body)."""
    query = "&".join(
        sorted(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in pairs if k != "X-Amz-Signature")
    )
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    canonical_request = "\n".join(
        ["GET", path, query, canonical_headers, ";".join(signed_headers), EMPTY_SHA256]
    )
    day = amz_date[:8]
    scope = f"{day}/{credentials.region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _signing_key(credentials.secret_key, day, credentials.region)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    credentials: LocalCredentials,
    now: datetime,
) -> StreamRequest:
    """The stream a URL asks for, or :class:`Refusal` with the reason.

    ``headers`` are the request's headers with lower-case names (at least ``host``).
    Refusals: 400 for missing or malformed parameters, 403 for a credential this
    endpoint does not know, a wrong signature, an expired or not-yet-valid URL.
    Whether the endpoint can serve the stream (rate, encoding, language) is the
    caller's question: a signed but unsupported stream is answered in-band.
    """
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _bad_request("the query string is malformed") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise _bad_request(f"parameter {key} appears twice")
        params[key] = value
    missing = [name for name in (*_AUTH_PARAMS, *_STREAM_PARAMS) if not params.get(name)]
    if missing:
        raise _bad_request(f"missing query parameters: {', '.join(missing)}")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _bad_request(f"X-Amz-Algorithm must be {ALGORITHM}")
    try:
        expires = int(params["X-Amz-Expires"])
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _bad_request("X-Amz-Date or X-Amz-Expires is malformed") from None
    if not 1 <= expires <= MAX_EXPIRES_SECONDS:
        raise _bad_request(f"X-Amz-Expires must be 1–{MAX_EXPIRES_SECONDS} seconds")

    access_key, _, scope = params["X-Amz-Credential"].partition("/")
    if access_key != credentials.access_key:
        raise _forbidden("the URL was signed with credentials this endpoint does not know")
    if scope != f"{params['X-Amz-Date'][:8]}/{credentials.region}/{SERVICE}/aws4_request":
        raise _forbidden(
            f"the credential scope must be <date>/{credentials.region}/{SERVICE}/aws4_request"
        )
    signed_headers = params["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed_headers or signed_headers != sorted(signed_headers):
        raise _forbidden("X-Amz-SignedHeaders must be sorted and include host")
    absent = [name for name in signed_headers if name not in headers]
    if absent:
        raise _forbidden(f"signed headers missing from the request: {', '.join(absent)}")
    expected = expected_signature(
        pairs,
        path=path,
        headers=headers,
        signed_headers=signed_headers,
        credentials=credentials,
        amz_date=params["X-Amz-Date"],
    )
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise _forbidden("the signature does not match (URL altered, or signed for another host)")
    if now < signed_at - CLOCK_SKEW:
        raise _forbidden("the URL is not valid yet (X-Amz-Date is in the future)")
    if now > signed_at + timedelta(seconds=expires):
        raise _forbidden("the URL has expired: ask the speaker handler for a new one")

    try:
        sample_rate = int(params["sample-rate"])
    except ValueError:
        raise _bad_request("sample-rate must be a whole number of hertz") from None
    return StreamRequest(
        language_code=params["language-code"],
        media_encoding=params["media-encoding"],
        sample_rate=sample_rate,
        stability=params.get("partial-results-stability", "high"),
    )
