"""MP3 in and out: encode PCM with lameenc, and read a stream's duration from its frames.

The reader walks the frame headers (no decoder needed), so tests anywhere can
check "this is MP3 and lasts about that long" — and moto's 8 NUL bytes fail it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BITRATE_KBPS = 32

# Bitrates in kbps by (MPEG-1?, layer) and the 4-bit index (0 = free format, 15 = bad).
_BITRATES: dict[tuple[bool, int], tuple[int, ...]] = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by the 2-bit version field: 0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1.
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


@dataclass(frozen=True)
class Mp3Info:
    duration_seconds: float
    frames: int
    sample_rate: int
    channels: int
    bitrate_kbps: float


@dataclass(frozen=True)
class _Frame:
    length: int
    samples: int
    sample_rate: int
    channels: int
    bitrate_kbps: int
    side_info: int


def _frame_at(data: bytes, pos: int) -> _Frame | None:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index]
    sample_rate = _SAMPLE_RATES[version][rate_index]
    channels = 1 if b3 >> 6 == 3 else 2
    if layer == 1:
        samples = 384
        length = (12 * bitrate * 1000 // sample_rate + padding) * 4
    else:
        samples = 1152 if (layer == 2 or mpeg1) else 576
        length = (samples // 8) * bitrate * 1000 // sample_rate + padding
    side_info = (32 if channels == 2 else 17) if mpeg1 else (17 if channels == 2 else 9)
    return _Frame(length, samples, sample_rate, channels, bitrate, side_info)


def _skip_id3v2(data: bytes) -> int:
    if len(data) < 10 or data[:3] != b"ID3":
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def mp3_info(data: bytes) -> Mp3Info:
    """Frame-by-frame facts about an MP3 stream; ValueError if it is not one.

    Strict on purpose: frames must follow each other from the start (after an
    optional ID3v2 tag) to the end (before an optional ID3v1 tag). A Xing/Info
    header frame carries no audio and is not counted.
    """
    pos = _skip_id3v2(data)
    end = len(data) - 128 if len(data) >= 128 and data[-128:-125] == b"TAG" else len(data)
    frames = samples = 0
    bits = 0
    first: _Frame | None = None
    while pos < end:
        frame = _frame_at(data, pos)
        if frame is None or pos + frame.length > end:
            raise ValueError(f"not an MP3 stream: no valid frame at byte {pos} of {len(data)}")
        header_tag = data[pos + 4 + frame.side_info : pos + 8 + frame.side_info]
        if not (frames == 0 and first is None and header_tag in (b"Xing", b"Info")):
            frames += 1
            samples += frame.samples
            bits += frame.length * 8
        first = first or frame
        pos += frame.length
    if first is None or frames == 0:
        raise ValueError("not an MP3 stream: no audio frames")
    duration = samples / first.sample_rate
    return Mp3Info(duration, frames, first.sample_rate, first.channels, bits / duration / 1000)


def mp3_duration_seconds(data: bytes) -> float:
    """Playing time of an MP3 stream, from its frame headers."""
    return mp3_info(data).duration_seconds


def encode_mp3(
    pcm: bytes,
    *,
    sample_rate: int,
    channels: int = 1,
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS,
) -> bytes:
    """16-bit little-endian PCM → constant-bitrate MP3 (lameenc; no system library)."""
    import lameenc  # the `local` extra; Lambda uses Polly and never imports this

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(7)  # 2 is best, 7 fast: no audible difference for speech at 32 kbps
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())
