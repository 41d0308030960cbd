"""Translate's and Polly's ClientErrors mapped to the domain through one reading."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from polycast.adapters.aws.polly import polly_error
from polycast.adapters.aws.translate import translate_error
from polycast.errors import PolycastError, Throttled, TranscriptTooLong, TransientError

Mapper = Callable[[ClientError], PolycastError]


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        "Call",
    )


@pytest.mark.parametrize(
    ("mapper", "transient"),
    [
        (translate_error, "InternalServerException"),
        (polly_error, "ServiceFailureException"),
    ],
)
def test_throttling_and_server_failures_are_worth_a_retry(mapper: Mapper, transient: str) -> None:
    assert type(mapper(client_error("ThrottlingException", 400))) is Throttled
    assert type(mapper(client_error("", 429))) is Throttled
    assert type(mapper(client_error(transient, 400))) is TransientError
    assert type(mapper(client_error("", 503))) is TransientError
    final = mapper(client_error("AccessDeniedException", 400))
    assert not isinstance(final, TransientError)


def test_each_service_keeps_its_own_refusals() -> None:
    assert type(translate_error(client_error("TextSizeLimitExceededException", 400))) is (
        TranscriptTooLong
    )
    assert translate_error(client_error("UnsupportedLanguagePairException", 400)).code == (
        "UNSUPPORTED_LANGUAGE_PAIR"
    )
    assert polly_error(client_error("InvalidSsmlException", 400)).code == "INVALID_SSML"
    assert polly_error(client_error("TextLengthExceededException", 400)).code == "TEXT_TOO_LONG"
    assert polly_error(client_error("Mystery", 400)).code == "SYNTHESIS_FAILED"
    assert translate_error(client_error("Mystery", 400)).code == "TRANSLATION_FAILED"
