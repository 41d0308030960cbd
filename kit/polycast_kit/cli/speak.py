"""``polycast speak``: be a session's speaker from a terminal — a WAV file or the microphone.

``polycast speak --session ID --key KEY (--file talk.wav | --mic) [--fast]`` speaks
the same protocol as the speaker page: it connects to the session as its speaker
(the WebSocket URL from ``.polycast/local.json`` or ``--stack``), asks for the
recognition URL, streams the audio to it (a WAV at real time unless ``--fast``),
prints the live text and each sentence, sends partial captions and every sentence
with its measured dynamics, waits for each sentence's acknowledgement, and after a
dropped connection reconnects and resends what was not acknowledged.

``polycast speak --file talk.wav --url URL`` only recognizes: it streams to a
presigned Transcribe streaming URL and prints partials, finals and the sentences.
``--json`` prints one JSON object a line instead of text.
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
from polycast_kit.cli.endpoints import add_target_arguments
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
        help="be a session's speaker: a WAV file or the microphone, recognized and sent",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="16 kHz mono 16-bit PCM WAV")
    source.add_argument("--mic", action="store_true", help="speak into the microphone")
    parser.add_argument("--session", help="the session to speak to (from `session create`)")
    parser.add_argument("--key", help="the session's speaker key (from `session create`)")
    parser.add_argument(
        "--language-code", default="en-US", help="recognition language (default en-US)"
    )
    parser.add_argument(
        "--url", help="only recognize: a presigned Transcribe streaming URL (wss:// or ws://)"
    )
    parser.add_argument("--fast", action="store_true", help="send a file faster than real time")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    add_target_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    if args.session or args.key:
        from polycast_kit.cli.speak_session import run_session

        return run_session(args, out or sys.stdout)
    if not args.url or args.mic:
        print(
            "polycast speak: pass --session ID --key KEY (to speak to a session), "
            "or --file WAV --url URL (to only recognize)",
            file=sys.stderr,
        )
        return 2
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
