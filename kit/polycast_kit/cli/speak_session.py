"""``polycast speak --session ID --key KEY (--file WAV | --mic)``: the terminal speaker.

The protocol is :mod:`polycast_kit.transcribe.speaker_session` (the speaker page's,
in Python); this module reads the input, prints what happens and says clearly why
something could not be done (a refused key, a second speaker, no microphone, a WAV
the recognizer cannot take).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from polycast_kit.cli.endpoints import TargetError, resolve_target
from polycast_kit.transcribe.client import TranscribeError, TranscribeRefused
from polycast_kit.transcribe.microphone import NoMicrophone, describe_capture, microphone_chunks
from polycast_kit.transcribe.speaker_session import (
    SentenceCutter,
    SessionOver,
    SpeakerChannel,
    SpeakerRefused,
    file_chunks,
    speaker_socket_url,
    stream_chunks,
)
from polycast_kit.transcribe.wav import WavError, read_wav

SAMPLE_RATE = 16000


class Output:
    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out = out
        self.as_json = as_json

    def __call__(self, kind: str, text: str, fields: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps({"type": kind, "text": text, **fields}), file=self.out, flush=True)
            return
        if kind == "sentence":
            dyn = fields.get("emotionDynamics", {})
            detail = (
                f"#{fields['sequence']} [{fields['startMs'] / 1000:.2f}–"
                f"{fields['endMs'] / 1000:.2f} s] {dyn.get('rateWpm')} wpm, "
                f"{dyn.get('volumeLevel')}, {dyn.get('emotion')}: "
            )
            print(f"sentence {detail}{text}", file=self.out, flush=True)
        elif kind == "partial":
            print(f"partial  {text}", file=self.out, flush=True)
        else:
            print(f"{kind:<9}{text}", file=self.out, flush=True)


def _fail(message: str, code: int = 1) -> int:
    print(f"polycast speak: {message}", file=sys.stderr)
    return code


def run_session(args: argparse.Namespace, out: TextIO) -> int:
    if not args.session or not args.key:
        return _fail("--session and --key go together (both from `polycast session create`)", 2)
    if args.url:
        return _fail("--url only recognizes; with --session the session hands out the URL", 2)
    pcm: bytes | None = None
    if args.file is not None:
        try:
            audio = read_wav(args.file)
        except WavError as error:
            return _fail(str(error), 2)
        if audio.truncated:
            print(
                f"polycast speak: {args.file.name} is cut short; sending the "
                f"{audio.seconds:.1f} s it holds",
                file=sys.stderr,
            )
        pcm = audio.pcm
    else:
        try:
            print(f"microphone: {describe_capture()} (Ctrl-C to stop)", file=sys.stderr)
        except NoMicrophone as missing:
            return _fail(str(missing), 2)
    try:
        target = resolve_target(args, needs=("websocket_url",))
    except TargetError as error:
        return _fail(str(error), 2)
    if not target.websocket_url:
        return _fail("the target has no WebSocket URL", 2)
    url = speaker_socket_url(target.websocket_url, args.session, args.key)
    output = Output(out, args.json)
    try:
        return asyncio.run(_speak(url, pcm, args, output))
    except KeyboardInterrupt:
        return 130


def _verdict(channel: SpeakerChannel, cutter: SentenceCutter, settled: bool) -> int:
    """The exit code once the talk is over, with a line for whatever went wrong."""
    if channel.ended:
        print(f"polycast speak: the session ended ({channel.ended})", file=sys.stderr)
    if not cutter.finals:
        print("polycast speak: no speech was recognized", file=sys.stderr)
    if channel.stats.refused:
        return _fail(f"sentences not accepted: {channel.stats.refused}")
    if not settled:
        return _fail("some sentences were not acknowledged in time")
    return 0


async def _speak(url: str, pcm: bytes | None, args: argparse.Namespace, output: Output) -> int:
    try:
        async with SpeakerChannel(url) as channel:
            answer = await channel.transcribe_url(args.language_code, SAMPLE_RATE)
            cutter = SentenceCutter(channel, output)
            chunks: AsyncIterator[bytes] = (
                file_chunks(pcm, fast=args.fast) if pcm is not None else microphone_chunks()
            )
            with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
                await stream_chunks(str(answer["url"]), cutter.tap(chunks), cutter)
            settled = await channel.settle()
            stats = channel.stats
            output(
                "done",
                f"{stats.acked} of {stats.sent} sentences acknowledged, "
                f"{stats.partials} partials, {stats.reconnects} reconnects, "
                f"{stats.resent} resent",
                {"acked": stats.acked, "sent": stats.sent, "refused": stats.refused},
            )
            return _verdict(channel, cutter, settled)
    except SpeakerRefused as refused:
        return _fail(f"the session refused the speaker: {refused.code} {refused.message}")
    except TranscribeRefused as refused:
        return _fail(f"the recognizer refused the stream: {refused}")
    except TranscribeError as error:
        return _fail(f"the recognizer stopped the stream: {error}")
    except NoMicrophone as missing:
        return _fail(str(missing), 2)
    except SessionOver:
        return _fail("the session ended")
    except OSError as error:
        return _fail(f"cannot reach the session: {error}")
