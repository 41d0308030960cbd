"""The local Transcribe-streaming endpoint, for real: Festival speaks, pocketsphinx listens.

A standalone aiohttp app on 127.0.0.1:0 serves ``transcribe_route`` with the real
recognizer; the Python client streams Festival speech to it over a URL presigned by
the runtime's signer. These need the Debian ``festival`` + ``festvox-kallpc16k``
packages and the ``pocketsphinx`` wheel (``make setup``): without them they fail
and say so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets

from polycast.domain.delivery import DeliveryMeter, pcm_slice
from polycast.domain.utterances import split_sentences, words_from_result
from polycast.schemas import validate
from polycast_kit.transcribe import eventstream
from polycast_kit.transcribe.client import (
    StreamOutcome,
    TranscribeError,
    TranscribeRefused,
    stream_pcm,
)
from polycast_kit.transcribe.festival import SpokenTalk, noise, silence, speak
from polycast_kit.transcribe.recognizer import RecognizerUnavailable
from polycast_kit.transcribe.scoring import word_error_rate
from polycast_kit.transcribe.server import RecognizerServer

SCRIPT = (
    "Good morning everyone and welcome to the conference.",
    "Today we will talk about the weather in the mountains.",
    "The rain will stop in the afternoon and the sun will come out.",
    "Thank you very much for listening to this short talk.",
)
GAINS_DB = (0.0, 0.0, 7.0, -5.0)  # the third sentence louder, the fourth softer
MAX_WER = 0.20  # measured 0.07 (3 of 41 words) on this voice and script
MAX_CPU_RTF = 0.8  # measured 0.21 (decoding CPU ÷ audio duration)
RATE_TOLERANCE = 0.25
TIME_TOLERANCE_MS = 250


@pytest.fixture(scope="module")
def talk() -> SpokenTalk:
    return speak(SCRIPT, gains_db=GAINS_DB)


@pytest.fixture(scope="module")
def server() -> Iterator[RecognizerServer]:
    with RecognizerServer() as running:
        yield running


@pytest.fixture(scope="module")
def outcome(server: RecognizerServer, talk: SpokenTalk) -> StreamOutcome:
    server.finished.clear()
    return asyncio.run(stream_pcm(server.url(), talk.pcm, fast=True))


def _sentences(outcome: StreamOutcome) -> list[Any]:
    return [s for final in outcome.finals for s in split_sentences(words_from_result(final))]


def test_recognized_text_is_close_to_the_script(
    server: RecognizerServer, talk: SpokenTalk, outcome: StreamOutcome
) -> None:
    wer = word_error_rate(talk.script, outcome.text())
    recognizer = server.finished[0]
    cpu_rtf = recognizer.cpu_seconds / recognizer.audio_seconds
    wall_rtf = recognizer.decode_seconds / recognizer.audio_seconds
    print(f"WER {wer:.3f}; real-time factor {cpu_rtf:.2f} CPU, {wall_rtf:.2f} wall")
    assert wer < MAX_WER, outcome.text()
    assert recognizer.audio_seconds == pytest.approx(talk.seconds)
    assert cpu_rtf < MAX_CPU_RTF


def test_every_event_matches_transcribes_schema(outcome: StreamOutcome) -> None:
    validate("transcribe/TranscriptEvent", {"Transcript": {"Results": outcome.results}})
    for final in outcome.finals:
        transcript = final["Alternatives"][0]["Transcript"]
        assert transcript[0].isupper()
        assert transcript.endswith(".")


def test_partials_come_before_their_final_and_stable_words_hold(outcome: StreamOutcome) -> None:
    seen_final: set[str] = set()
    stable_by_result: dict[str, list[str]] = {}
    for result in outcome.results:
        rid = result["ResultId"]
        assert rid not in seen_final, "a partial after its final"
        if not result["IsPartial"]:
            seen_final.add(rid)
            continue
        items = result["Alternatives"][0]["Items"]
        stable = [i["Content"] for i in items if i["Stable"]]
        flags = [i["Stable"] for i in items]
        assert flags == sorted(flags, reverse=True), "stable words form a prefix"
        before = stable_by_result.get(rid, [])
        assert stable[: len(before)] == before, "a stable word changed"
        stable_by_result[rid] = stable
    assert len(seen_final) == len(SCRIPT)
    assert len(outcome.partials) >= 2 * len(SCRIPT)
    assert any(stable_by_result.values()), "no word was ever marked stable"


def test_sentences_split_where_the_speaker_paused(talk: SpokenTalk, outcome: StreamOutcome) -> None:
    sentences = _sentences(outcome)
    assert len(sentences) == len(talk.sentences)
    for got, truth in zip(sentences, talk.sentences, strict=True):
        assert abs(got.start_ms - truth.start_ms) <= TIME_TOLERANCE_MS
        assert abs(got.end_ms - truth.end_ms) <= TIME_TOLERANCE_MS
        assert word_error_rate(truth.text, got.text) < 0.4


def test_rate_and_volume_are_measured_from_the_audio(
    talk: SpokenTalk, outcome: StreamOutcome
) -> None:
    measured, truth = DeliveryMeter(), DeliveryMeter()
    for got, spoken in zip(_sentences(outcome), talk.sentences, strict=True):
        assert got.rate_wpm is not None
        error = abs(got.rate_wpm - spoken.wpm) / spoken.wpm
        print(f"{spoken.text[:30]:<30} rate {got.rate_wpm} vs {spoken.wpm:.0f} wpm")
        assert error <= RATE_TOLERANCE
        heard = measured.measure(pcm_slice(talk.pcm, got.start_ms, got.end_ms), got.rate_wpm)
        real = truth.measure(pcm_slice(talk.pcm, spoken.start_ms, spoken.end_ms), round(spoken.wpm))
        assert heard.volume_level == real.volume_level
        expected = {7.0: ("loud", "x-loud"), -5.0: ("soft", "x-soft")}.get(spoken.gain_db)
        if expected:
            assert heard.volume_level in expected


def test_real_time_streaming_still_works(server: RecognizerServer, talk: SpokenTalk) -> None:
    first = talk.sentences[0]
    pcm = pcm_slice(talk.pcm, 0, first.end_ms + 600)
    result = asyncio.run(stream_pcm(server.url(), pcm, fast=False))
    assert result.seconds >= (first.end_ms + 600) / 1000 - 0.05
    assert word_error_rate(first.text, result.text()) < 0.3


def test_silence_gives_an_empty_result(server: RecognizerServer) -> None:
    result = asyncio.run(stream_pcm(server.url(), silence(3), fast=True))
    assert result.results == []


def test_noise_ends_cleanly_with_at_most_a_little_text(server: RecognizerServer) -> None:
    result = asyncio.run(stream_pcm(server.url(), noise(3), fast=True))
    validate("transcribe/TranscriptEvent", {"Transcript": {"Results": result.results}})
    assert len(result.text().split()) <= 6
    # Every result that showed partials ends in a final (possibly empty).
    partial_ids = {r["ResultId"] for r in result.partials}
    assert partial_ids <= {r["ResultId"] for r in result.finals}


def test_unsupported_sample_rate_gets_a_bad_request(server: RecognizerServer) -> None:
    with pytest.raises(TranscribeError) as caught:
        asyncio.run(stream_pcm(server.url(sample_rate=8000), silence(1), fast=True))
    assert caught.value.code == "BadRequestException"
    assert "sample-rate 8000" in caught.value.message


def test_unsupported_language_gets_a_bad_request(server: RecognizerServer) -> None:
    with pytest.raises(TranscribeError, match="language-code fr-FR"):
        asyncio.run(stream_pcm(server.url(language_code="fr-FR"), silence(1), fast=True))


async def _send_raw(url: str, frame: bytes | str) -> tuple[dict[str, Any], int | None]:
    async with websockets.connect(url) as ws:
        await ws.send(frame)
        reply = await asyncio.wait_for(ws.recv(), timeout=30)
        assert isinstance(reply, bytes)
        decoded = eventstream.decode(reply)
        assert decoded.message_type == "exception"
        body = decoded.json()
        validate("transcribe/exception", body)
        await asyncio.wait_for(ws.wait_closed(), timeout=10)
        return {"type": decoded.exception_type, **body}, ws.close_code


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"RIFF....WAVEfmt raw bytes, not a frame", "not an event-stream frame"),
        (eventstream.audio_event(b"\x00\x00")[:-2] + b"\x00\x00", "not an event-stream frame"),
        ('{"action": "audio"}', "not text"),
        (eventstream.json_event("TranscriptEvent", {}), "expected an AudioEvent"),
        (eventstream.audio_event(bytes(64 * 1024 + 2)), "at most"),
    ],
    ids=["raw-bytes", "bad-crc", "text", "wrong-event", "oversized"],
)
def test_bad_frames_get_an_exception_frame_and_a_close(
    server: RecognizerServer, frame: bytes | str, reason: str
) -> None:
    answer, close_code = asyncio.run(_send_raw(server.url(), frame))
    assert answer["type"] == "BadRequestException"
    assert reason in answer["Message"]
    assert close_code == 1008


def test_tampered_url_is_refused_at_the_upgrade(server: RecognizerServer) -> None:
    url = server.url().replace("language-code=en-US", "language-code=en-GB")
    with pytest.raises(TranscribeRefused) as caught:
        asyncio.run(stream_pcm(url, silence(1), fast=True))
    assert (caught.value.status, caught.value.code) == (403, "AccessDeniedException")
    assert "signature" in caught.value.reason


def test_expired_url_is_refused_with_the_reason() -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    with (
        RecognizerServer(clock=lambda: later) as future,
        pytest.raises(TranscribeRefused) as caught,
    ):
        asyncio.run(stream_pcm(future.url(expires_in=300), silence(1), fast=True))
    assert caught.value.status == 403
    assert "expired" in caught.value.reason
    validate(
        "transcribe/refusal",
        json.loads(json.dumps({"code": caught.value.code, "message": caught.value.reason})),
    )


def test_a_silent_client_times_out_with_a_reason() -> None:
    async def wait_for_answer(url: str) -> dict[str, Any]:
        async with websockets.connect(url) as ws:
            reply = await asyncio.wait_for(ws.recv(), timeout=30)
            assert isinstance(reply, bytes)
            frame = eventstream.decode(reply)
            return {"type": frame.exception_type, **frame.json()}

    with RecognizerServer(idle_timeout=0.5) as impatient:
        answer = asyncio.run(wait_for_answer(impatient.url()))
    assert answer["type"] == "BadRequestException"
    assert "no new audio" in answer["Message"]


class _BrokenRecognizer:
    """A recognizer that fails mid-stream, like a decoder error would."""

    cpu_seconds = 0.0
    decode_seconds = 0.0
    audio_seconds = 0.0

    def feed(self, pcm: bytes) -> list[dict[str, Any]]:
        raise RuntimeError("decoder exploded")

    def finish(self) -> list[dict[str, Any]]:
        return []


def _unavailable(stream: object) -> Any:
    raise RecognizerUnavailable("pocketsphinx is not installed: pip install -e '.[local]'")


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda stream: _BrokenRecognizer(), "the recognizer failed"),
        (_unavailable, "pocketsphinx is not installed"),
    ],
    ids=["fails-mid-stream", "not-installed"],
)
def test_recognizer_failures_reach_the_client_without_internals(factory: Any, message: str) -> None:
    with (
        RecognizerServer(recognizer_factory=factory) as failing,
        pytest.raises(TranscribeError) as caught,
    ):
        asyncio.run(stream_pcm(failing.url(), silence(1), fast=True))
    assert caught.value.code == "InternalFailureException"
    assert message in caught.value.message
    assert "exploded" not in caught.value.message


def _first_stable_partial(outcome: StreamOutcome) -> int:
    """How many partials came before the first one with a stable word."""
    for index, result in enumerate(outcome.partials):
        if any(item["Stable"] for item in result["Alternatives"][0]["Items"]):
            return index
    return len(outcome.partials)


def test_lower_stability_marks_words_stable_sooner(
    server: RecognizerServer, talk: SpokenTalk
) -> None:
    pcm = pcm_slice(talk.pcm, 0, talk.sentences[1].end_ms + 600)
    low, high = (
        asyncio.run(stream_pcm(server.url(stability=level), pcm, fast=True))
        for level in ("low", "high")
    )
    assert _first_stable_partial(low) < _first_stable_partial(high)
    assert low.text() == high.text()  # stability changes the partials, never the finals
