"""Read a WAV file as the recognizer wants it (16 kHz, mono, 16-bit PCM), or say why not.

A hand-rolled RIFF reader rather than :mod:`wave`, so every problem gets its own
clear message, and a recording cut off mid-data (a recorder that crashed, a
streaming WAV whose header was never finished) still yields the audio that is there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 16000
CONVERT_HINT = "convert it with: sox IN.wav -r 16000 -c 1 -b 16 OUT.wav"


class WavError(ValueError):
    """A file the recognizer cannot take, with the reason and what to do."""


@dataclass(frozen=True)
class PcmAudio:
    pcm: bytes
    sample_rate: int
    truncated: bool  # the data chunk claimed more bytes than the file holds

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * self.sample_rate)


def parse_wav(data: bytes, name: str = "the file") -> PcmAudio:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{name} is not a WAV file (no RIFF/WAVE header)")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise WavError(f"{name} is truncated inside its format chunk")
            encoding, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            fmt = (encoding, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError(f"{name} has audio data before its format chunk")
            encoding, channels, rate, bits = fmt
            if encoding not in (1, 0xFFFE) or bits != 16:
                raise WavError(
                    f"{name} is not 16-bit PCM (format {encoding}, {bits} bits); " + CONVERT_HINT
                )
            if channels != 1:
                raise WavError(
                    f"{name} has {channels} channels; the recognizer takes mono: " + CONVERT_HINT
                )
            if rate != SAMPLE_RATE:
                raise WavError(
                    f"{name} is sampled at {rate} Hz; the recognizer takes "
                    f"{SAMPLE_RATE} Hz: " + CONVERT_HINT
                )
            available = len(data) - body
            pcm = data[body : body + min(size, available)]
            pcm = pcm[: len(pcm) - len(pcm) % 2]
            return PcmAudio(pcm=pcm, sample_rate=rate, truncated=size > available)
        offset = body + size + (size % 2)
    if fmt is None:
        raise WavError(f"{name} is truncated: no format chunk")
    raise WavError(f"{name} is truncated: no audio data chunk")


def read_wav(path: Path) -> PcmAudio:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WavError(f"cannot read {path}: {error.strerror}") from None
    return parse_wav(data, path.name)
