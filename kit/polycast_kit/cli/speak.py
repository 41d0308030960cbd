"""``polycast speak``: speak a WAV file to a Transcribe-streaming endpoint, see the text.

Streams a 16 kHz mono 16-bit PCM WAV at real time (``--fast``: as fast as the
endpoint takes it) to a presigned Transcribe streaming URL — Amazon Transcribe's or
the local runtime's — and prints the live (partial) text as it changes, each final
result, and the sentences cut from the finals with their measured dynamics
(rate from word timings, volume against the speaker's running level). ``--json``
prints one JSON object a line instead.

This is the recognition half of the speaker; sending the sentences to a session
(``--session``/``--key``) builds on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from polycast.domain.delivery import DeliveryMeter, pcm_slice
from polycast.domain.utterances import split_sentences, words_from_result
from polycast_kit.transcribe.client import TranscribeError, TranscribeRefused, stream_pcm
from polycast_kit.transcribe.wav import WavError, read_wav


class Printer:
    """Turns results into lines: partials when their text changes, finals, sentences."""

    def __init__(self, pcm: bytes, out: TextIO, as_json: bool) -> None:
        self.pcm = pcm
        self.out = out
        self.as_json = as_json
        self.meter = DeliveryMeter()
        self.last_partial = ""
        self.sentences: list[dict[str, Any]] = []

    def emit(self, kind: str, text: str, **fields: Any) -> None:
        if self.as_json:
            print(json.dumps({"type": kind, "text": text, **fields}), file=self.out)
        else:
            detail = " ".join(str(v) for v in fields.values())
            print(f"{kind:<9}{detail + ' ' if detail else ''}{text}", file=self.out)
        self.out.flush()

    def __call__(self, result: dict[str, Any]) -> None:
        alternative = (result.get("Alternatives") or [{}])[0]
        text = str(alternative.get("Transcript", ""))
        if result.get("IsPartial"):
            if text and text != self.last_partial:
                self.last_partial = text
                stable = " ".join(
                    str(i["Content"]) for i in alternative.get("Items", []) if i.get("Stable")
                )
                if self.as_json:
                    self.emit("partial", text, stableText=stable)
                else:
                    self.emit("partial", text)
            return
        self.last_partial = ""
        if not text:
            return  # an empty final only clears the live text
        self.emit("final", text, **self._span(result["StartTime"], result["EndTime"]))
        for sentence in split_sentences(words_from_result(result)):
            audio = pcm_slice(self.pcm, sentence.start_ms, sentence.end_ms)
            dynamics = self.meter.measure(audio, sentence.rate_wpm).to_json()
            record = {
                "sequence": len(self.sentences) + 1,
                "startMs": sentence.start_ms,
                "endMs": sentence.end_ms,
                "emotionDynamics": dynamics,
            }
            self.sentences.append({"text": sentence.text, **record})
            if self.as_json:
                self.emit("sentence", sentence.text, **record)
            else:
                self.emit(
                    "sentence",
                    sentence.text,
                    span=f"#{record['sequence']} "
                    f"[{sentence.start_ms / 1000:.2f}–{sentence.end_ms / 1000:.2f} s]",
                    dynamics=f"{dynamics['rateWpm']} wpm, {dynamics['volumeLevel']}, "
                    f"{dynamics['emotion']} {dynamics['intensity']}:",
                )

    def _span(self, start: float, end: float) -> dict[str, Any]:
        if self.as_json:
            return {"startMs": round(start * 1000), "endMs": round(end * 1000)}
        return {"span": f"[{start:.2f}–{end:.2f} s]"}


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "speak",
        help="speak a WAV file to a speech recognizer and print the text",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--file", type=Path, required=True, help="16 kHz mono 16-bit PCM WAV")
    parser.add_argument(
        "--url", required=True, help="presigned Transcribe streaming URL (wss:// or ws://)"
    )
    parser.add_argument("--fast", action="store_true", help="send faster than real time")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    try:
        audio = read_wav(args.file)
    except WavError as error:
        print(f"polycast speak: {error}", file=sys.stderr)
        return 2
    if audio.truncated:
        print(
            f"polycast speak: {args.file.name} is cut short; sending the "
            f"{audio.seconds:.1f} s it holds",
            file=sys.stderr,
        )
    printer = Printer(audio.pcm, out or sys.stdout, args.json)
    try:
        outcome = asyncio.run(stream_pcm(args.url, audio.pcm, fast=args.fast, on_result=printer))
    except TranscribeRefused as refused:
        print(f"polycast speak: the recognizer refused the stream: {refused}", file=sys.stderr)
        return 1
    except TranscribeError as error:
        print(f"polycast speak: the recognizer stopped the stream: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"polycast speak: cannot reach the recognizer: {error}", file=sys.stderr)
        return 1
    if not outcome.finals:
        print("polycast speak: no speech was recognized in the file", file=sys.stderr)
    return 0
