"""Recognizer finals → sentence-sized transcripts, with timings and speaking rate.

A recognizer's final result can run for half a minute when a speaker does not
pause; a listener should not wait that long, and Translate and Polly do better on
sentences. :func:`split_sentences` cuts the words of one final:

* after sentence punctuation (``.``, ``?``, ``!``, ``…``);
* at a pause of at least :data:`PAUSE_MS` between two words;
* and never lets a sentence run past :data:`MAX_SENTENCE_MS`: a sentence that would
  is cut at its best inner boundary (a comma first, else the longest pause).

Input is Transcribe's ``Result`` JSON (:func:`words_from_result`); times are in
milliseconds from the start of the stream. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PAUSE_MS = 600
MAX_SENTENCE_MS = 15_000
SENTENCE_END = frozenset(".?!…")
CLAUSE_END = frozenset(",;:")
MIN_RATE_WPM = 40
MAX_RATE_WPM = 400


@dataclass(frozen=True)
class TimedWord:
    """A spoken word, with the punctuation the recognizer attached after it."""

    text: str
    start_ms: int
    end_ms: int
    punctuation: str = ""

    @property
    def ends_sentence(self) -> bool:
        return any(mark in SENTENCE_END for mark in self.punctuation)

    @property
    def ends_clause(self) -> bool:
        return any(mark in CLAUSE_END for mark in self.punctuation)


@dataclass(frozen=True)
class Sentence:
    words: tuple[TimedWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text + w.punctuation for w in self.words)

    @property
    def start_ms(self) -> int:
        return self.words[0].start_ms

    @property
    def end_ms(self) -> int:
        return self.words[-1].end_ms

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    @property
    def rate_wpm(self) -> int | None:
        return rate_wpm(self.words)


def _ms(value: Any) -> int:
    return round(float(value) * 1000)


def words_from_result(result: Mapping[str, Any]) -> list[TimedWord]:
    """The words of a Transcribe ``Result`` (first alternative), punctuation attached.

    Items without usable timings are skipped; a result with no items at all (some
    producers send only the transcript) yields no words.
    """
    alternatives = result.get("Alternatives") or []
    if not alternatives:
        return []
    words: list[TimedWord] = []
    for item in alternatives[0].get("Items") or []:
        content = str(item.get("Content", "")).strip()
        if not content:
            continue
        if item.get("Type") == "punctuation":
            if words:
                last = words[-1]
                words[-1] = TimedWord(
                    last.text, last.start_ms, last.end_ms, last.punctuation + content
                )
            continue
        try:
            start, end = _ms(item["StartTime"]), _ms(item["EndTime"])
        except (KeyError, TypeError, ValueError):
            continue
        words.append(TimedWord(content, start, max(start, end)))
    return words


def rate_wpm(words: Sequence[TimedWord]) -> int | None:
    """Words per minute over the time they span; None when too few words to tell.

    One word says nothing about pace, so it takes at least two words and half a
    second; the figure is clamped to a humanly possible 40–400 wpm.
    """
    if len(words) < 2:
        return None
    span_ms = words[-1].end_ms - words[0].start_ms
    if span_ms < 500:
        return None
    wpm = round(len(words) * 60_000 / span_ms)
    return max(MIN_RATE_WPM, min(MAX_RATE_WPM, wpm))


def _best_cut(words: Sequence[TimedWord]) -> int:
    """Where to cut an over-long run: after a clause mark, else at the longest pause.

    Returns i in 1..len-1: words[:i] becomes a sentence. Later cuts win ties, so the
    sentence handed out is as long as the cap allows.
    """
    best, best_score = len(words) - 1, (-1, -1)
    for i in range(1, len(words)):
        score = (int(words[i - 1].ends_clause), words[i].start_ms - words[i - 1].end_ms)
        if score >= best_score:
            best, best_score = i, score
    return best


def split_sentences(
    words: Sequence[TimedWord],
    *,
    pause_ms: int = PAUSE_MS,
    max_ms: int = MAX_SENTENCE_MS,
) -> list[Sentence]:
    """Sentences in order; together they hold every word exactly once."""
    sentences: list[Sentence] = []
    current: list[TimedWord] = []
    for word in words:
        if current and word.start_ms - current[-1].end_ms >= pause_ms:
            sentences.append(Sentence(tuple(current)))
            current = []
        current.append(word)
        while len(current) > 1 and current[-1].end_ms - current[0].start_ms > max_ms:
            cut = _best_cut(current)
            sentences.append(Sentence(tuple(current[:cut])))
            current = current[cut:]
        if word.ends_sentence:
            sentences.append(Sentence(tuple(current)))
            current = []
    if current:
        sentences.append(Sentence(tuple(current)))
    return sentences
