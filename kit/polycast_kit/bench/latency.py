"""Simulated service latency around the memory fakes.

The services run unchanged; only the edges sleep. Every delay is drawn from a
seeded generator (nominal × uniform(1 − jitter, 1 + jitter)) and recorded, so a
scenario can compute its ideal schedule from the delays actually drawn rather
than from the nominal figures.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from polycast.domain.translation_settings import TranslationSettings
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translator import FakeTranslator

TRANSLATE_MS = 150.0
SYNTHESIZE_MS = 300.0
POST_MS = 25.0
JITTER = 0.1
# ~5 s of speech (one 80-character sentence) as 48 kbit/s MP3: one inline message.
AUDIO_BYTES = 30_000


@dataclass
class Latency:
    """Draws delays: ``nominal_ms × scale × uniform(1 − jitter, 1 + jitter)``, seeded."""

    scale: float = 1.0
    jitter: float = JITTER
    seed: int = 7
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw_ms(self, nominal_ms: float) -> float:
        with self._lock:
            factor = self._rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return nominal_ms * self.scale * factor


class SlowTranslator(FakeTranslator):
    """A FakeTranslator that takes Translate's time; ``drawn[target]`` lists each delay (ms)."""

    def __init__(self, latency: Latency, nominal_ms: float = TRANSLATE_MS) -> None:
        super().__init__()
        self.latency = latency
        self.nominal_ms = nominal_ms
        self.drawn: dict[str, list[float]] = defaultdict(list)

    def translate(
        self,
        text: str,
        *,
        source: str,
        target: str,
        settings: TranslationSettings | None = None,
    ) -> str:
        delay = self.latency.draw_ms(self.nominal_ms)
        with self._lock:
            self.drawn[target].append(delay)
        time.sleep(delay / 1000)
        return super().translate(text, source=source, target=target, settings=settings)


class SlowSynthesizer(FakeSynthesizer):
    """A FakeSynthesizer that takes Polly's time; ``drawn[language]`` lists each delay (ms)."""

    def __init__(
        self,
        latency: Latency,
        nominal_ms: float = SYNTHESIZE_MS,
        *,
        engine: str = "neural",
        audio_size: int = AUDIO_BYTES,
    ) -> None:
        super().__init__(engine=engine, audio_size=audio_size)
        self.latency = latency
        self.nominal_ms = nominal_ms
        self.drawn: dict[str, list[float]] = defaultdict(list)

    def synthesize(self, ssml: str, *, language: str) -> bytes:
        delay = self.latency.draw_ms(self.nominal_ms)
        with self._lock:
            self.drawn[language].append(delay)
        time.sleep(delay / 1000)
        return super().synthesize(ssml, language=language)


class SlowSender(RecordingSender):
    """A RecordingSender whose posts take PostToConnection's time.

    ``drawn[cid]`` is the delay of each post and ``finished[cid]`` the
    ``time.perf_counter()`` at which the last post to ``cid`` completed.
    ``keep_payloads=False`` stores no bytes (10,000 listeners × audio adds up).
    """

    def __init__(
        self, latency: Latency, nominal_ms: float = POST_MS, *, keep_payloads: bool = True
    ) -> None:
        super().__init__()
        self.latency = latency
        self.nominal_ms = nominal_ms
        self.keep_payloads = keep_payloads
        self.drawn: dict[str, list[float]] = defaultdict(list)
        self.finished: dict[str, float] = {}
        self.posts = 0

    def post(self, connection_id: str, data: bytes) -> None:
        delay = self.latency.draw_ms(self.nominal_ms)
        time.sleep(delay / 1000)
        done = time.perf_counter()
        with self._lock:
            self.drawn[connection_id].append(delay)
            self.finished[connection_id] = done
            self.posts += 1
            if self.keep_payloads:
                self.delivered[connection_id].append(bytes(data))
