"""WAV input for the recognizer: each problem gets its own message."""

from __future__ import annotations

import struct

import pytest

from polycast_kit.transcribe.festival import tone, wav_bytes
from polycast_kit.transcribe.wav import WavError, parse_wav

PCM = tone(0.5)


def test_sixteen_khz_mono_is_read_whole() -> None:
    audio = parse_wav(wav_bytes(PCM))
    assert audio.pcm == PCM
    assert audio.seconds == pytest.approx(0.5)
    assert not audio.truncated


def test_chunks_before_data_are_skipped() -> None:
    data = wav_bytes(PCM)
    listed = data[:36] + b"LIST" + struct.pack("<I", 3) + b"abc\x00" + data[36:]
    assert parse_wav(listed).pcm == PCM


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (wav_bytes(PCM, sample_rate=8000), "8000 Hz"),
        (wav_bytes(PCM + PCM, channels=2), "2 channels"),
        (b"ID3\x03" + bytes(100), "not a WAV"),
        (wav_bytes(PCM)[:30], "truncated inside its format chunk"),
        (wav_bytes(PCM)[:36], "no audio data"),
        (wav_bytes(PCM)[:12], "no format chunk"),
    ],
    ids=["8khz", "stereo", "mp3", "cut-in-fmt", "cut-before-data", "header-only"],
)
def test_unusable_files_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(WavError, match=reason):
        parse_wav(data, "talk.wav")


def test_eight_bit_is_refused() -> None:
    data = bytearray(wav_bytes(PCM))
    struct.pack_into("<H", data, 34, 8)
    with pytest.raises(WavError, match="16-bit"):
        parse_wav(bytes(data))


def test_truncated_data_yields_what_is_there() -> None:
    cut = wav_bytes(PCM)[: 44 + 1001]
    audio = parse_wav(cut)
    assert audio.truncated
    assert audio.pcm == PCM[:1000]  # whole samples only
