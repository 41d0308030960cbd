"""Translator on Amazon Translate (TranslateText).

TranslateText takes at most 10,000 UTF-8 bytes: longer text is translated in runs
of whole sentences within the limit and joined; one sentence over the limit on
its own is :class:`TranscriptTooLong` (it cannot be split without changing it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from polycast.domain.text_split import TRANSLATE_MAX_BYTES, SentenceTooLong, split_text
from polycast.errors import PolycastError, Throttled, TranscriptTooLong, TransientError

if TYPE_CHECKING:
    from mypy_boto3_translate import TranslateClient

_THROTTLING = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
_TRANSIENT = frozenset({"InternalServerException", "ServiceUnavailableException"})


def translate_error(exc: ClientError) -> PolycastError:
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _THROTTLING or status == 429:
        return Throttled(f"Translate: {code or status}")
    if code in _TRANSIENT or status >= 500:
        return TransientError(f"Translate: {code or status}")
    if code == "TextSizeLimitExceededException":
        return TranscriptTooLong("text exceeds Translate's 10,000-byte limit")
    if code == "UnsupportedLanguagePairException":
        return PolycastError(
            "Translate does not support this pair", code="UNSUPPORTED_LANGUAGE_PAIR"
        )
    return PolycastError(f"Translate: {code or status}", code="TRANSLATION_FAILED")


class AmazonTranslator:
    def __init__(self, client: TranslateClient) -> None:
        self._client = client

    def translate(self, text: str, *, source: str, target: str) -> str:
        try:
            pieces = split_text(text, TRANSLATE_MAX_BYTES, in_bytes=True)
        except SentenceTooLong as exc:
            raise TranscriptTooLong(f"Translate: {exc}") from exc
        return " ".join(self._translate(piece, source, target) for piece in pieces)

    def _translate(self, text: str, source: str, target: str) -> str:
        try:
            out = self._client.translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target
            )
        except ClientError as exc:
            raise translate_error(exc) from exc
        except BotoCoreError as exc:  # timeouts, connection resets
            raise TransientError(f"Translate: {type(exc).__name__}") from exc
        return out["TranslatedText"]
