"""The deployed translator's requests carry the session's settings (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from polycast.adapters.aws.translate import AmazonTranslator, import_glossary
from polycast.domain.glossary import parse_glossary
from polycast.domain.translation_settings import TranslationSettings

GLOSSARY = parse_glossary("en,es,fr\nGolden Gate Labs,Golden Gate Labs,Golden Gate Labs\n")


@pytest.fixture
def stubbed() -> Iterator[tuple[AmazonTranslator, Stubber, object]]:
    client = boto3.client(
        "translate", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield AmazonTranslator(client), stubber, client
        stubber.assert_no_pending_responses()


def _answer(text: str) -> dict[str, str]:
    return {"TranslatedText": text, "SourceLanguageCode": "en", "TargetLanguageCode": "es"}


def test_formality_profanity_and_terminology_reach_translate_text(stubbed) -> None:  # type: ignore[no-untyped-def]
    translator, stubber, _ = stubbed
    settings = TranslationSettings(
        glossary=GLOSSARY,
        terminology="polycast-golden-eagle-427",
        formality="formal",
        profanity=True,
    )
    stubber.add_response(
        "translate_text",
        _answer("¿Está seguro?"),
        {
            "Text": "Are you sure?",
            "SourceLanguageCode": "en",
            "TargetLanguageCode": "es",
            "TerminologyNames": ["polycast-golden-eagle-427"],
            "Settings": {"Formality": "FORMAL", "Profanity": "MASK"},
        },
    )
    assert translator.translate("Are you sure?", source="en", target="es", settings=settings)
    # German: formality applies, the glossary has no German column.
    stubber.add_response(
        "translate_text",
        _answer("Sind Sie sicher?"),
        {
            "Text": "Are you sure?",
            "SourceLanguageCode": "en",
            "TargetLanguageCode": "de",
            "Settings": {"Formality": "FORMAL", "Profanity": "MASK"},
        },
    )
    translator.translate("Are you sure?", source="en", target="de", settings=settings)
    # Catalan: Translate has no formality for it; only the mask is asked for.
    stubber.add_response(
        "translate_text",
        _answer("N'estàs segur?"),
        {
            "Text": "Are you sure?",
            "SourceLanguageCode": "en",
            "TargetLanguageCode": "ca",
            "Settings": {"Profanity": "MASK"},
        },
    )
    translator.translate("Are you sure?", source="en", target="ca", settings=settings)


def test_no_settings_is_the_plain_request(stubbed) -> None:  # type: ignore[no-untyped-def]
    translator, stubber, _ = stubbed
    stubber.add_response(
        "translate_text",
        _answer("Hola"),
        {"Text": "Hello", "SourceLanguageCode": "en", "TargetLanguageCode": "es"},
    )
    assert translator.translate("Hello", source="en", target="es") == "Hola"


def test_import_glossary_overwrites_the_sessions_terminology(stubbed) -> None:  # type: ignore[no-untyped-def]
    _, stubber, client = stubbed
    stubber.add_response(
        "import_terminology",
        {},
        {
            "Name": "polycast-golden-eagle-427",
            "MergeStrategy": "OVERWRITE",
            "Description": "polycast session glossary",
            "TerminologyData": {
                "File": GLOSSARY.to_csv().encode("utf-8"),
                "Format": "CSV",
                "Directionality": "UNI",
            },
        },
    )
    import_glossary(client, "polycast-golden-eagle-427", GLOSSARY)  # type: ignore[arg-type]
