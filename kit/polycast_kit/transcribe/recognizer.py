"""An offline streaming recognizer that answers like Amazon Transcribe (pocketsphinx 5).

Audio goes through pocketsphinx's ``Endpointer`` (voice activity with a 0.5 s
window): speech starts an utterance, a pause ends it. Inside an utterance the
decoder gets the audio in ~250 ms blocks and ``hyp()`` after each block becomes a
partial result; the end of the utterance becomes the final result with word timings
from ``seg()``. Results have Transcribe's ``TranscriptEvent`` shape (see
``schemas/transcribe/TranscriptEvent.json``).

Stabilization (Transcribe's ``partial-results-stability``): a word is marked
``Stable`` once it and every word before it kept their place in the last N
hypotheses (high 4, medium 3, low 2, about a second of audio at high) and it ended
at least a margin before the newest audio. A stable word keeps its place in every
later partial. The final, though, is the decoder's own full-utterance pass, which
is markedly more accurate than its partials: it may still revise a stable word
(rarely; the final replaces the live caption anyway) — the one place where this
recognizer is weaker than Transcribe's promise. Finals are punctuated like
Transcribe's (a capital and a closing period), since an utterance ends at a pause
the endpointer judged an ending.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
PARTIAL_EVERY_SECONDS = 0.25
ENDPOINT_WINDOW_SECONDS = 0.5
FRAMES_PER_SECOND = 100  # pocketsphinx's frame rate: seg() frames are 10 ms
STABILITY: dict[str, tuple[int, float]] = {  # level → (hypotheses agreeing, margin s)
    "high": (4, 1.0),
    "medium": (3, 0.6),
    "low": (2, 0.3),
}


class RecognizerUnavailable(RuntimeError):
    """The offline recognizer cannot run here (the message says what to install)."""


@dataclass(frozen=True)
class Word:
    content: str
    start: float  # seconds from the start of the stream
    end: float


def _clean(word: str) -> str | None:
    """A dictionary word without its pronunciation variant; None for fillers."""
    if not word or word[0] in "<[" or word.startswith("++"):
        return None
    return word.split("(", 1)[0]


def _sentence_case(words: list[str]) -> list[str]:
    out = [("I" + w[1:]) if w == "i" or w.startswith("i'") else w for w in words]
    if out:
        out[0] = out[0][:1].upper() + out[0][1:]
    return out


def _seconds(value: float) -> float:
    return round(value, 3)


def result(
    result_id: str, words: list[Word], stable_count: int, *, partial: bool
) -> dict[str, Any]:
    """One Transcribe ``Result`` for ``words`` (the first ``stable_count`` stable)."""
    contents = [w.content for w in words]
    if not partial:
        contents = _sentence_case(contents)
    items: list[dict[str, Any]] = [
        {
            "StartTime": _seconds(w.start),
            "EndTime": _seconds(w.end),
            "Type": "pronunciation",
            "Content": content,
            "VocabularyFilterMatch": False,
            **({"Stable": index < stable_count} if partial else {}),
        }
        for index, (w, content) in enumerate(zip(words, contents, strict=True))
    ]
    transcript = " ".join(contents)
    if not partial and words:
        end = _seconds(words[-1].end)
        items.append(
            {
                "StartTime": end,
                "EndTime": end,
                "Type": "punctuation",
                "Content": ".",
                "VocabularyFilterMatch": False,
            }
        )
        transcript += "."
    return {
        "ResultId": result_id,
        "StartTime": _seconds(words[0].start) if words else 0.0,
        "EndTime": _seconds(words[-1].end) if words else 0.0,
        "IsPartial": partial,
        "ChannelId": "ch_0",
        "Alternatives": [{"Transcript": transcript, "Items": items}],
    }


def transcript_event(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Transcript": {"Results": results}}


@dataclass
class _Utterance:
    start: float  # stream time of the utterance's first audio
    result_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    pending: bytearray = field(default_factory=bytearray)
    history: list[list[str]] = field(default_factory=list)
    committed: list[Word] = field(default_factory=list)
    last_text: str = ""


class PocketsphinxRecognizer:
    """Feed raw 16 kHz mono 16-bit PCM; get ``TranscriptEvent`` bodies back.

    Not thread-safe; one per stream. ``decode_seconds`` / ``audio_seconds`` is the
    real-time factor by the wall clock, ``cpu_seconds`` / ``audio_seconds`` by the
    decoding thread's own CPU time (the fair figure on a shared machine). Creating
    one loads the model (about a second): do it off the event loop.
    """

    def __init__(self, stability: str = "high") -> None:
        try:
            from pocketsphinx import Decoder, Endpointer
        except ImportError as error:
            raise RecognizerUnavailable(
                "pocketsphinx is not installed: pip install -e '.[local]' (make python-env)"
            ) from error

        self._agree, self._margin = STABILITY.get(stability, STABILITY["high"])
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._endpointer = Endpointer(window=ENDPOINT_WINDOW_SECONDS, sample_rate=SAMPLE_RATE)
        self._frame_bytes: int = self._endpointer.frame_bytes
        self._carry = bytearray()
        self._utterance: _Utterance | None = None
        self._fed_bytes = 0
        self.decode_seconds = 0.0
        self.cpu_seconds = 0.0

    @property
    def audio_seconds(self) -> float:
        return self._fed_bytes / BYTES_PER_SECOND

    def feed(self, pcm: bytes) -> list[dict[str, Any]]:
        """Audio in; zero or more TranscriptEvent bodies out."""
        began, cpu_began = time.perf_counter(), time.thread_time()
        self._fed_bytes += len(pcm)
        self._carry.extend(pcm)
        events: list[dict[str, Any]] = []
        usable = len(self._carry) - len(self._carry) % self._frame_bytes
        for offset in range(0, usable, self._frame_bytes):
            frame = bytes(self._carry[offset : offset + self._frame_bytes])
            was_speaking = self._endpointer.in_speech
            speech = self._endpointer.process(frame)
            if speech is not None:
                if not was_speaking or self._utterance is None:
                    self._start(float(self._endpointer.speech_start))
                events.extend(self._take(speech))
                if not self._endpointer.in_speech:
                    events.extend(self._finish())
        del self._carry[:usable]
        self.decode_seconds += time.perf_counter() - began
        self.cpu_seconds += time.thread_time() - cpu_began
        return events

    def finish(self) -> list[dict[str, Any]]:
        """End of the stream: the utterance in progress becomes final."""
        began, cpu_began = time.perf_counter(), time.thread_time()
        events: list[dict[str, Any]] = []
        if self._endpointer.in_speech:
            # end_stream wants a last frame (not an empty one): pad what is left with silence.
            last = bytes(self._carry[: self._frame_bytes]).ljust(self._frame_bytes, b"\0")
            rest = self._endpointer.end_stream(last)
            if self._utterance is None:
                self._start(float(self._endpointer.speech_start))
            if rest:
                self._utterance_pending(rest)
        self._carry.clear()
        if self._utterance is not None:
            events.extend(self._finish())
        self.decode_seconds += time.perf_counter() - began
        self.cpu_seconds += time.thread_time() - cpu_began
        return events

    # -- inside an utterance ---------------------------------------------------------

    def _start(self, start: float) -> None:
        self._utterance = _Utterance(start=start)
        self._decoder.start_utt()

    def _utterance_pending(self, speech: bytes) -> None:
        assert self._utterance is not None
        self._utterance.pending.extend(speech)

    def _take(self, speech: bytes) -> list[dict[str, Any]]:
        self._utterance_pending(speech)
        utterance = self._utterance
        assert utterance is not None
        if len(utterance.pending) < PARTIAL_EVERY_SECONDS * BYTES_PER_SECOND:
            return []
        self._decoder.process_raw(bytes(utterance.pending))
        utterance.pending.clear()
        return self._partial()

    def _words(self) -> list[Word]:
        assert self._utterance is not None
        start = self._utterance.start
        words = []
        for segment in self._decoder.seg():
            content = _clean(segment.word)
            if content is not None:
                words.append(
                    Word(
                        content,
                        start + segment.start_frame / FRAMES_PER_SECOND,
                        start + (segment.end_frame + 1) / FRAMES_PER_SECOND,
                    )
                )
        return words

    def _partial(self) -> list[dict[str, Any]]:
        utterance = self._utterance
        assert utterance is not None
        if self._decoder.hyp() is None:
            return []
        words = self._merge(self._words())
        contents = [w.content for w in words]
        utterance.history = [*utterance.history, contents][-self._agree :]
        newest_audio = utterance.start + self._decoder.n_frames() / FRAMES_PER_SECOND
        stable = len(utterance.committed)
        while stable < len(words) and len(utterance.history) == self._agree:
            word = words[stable]
            agreed = all(len(h) > stable and h[stable] == word.content for h in utterance.history)
            if not agreed or word.end > newest_audio - self._margin:
                break
            stable += 1
        utterance.committed = words[:stable]
        text = " ".join(contents)
        if not words or text == utterance.last_text:
            return []
        utterance.last_text = text
        return [transcript_event([result(utterance.result_id, words, stable, partial=True)])]

    def _merge(self, words: list[Word]) -> list[Word]:
        """The committed (stable) words, then the decoder's words after them."""
        assert self._utterance is not None
        committed = self._utterance.committed
        if not committed:
            return words
        if [w.content for w in words[: len(committed)]] == [w.content for w in committed]:
            return committed + words[len(committed) :]
        boundary = committed[-1].end - 0.01
        return committed + [w for w in words if w.start >= boundary]

    def _finish(self) -> list[dict[str, Any]]:
        utterance = self._utterance
        assert utterance is not None
        if utterance.pending:
            self._decoder.process_raw(bytes(utterance.pending))
            utterance.pending.clear()
        self._decoder.end_utt()
        words = self._words()
        self._utterance = None
        if not words and not utterance.last_text:
            return []
        # A result whose partials showed words always ends in a final, even an empty
        # one (noise the full pass rejected): the live caption must be cleared.
        final = result(utterance.result_id, words, len(words), partial=False)
        if not words:
            final["StartTime"] = final["EndTime"] = _seconds(utterance.start)
        return [transcript_event([final])]
