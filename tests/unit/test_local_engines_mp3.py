"""MP3 frame walking, encoding and WAV parsing, on bytes built in the test."""

from __future__ import annotations

import math
import struct

import pytest

from polycast_kit.engines.espeak import parse_wav
from polycast_kit.engines.mp3 import encode_mp3, mp3_duration_seconds, mp3_info

# MPEG-2 Layer III, 32 kbps, 22.05 kHz, mono: 104-byte frames of 576 samples.
HEADER = bytes([0xFF, 0xF3, 0x40, 0xC0])
FRAME = HEADER + bytes(100)


def test_duration_is_frames_times_samples_over_rate() -> None:
    info = mp3_info(FRAME * 50)
    assert info.frames == 50
    assert info.sample_rate == 22050
    assert info.channels == 1
    assert info.duration_seconds == pytest.approx(50 * 576 / 22050)
    assert info.bitrate_kbps == pytest.approx(32, rel=0.01)


def test_padding_bit_lengthens_the_frame() -> None:
    padded = bytes([0xFF, 0xF3, 0x42, 0xC0]) + bytes(101)
    assert mp3_info(padded + FRAME).frames == 2


def test_id3_tags_are_skipped() -> None:
    id3v2 = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 20]) + bytes(20)
    id3v1 = b"TAG" + bytes(125)
    assert mp3_info(id3v2 + FRAME * 3 + id3v1).frames == 3


def test_xing_info_frame_carries_no_audio() -> None:
    info_frame = HEADER + bytes(9) + b"Info" + bytes(87)
    assert mp3_info(info_frame + FRAME * 4).frames == 4


@pytest.mark.parametrize(
    "data",
    [b"", bytes(8), b"RIFF....WAVEfmt ", FRAME * 2 + b"junk", FRAME[:50], HEADER + bytes(10)],
)
def test_not_mp3_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match="not an MP3"):
        mp3_duration_seconds(data)


def _sine(seconds: float, rate: int = 22050) -> bytes:
    samples = (
        int(8000 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(int(seconds * rate))
    )
    return struct.pack(f"<{int(seconds * rate)}h", *samples)


def test_encoded_audio_lasts_as_long_as_the_pcm() -> None:
    mp3 = encode_mp3(_sine(1.5), sample_rate=22050, bitrate_kbps=32)
    info = mp3_info(mp3)
    assert info.sample_rate == 22050
    assert info.channels == 1
    assert info.duration_seconds == pytest.approx(1.5, abs=0.1)
    assert info.bitrate_kbps == pytest.approx(32, rel=0.05)


def _wav(pcm: bytes, *, rate: int = 22050, placeholder_sizes: bool = False) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    size = 0x7FFFF000 if placeholder_sizes else len(pcm)
    riff = 0x7FFFF024 if placeholder_sizes else 36 + len(pcm)
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", size)
        + pcm
    )


@pytest.mark.parametrize("placeholder_sizes", [False, True])
def test_wav_from_espeak_stdout_parses(placeholder_sizes: bool) -> None:
    pcm = _sine(0.5)
    parsed = parse_wav(_wav(pcm, placeholder_sizes=placeholder_sizes))
    assert parsed.data == pcm
    assert parsed.sample_rate == 22050
    assert parsed.duration_seconds == pytest.approx(0.5)


def test_not_wav_is_rejected() -> None:
    with pytest.raises(ValueError, match="WAV"):
        parse_wav(bytes(8))
