"""espeak-ng behind the ``Synthesizer`` port: Polly-style SSML in, MP3 out.

One ``espeak-ng`` process per utterance (it starts in a few milliseconds); the
SSML is rewritten for espeak (``espeak_ssml``) and goes in on stdin, so transcript
text never shows up in a process listing. espeak writes 22.05 kHz mono WAV, which
lameenc turns into MP3.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from polycast.errors import PolycastError, TransientError, UnsupportedLanguage
from polycast_kit.engines.espeak_ssml import to_espeak_ssml
from polycast_kit.engines.mp3 import DEFAULT_BITRATE_KBPS, encode_mp3

ESPEAK = "espeak-ng"
DEFAULT_TIMEOUT_SECONDS = 20.0

# ISO 639-1 → espeak-ng voice. espeak-ng 1.51 has no Galician voice. The Portuguese
# voice reads Galician spelling best: it says x as /ʃ/ and handles "é", where the
# Spanish voice reads a lone "é" as the words "e acentuada".
VOICES: Mapping[str, str] = {
    "en": "en-us",
    "es": "es",
    "ca": "ca",
    "gl": "pt",
    "fr": "fr-fr",
    "pt": "pt",
    "it": "it",
    "ro": "ro",
    "de": "de",
    "nl": "nl",
    "eo": "eo",
    "eu": "eu",
    "an": "an",
    "pl": "pl",
    "ru": "ru",
    "uk": "uk",
    "sv": "sv",
    "da": "da",
    "nb": "nb",
    "fi": "fi",
    "cs": "cs",
    "sk": "sk",
    "sl": "sl",
    "bg": "bg",
    "el": "el",
    "tr": "tr",
    "cy": "cy",
    "ga": "ga",
    "is": "is",
    "mt": "mt",
    "mk": "mk",
    "kk": "kk",
    "tt": "tt",
    "hi": "hi",
    "ur": "ur",
}


def voice_for(language: str, voices: Mapping[str, str] = VOICES) -> str | None:
    """The espeak voice for a language code (``es``, ``pt-BR``, ``en_GB``); None if none."""
    code = language.strip().lower().replace("_", "-")
    if code in voices:
        return voices[code]
    return voices.get(code.split("-", 1)[0])


@dataclass(frozen=True)
class Pcm:
    data: bytes
    sample_rate: int
    channels: int

    @property
    def duration_seconds(self) -> float:
        return len(self.data) / (2 * self.channels * self.sample_rate)


def parse_wav(wav: bytes) -> Pcm:
    """16-bit PCM out of a WAV; tolerant of the placeholder sizes ``--stdout`` writes."""
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos, sample_rate, channels, bits = 12, 0, 0, 0
    while pos + 8 <= len(wav):
        chunk, size = wav[pos : pos + 4], struct.unpack_from("<I", wav, pos + 4)[0]
        body = pos + 8
        if chunk == b"fmt ":
            _, channels, sample_rate, _, _, bits = struct.unpack_from("<HHIIHH", wav, body)
        elif chunk == b"data":
            if bits != 16 or not sample_rate:
                raise ValueError(f"unsupported WAV: {bits}-bit, {sample_rate} Hz")
            data = wav[body : body + size]
            return Pcm(data[: len(data) - len(data) % (2 * channels)], sample_rate, channels)
        pos = body + size + (size & 1)
    raise ValueError("WAV stream has no data chunk")


class EspeakSynthesizer:
    """``Synthesizer`` port over espeak-ng; ``engine = "espeak"`` tells the SSML generator."""

    engine = "espeak"

    def __init__(
        self,
        *,
        voices: Mapping[str, str] | None = None,
        bitrate_kbps: int = DEFAULT_BITRATE_KBPS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        executable: str = ESPEAK,
    ) -> None:
        self.voices = dict(VOICES if voices is None else voices)
        self.bitrate_kbps = bitrate_kbps
        self.timeout_seconds = timeout_seconds
        self.executable = executable
        self._installed: frozenset[str] | None = None
        self._installed_lock = threading.Lock()

    def synthesize(self, ssml: str, *, language: str) -> bytes:
        pcm = self.synthesize_pcm(ssml, language=language)
        return encode_mp3(
            pcm.data,
            sample_rate=pcm.sample_rate,
            channels=pcm.channels,
            bitrate_kbps=self.bitrate_kbps,
        )

    def synthesize_pcm(self, ssml: str, *, language: str) -> Pcm:
        """The raw audio, before MP3 encoding (tests compare durations on it)."""
        voice = self.voice(language)
        document = to_espeak_ssml(ssml)
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv; the SSML goes in on stdin
                [self.executable, "-m", "-v", voice, "--stdout"],
                input=document.encode("utf-8"),
                capture_output=True,
                timeout=self.timeout_seconds,
                check=False,
                env={**os.environ, "LC_ALL": "C.UTF-8"},
            )
        except subprocess.TimeoutExpired:
            raise TransientError(
                f"espeak-ng timed out after {self.timeout_seconds:g} s ({len(document)} chars)"
            ) from None
        except OSError as exc:
            raise PolycastError(f"cannot run espeak-ng: {exc}", code="ENGINE_UNAVAILABLE") from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip()[:200]
            raise PolycastError(
                f"espeak-ng failed (exit {done.returncode}) for voice {voice}: {reason}",
                code="SYNTHESIS_FAILED",
            )
        try:
            return parse_wav(done.stdout)
        except (ValueError, struct.error) as exc:
            raise PolycastError(
                f"espeak-ng wrote no audio: {exc}", code="SYNTHESIS_FAILED"
            ) from exc

    def voice(self, language: str) -> str:
        """The voice for a language; UnsupportedLanguage names what is supported."""
        voice = voice_for(language, self.voices)
        if voice is None and language.strip().lower() in self.installed_voices():
            voice = language.strip().lower()
        if voice is None:
            listed = ", ".join(sorted(self.voices))
            raise UnsupportedLanguage(
                f"no local voice for {language!r}; voices exist for: {listed}"
            )
        return voice

    def languages(self) -> list[str]:
        """Language codes with a voice that espeak-ng really has installed."""
        installed = self.installed_voices()
        return sorted(code for code, voice in self.voices.items() if voice in installed)

    def installed_voices(self) -> frozenset[str]:
        """Voice names from ``espeak-ng --voices`` (asked once)."""
        with self._installed_lock:
            if self._installed is None:
                self._installed = _list_voices(self.executable)
            return self._installed


def _list_voices(executable: str) -> frozenset[str]:
    if shutil.which(executable) is None:
        return frozenset()
    done = subprocess.run(  # noqa: S603
        [executable, "--voices"], capture_output=True, text=True, timeout=10, check=False
    )
    names = set()
    for line in done.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 2:
            names.add(fields[1].lower())
    return frozenset(names)
