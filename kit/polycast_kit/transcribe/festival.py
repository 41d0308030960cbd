"""Test speech with known truth: Festival speaks each sentence, we join them with pauses.

Festival (``text2wave``, Debian ``festival`` + ``festvox-kallpc16k``) is a voice
pocketsphinx recognizes well. Each sentence is synthesized on its own at 16 kHz,
trimmed of its silent edges, scaled by a chosen gain and joined with silence, so
the talk's truth is exact: where each sentence starts and ends, its words per
minute (words ÷ voiced duration) and its loudness relative to the others.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from polycast_kit.transcribe.wav import parse_wav

SAMPLE_RATE = 16000
EDGE_THRESHOLD = 300  # |sample| above this counts as voiced when trimming edges
TEXT2WAVE_TIMEOUT_SECONDS = 60


class FestivalUnavailable(RuntimeError):
    """text2wave is missing or failed; the message says how to install it."""


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    start_ms: int
    end_ms: int
    gain_db: float

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def wpm(self) -> float:
        return self.words * 60_000 / (self.end_ms - self.start_ms)


@dataclass(frozen=True)
class SpokenTalk:
    pcm: bytes
    sentences: tuple[SpokenSentence, ...]

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * SAMPLE_RATE)

    @property
    def script(self) -> str:
        return " ".join(s.text for s in self.sentences)


def text2wave(text: str) -> bytes:
    """16 kHz mono PCM of ``text`` spoken by Festival's default voice."""
    binary = shutil.which("text2wave")
    if binary is None:
        raise FestivalUnavailable(
            "text2wave not found: install the Debian packages festival and festvox-kallpc16k "
            "(make engines)"
        )
    with tempfile.TemporaryDirectory(prefix="polycast-festival-") as tmp:
        source, target = Path(tmp) / "text.txt", Path(tmp) / "speech.wav"
        source.write_text(text + "\n", encoding="utf-8")
        done = subprocess.run(  # noqa: S603 - fixed binary, arguments are our own paths
            [binary, "-F", str(SAMPLE_RATE), "-o", str(target), str(source)],
            capture_output=True,
            timeout=TEXT2WAVE_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0 or not target.is_file():
            raise FestivalUnavailable(
                f"text2wave failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
            )
        return parse_wav(target.read_bytes(), "text2wave output").pcm


def _samples(pcm: bytes) -> array[int]:
    samples = array("h")
    samples.frombytes(pcm)
    return samples


def trim(pcm: bytes, threshold: int = EDGE_THRESHOLD) -> bytes:
    samples = _samples(pcm)
    voiced = [i for i, s in enumerate(samples) if abs(s) > threshold]
    if not voiced:
        return b""
    return samples[voiced[0] : voiced[-1] + 1].tobytes()


def scale(pcm: bytes, gain_db: float) -> bytes:
    factor = 10 ** (gain_db / 20)
    samples = _samples(pcm)
    return array("h", (max(-32768, min(32767, round(s * factor))) for s in samples)).tobytes()


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * SAMPLE_RATE))


def speak(
    sentences: Sequence[str],
    *,
    gap_seconds: float = 0.9,
    gains_db: Sequence[float] | None = None,
    lead_seconds: float = 0.3,
) -> SpokenTalk:
    """The sentences spoken one after another with ``gap_seconds`` of silence between."""
    gains = list(gains_db) if gains_db is not None else [0.0] * len(sentences)
    pieces: list[bytes] = [silence(lead_seconds)]
    offset = len(pieces[0])
    spoken: list[SpokenSentence] = []
    for text, gain in zip(sentences, gains, strict=True):
        voiced = scale(trim(text2wave(text)), gain)
        start_ms = offset * 1000 // (2 * SAMPLE_RATE)
        offset += len(voiced)
        end_ms = offset * 1000 // (2 * SAMPLE_RATE)
        spoken.append(SpokenSentence(text, start_ms, end_ms, gain))
        gap = silence(gap_seconds)
        pieces += [voiced, gap]
        offset += len(gap)
    return SpokenTalk(b"".join(pieces), tuple(spoken))


def noise(seconds: float, amplitude: int = 6000, seed: int = 7) -> bytes:
    """White noise (a deterministic generator, so tests repeat)."""
    state = seed
    samples = array("h")
    for _ in range(round(seconds * SAMPLE_RATE)):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        samples.append(round((state / 0x7FFFFFFF * 2 - 1) * amplitude))
    return samples.tobytes()


def tone(seconds: float, hertz: float = 440.0, amplitude: int = 8000) -> bytes:
    return array(
        "h",
        (
            round(amplitude * math.sin(2 * math.pi * hertz * i / SAMPLE_RATE))
            for i in range(round(seconds * SAMPLE_RATE))
        ),
    ).tobytes()


def wav_bytes(pcm: bytes, *, sample_rate: int = SAMPLE_RATE, channels: int = 1) -> bytes:
    """A canonical 16-bit PCM WAV file around ``pcm``."""
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * channels * 2,
        channels * 2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm
