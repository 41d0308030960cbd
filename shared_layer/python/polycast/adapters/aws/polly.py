"""Synthesizer on Amazon Polly (SynthesizeSpeech, SSML in, MP3 out).

Voices come from :mod:`polycast.domain.voices`. One synthesizer speaks one
engine; degradation under throttling (neural voice, then standard voice, then
text only, docs/emotion-ssml.md) is the orchestrator's, which holds one synthesizer per
engine, paces each with its own rate governor, and records every step in
metrics. Throttling surfaces here as :class:`Throttled`, 5xx and timeouts as
:class:`TransientError`, a request over Polly's size limits as ``TEXT_TOO_LONG``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from polycast.adapters.aws.client_errors import error_code, retryable
from polycast.domain.voices import Voice, polly_voice
from polycast.errors import PolycastError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_polly import PollyClient

_TRANSIENT = frozenset({"ServiceFailureException", "ServiceUnavailableException"})


def polly_error(exc: ClientError) -> PolycastError:
    code, status = error_code(exc)
    if (again := retryable("Polly", code, status, _TRANSIENT)) is not None:
        return again
    if code in ("InvalidSsmlException", "SsmlMarksNotSupportedForTextTypeException"):
        return PolycastError("Polly rejected the SSML", code="INVALID_SSML")
    if code == "TextLengthExceededException":
        return PolycastError("text too long for Polly", code="TEXT_TOO_LONG")
    return PolycastError(f"Polly: {code or status}", code="SYNTHESIS_FAILED")


class PollySynthesizer:
    def __init__(self, client: PollyClient, *, engine: str = "neural") -> None:
        if engine not in ("neural", "standard"):
            raise ValueError(f"Polly engine must be neural or standard, got {engine!r}")
        self._client = client
        self.engine = engine

    def synthesize(self, ssml: str, *, language: str) -> bytes:
        voice = polly_voice(language, self.engine)
        if voice is None:
            raise PolycastError(f"Polly has no voice for {language}", code="NO_VOICE")
        return self._speak(ssml, voice)

    def _speak(self, ssml: str, voice: Voice) -> bytes:
        params: dict[str, str] = {
            "Text": ssml,
            "TextType": "ssml",
            "OutputFormat": "mp3",
            "VoiceId": voice.voice_id,
            "Engine": voice.engine,
        }
        if voice.language_code:
            params["LanguageCode"] = voice.language_code
        try:
            out = self._client.synthesize_speech(**params)  # type: ignore[arg-type]
            return out["AudioStream"].read()
        except ClientError as exc:
            raise polly_error(exc) from exc
        except BotoCoreError as exc:
            raise TransientError(f"Polly: {type(exc).__name__}") from exc
