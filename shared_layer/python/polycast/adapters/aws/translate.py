"""Translator on Amazon Translate (TranslateText).

TranslateText takes at most 10,000 UTF-8 bytes: longer text is translated in runs
of whole sentences within the limit and joined; one sentence over the limit on
its own is :class:`TranscriptTooLong` (it cannot be split without changing it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.client_errors import error_code, retryable
from polycast.domain.glossary import Glossary
from polycast.domain.text_split import TRANSLATE_MAX_BYTES, SentenceTooLong, split_text
from polycast.domain.translation_settings import TranslationSettings
from polycast.errors import PolycastError, TranscriptTooLong, TransientError

if TYPE_CHECKING:
    from mypy_boto3_translate import TranslateClient

_TRANSIENT = frozenset({"InternalServerException", "ServiceUnavailableException"})


def translate_error(exc: ClientError) -> PolycastError:
    code, status = error_code(exc)
    if (again := retryable("Translate", code, status, _TRANSIENT)) is not None:
        return again
    if code == "TextSizeLimitExceededException":
        return TranscriptTooLong("text exceeds Translate's 10,000-byte limit")
    if code == "UnsupportedLanguagePairException":
        return PolycastError(
            "Translate does not support this pair", code="UNSUPPORTED_LANGUAGE_PAIR"
        )
    return PolycastError(f"Translate: {code or status}", code="TRANSLATION_FAILED")


def request_options(settings: TranslationSettings | None, target: str) -> dict[str, Any]:
    """TranslateText's ``TerminologyNames`` (one per request) and ``Settings``."""
    if settings is None:
        return {}
    extra: dict[str, Any] = {}
    if settings.terminology and settings.uses_glossary(target):
        extra["TerminologyNames"] = [settings.terminology]
    options: dict[str, str] = {}
    formality = settings.formality_for(target)
    if formality:
        options["Formality"] = formality.upper()
    if settings.profanity:
        options["Profanity"] = "MASK"
    if options:
        extra["Settings"] = options
    return extra


def import_glossary(client: TranslateClient, name: str, glossary: Glossary) -> None:
    """ImportTerminology (OVERWRITE): the session's glossary as a custom terminology.

    Called once per glossary change by whoever attaches it (``polycast session
    create --glossary`` / ``session glossary`` with the organizer's credentials), so
    no function holds ``translate:ImportTerminology``."""
    try:
        client.import_terminology(
            Name=name,
            MergeStrategy="OVERWRITE",
            Description="polycast session glossary",
            TerminologyData={
                "File": glossary.to_csv().encode("utf-8"),
                "Format": "CSV",
                "Directionality": "UNI",
            },
        )
    except ClientError as exc:
        raise translate_error(exc) from exc


class AmazonTranslator:
    def __init__(self, client: TranslateClient) -> None:
        self._client = client

    def translate(
        self,
        text: str,
        *,
        source: str,
        target: str,
        settings: TranslationSettings | None = None,
    ) -> str:
        try:
            pieces = split_text(text, TRANSLATE_MAX_BYTES, in_bytes=True)
        except SentenceTooLong as exc:
            raise TranscriptTooLong(f"Translate: {exc}") from exc
        extra = request_options(settings, target)
        return " ".join(self._translate(piece, source, target, extra) for piece in pieces)

    def _translate(self, text: str, source: str, target: str, extra: dict[str, Any]) -> str:
        try:
            out = self._client.translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target, **extra
            )
        except ClientError as exc:
            raise translate_error(exc) from exc
        except BotoCoreError as exc:  # timeouts, connection resets
            raise TransientError(f"Translate: {type(exc).__name__}") from exc
        return out["TranslatedText"]
