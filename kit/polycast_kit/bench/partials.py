"""partials: live captions of a real talk, translated by the real local engines.

A scripted recognizer replays ``samples/talk.jsonl`` word by word: each sentence
starts at its ``offsetMs`` and its words end at the sentence's ``rateWpm``; every
:data:`PARTIAL_EVERY_SECONDS` it sends a partial result whose last
:data:`UNSTABLE_WORDS` words are not stable yet and, deterministically (seeded),
sometimes wrong — a word cut short, or a different word — before they settle, as
a streaming recognizer revises its tail. The final comes
:data:`FINALIZATION_SECONDS` after the last word (the latency-budget scenario's
Transcribe finalization median).

The partials go through the processor's real live-caption service
(:class:`polycast.services.live_captions.LiveCaptions`: pacing, the chunk rule,
one caption per language) with the real Apertium translator; the finals are
translated whole by the same engine. Time is the talk's own (virtual) clock plus
the measured translation time of each call.

Figures (Arivazhagan et al., 2020, "Re-translation versus streaming for
simultaneous translation"):

* ``erasure``: normalized erasure — tokens erased from one caption to the next
  (the final included), ÷ tokens in the final outputs; bar ≤ 0.2;
* ``extraCharacters``: source characters translated for captions ÷ those
  translated for the finals; bar ≤ 0.5 (this is ``ratio``);
* ``captionLag``: from a word's end to the first caption (live or final) showing
  its translation, p50/p95 in seconds, against finals only;
* ``naive``: the same talk re-translating the whole hypothesis at every partial
  (the baseline the rule is measured against).
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polycast.domain.models import Partial
from polycast.ports import Translator
from polycast.services.live_captions import PARTIAL_READY, LiveCaptions
from polycast_kit.bench.sizes import Progress, Size
from polycast_kit.testing.events import MemoryEventPublisher
from polycast_kit.testing.sessions import MemorySessionStore

NAME = "partials"
TALK = Path(__file__).resolve().parents[3] / "samples" / "talk.jsonl"
SESSION = "bench-partials-1"
PARTIAL_EVERY_SECONDS = 0.25  # as the local recognizer (polycast_kit.transcribe)
UNSTABLE_WORDS = 2
REVISION_PROBABILITY = 0.35
FINALIZATION_SECONDS = 0.5
ERASURE_BAR = 0.2
EXTRA_BAR = 0.5
SEED = 14


@dataclass(frozen=True)
class Sentence:
    sequence: int
    text: str
    start: float  # seconds into the talk
    seconds_per_word: float

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def word_end(self, index: int) -> float:
        return self.start + (index + 1) * self.seconds_per_word

    @property
    def end(self) -> float:
        return self.word_end(len(self.words) - 1)


def load_talk(path: Path = TALK, limit: int | None = None) -> list[Sentence]:
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        record = json.loads(line)
        wpm = float(record.get("emotionDynamics", {}).get("rateWpm", 150))
        start = record["offsetMs"] / 1000
        sentences.append(Sentence(record["sequence"], record["transcriptText"], start, 60 / wpm))
    return sentences


def revised(word: str, rng: random.Random) -> str:
    """A wrong guess at a word still being heard: cut short, or another word."""
    if len(word) > 4 and rng.random() < 0.5:
        return word[: max(2, len(word) // 2)]
    return rng.choice(("the", "a", "and", "in", "to", "of", "it", "that"))


def script(sentence: Sentence, rng: random.Random) -> list[tuple[float, Partial]]:
    """The partial results of one sentence: (time, record), before its final."""
    out: list[tuple[float, Partial]] = []
    words = sentence.words
    t = sentence.start + PARTIAL_EVERY_SECONDS
    while t < sentence.end:
        heard = sum(1 for i in range(len(words)) if sentence.word_end(i) <= t)
        if heard:
            hypothesis = list(words[:heard])
            stable = max(0, heard - UNSTABLE_WORDS)
            for i in range(stable, heard):
                if rng.random() < REVISION_PROBABILITY:
                    hypothesis[i] = revised(hypothesis[i], rng)
            out.append(
                (
                    t,
                    Partial(
                        SESSION,
                        "en",
                        sentence.sequence,
                        " ".join(hypothesis),
                        " ".join(words[:stable]),
                    ),
                )
            )
        t += PARTIAL_EVERY_SECONDS
    return out


class _TalkClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tokens(text: str) -> list[str]:
    return text.split()


def erased(before: Sequence[str], after: Sequence[str]) -> int:
    """Tokens of ``before`` past its longest common prefix with ``after``."""
    common = 0
    for a, b in zip(before, after, strict=False):
        if a != b:
            break
        common += 1
    return len(before) - common


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50Seconds": 0.0, "p95Seconds": 0.0}

    def at(pct: float) -> float:
        return ordered[min(len(ordered) - 1, int(pct / 100 * len(ordered)))]

    return {"p50Seconds": round(at(50), 3), "p95Seconds": round(at(95), 3)}


@dataclass
class _Shown:
    """What one language's listener saw of one sentence: (time, text, words covered)."""

    captions: list[tuple[float, str, int]]


def run_talk(
    translator: Translator, languages: Sequence[str], sentences: Sequence[Sentence]
) -> dict[str, Any]:
    """The live-caption service over the talk; every figure but the naive baseline."""
    sessions = MemorySessionStore()
    sessions.start(SESSION, "en")
    sessions.set_listeners(SESSION, {lang: 10 for lang in languages})
    publisher = MemoryEventPublisher()
    clock = _TalkClock()
    service = LiveCaptions(
        sessions=sessions, translator=translator, publisher=publisher, clock=clock
    )
    rng = random.Random(SEED)
    shown: dict[tuple[int, str], _Shown] = {}
    partial_chars = final_chars = erasures = final_tokens = 0
    lags: list[float] = []
    finals_only: list[float] = []
    partial_count = caption_count = 0
    try:
        for sentence in sentences:
            for t, partial in script(sentence, rng):
                partial_count += 1
                clock.now = t
                before = len(publisher.of_type(PARTIAL_READY))
                started = time.perf_counter()
                outcome = service.offer(partial)
                at = t + time.perf_counter() - started
                partial_chars += outcome.translated_chars
                for detail in publisher.of_type(PARTIAL_READY)[before:]:
                    caption_count += 1
                    key = (sentence.sequence, detail["language"])
                    shown.setdefault(key, _Shown([])).captions.append(
                        (at, detail["text"], int(detail["revision"]))
                    )
            final_at = sentence.end + FINALIZATION_SECONDS
            service.finished(SESSION, sentence.sequence)
            for language in languages:
                started = time.perf_counter()
                final = translator.translate(sentence.text, source="en", target=language)
                at = final_at + time.perf_counter() - started
                final_chars += len(sentence.text)
                captions = shown.get((sentence.sequence, language), _Shown([])).captions
                outputs = [tokens(text) for _, text, _ in captions] + [tokens(final)]
                erasures += sum(erased(a, b) for a, b in itertools.pairwise(outputs))
                final_tokens += len(outputs[-1])
                for index in range(len(sentence.words)):
                    first = next((c for c in captions if c[2] > index), None)
                    seen = first[0] if first is not None else at
                    lags.append(seen - sentence.word_end(index))
                    finals_only.append(at - sentence.word_end(index))
    finally:
        service.close()
    return {
        "erasure": erasures / final_tokens if final_tokens else 0.0,
        "extra": partial_chars / final_chars if final_chars else 0.0,
        "partialChars": partial_chars,
        "finalChars": final_chars,
        "lag": percentiles(lags),
        "finalsOnlyLag": percentiles(finals_only),
        "lags": [round(x, 3) for x in lags],
        "finalsOnlyLags": [round(x, 3) for x in finals_only],
        "partials": partial_count,
        "captions": caption_count,
    }


def run_naive(
    translator: Translator, languages: Sequence[str], sentences: Sequence[Sentence]
) -> dict[str, Any]:
    """Baseline: re-translate the whole hypothesis at every partial."""
    rng = random.Random(SEED)
    chars = final_chars = erasures = final_tokens = 0
    for sentence in sentences:
        script_ = script(sentence, rng)
        for language in languages:
            texts = [partial.text for _, partial in script_] + [sentence.text]
            outputs = [tokens(translator.translate(t, source="en", target=language)) for t in texts]
            chars += sum(len(t) for t in texts[:-1])
            final_chars += len(sentence.text)
            erasures += sum(erased(a, b) for a, b in itertools.pairwise(outputs))
            final_tokens += len(outputs[-1])
    return {
        "erasure": round(erasures / final_tokens, 4) if final_tokens else 0.0,
        "extraCharacters": round(chars / final_chars, 4) if final_chars else 0.0,
    }


def summary(talk: Mapping[str, Any], naive: Mapping[str, Any]) -> dict[str, Any]:
    erasure, extra = round(talk["erasure"], 4), round(talk["extra"], 4)
    passed = erasure <= ERASURE_BAR and extra <= EXTRA_BAR
    return {
        "ratio": extra,
        "bar": EXTRA_BAR,
        "barKind": "max",
        "pass": passed,
        "erasure": {"value": erasure, "bar": ERASURE_BAR, "pass": erasure <= ERASURE_BAR},
        "extraCharacters": {
            "value": extra,
            "bar": EXTRA_BAR,
            "pass": extra <= EXTRA_BAR,
            "captionSourceChars": talk["partialChars"],
            "finalSourceChars": talk["finalChars"],
        },
        "captionLag": {**talk["lag"], "finalsOnly": talk["finalsOnlyLag"]},
        "naive": naive,
        "lags": talk["lags"],
        "finalsOnlyLags": talk["finalsOnlyLags"],
        "partialRecords": talk["partials"],
        "captionsPublished": talk["captions"],
    }


def run(size: Size, progress: Progress) -> dict[str, Any]:
    from polycast_kit.engines import local_engines

    full = size == "full"
    languages = ("es", "fr", "ca") if full else ("es",)
    sentences = load_talk(limit=None if full else 4)
    progress(f"{NAME}: {len(sentences)} sentences, {len(languages)} languages, Apertium")
    engines = local_engines()
    try:
        talk = run_talk(engines.translator, languages, sentences)
        progress(f"{NAME}: live captions done; the naive baseline re-translates every partial")
        naive = run_naive(engines.translator, languages, sentences)
    finally:
        engines.close()
    result = summary(talk, naive)
    progress(
        f"{NAME}: erasure {result['erasure']['value']}, extra {result['ratio']}× finals, "
        f"lag p50 {result['captionLag']['p50Seconds']} s"
    )
    return {
        **result,
        "languages": list(languages),
        "sentences": len(sentences),
        "recognizer": {
            "partialEverySeconds": PARTIAL_EVERY_SECONDS,
            "unstableWords": UNSTABLE_WORDS,
            "revisionProbability": REVISION_PROBABILITY,
            "finalizationSeconds": FINALIZATION_SECONDS,
            "seed": SEED,
        },
    }
