"""In-memory Synthesizer: fake MP3 bytes with a real-looking header, scriptable failures."""

from __future__ import annotations

import hashlib
import threading

from polycast.errors import PolycastError, Throttled

# An ID3v2.4 header (empty tag) followed by an MPEG-1 Layer III frame header.
ID3_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"
MPEG_FRAME_HEADER = b"\xff\xfb\x90\x64"


def fake_mp3(ssml: str, size: int = 0) -> bytes:
    """Bytes that start like an MP3 and depend on the SSML (so caching is observable)."""
    body = hashlib.sha256(ssml.encode("utf-8")).digest()
    data = ID3_HEADER + MPEG_FRAME_HEADER + body
    if size > len(data):
        data += b"\x00" * (size - len(data))
    return data


class FakeSynthesizer:
    """Returns :func:`fake_mp3` of the SSML; records calls.

    ``fail_languages`` always fail; ``throttle_all`` makes every call raise Throttled;
    ``audio_size`` pads the output (to exercise the S3 claim check).
    """

    def __init__(
        self,
        *,
        engine: str = "neural",
        fail_languages: set[str] | None = None,
        audio_size: int = 0,
        throttle_all: bool = False,
    ) -> None:
        self.engine = engine
        self.fail_languages = set(fail_languages or ())
        self.audio_size = audio_size
        self.throttle_all = throttle_all
        self.calls: list[tuple[str, str]] = []  # (language, ssml)
        self._lock = threading.Lock()

    def synthesize(self, ssml: str, *, language: str) -> bytes:
        with self._lock:
            self.calls.append((language, ssml))
        if self.throttle_all:
            raise Throttled("synthesis throttled")
        if language in self.fail_languages:
            raise PolycastError(f"synthesis for {language} failed", code="SYNTHESIS_FAILED")
        return fake_mp3(ssml, self.audio_size)

    def calls_for(self, language: str) -> int:
        return sum(1 for lang, _ in self.calls if lang == language)
