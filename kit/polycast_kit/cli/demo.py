"""``polycast demo`` (what ``make run`` runs): the runtime plus a sample talk, live.

Starts the local runtime, opens a demo session, prints the listener page URL with
the session filled in, and streams the sample talk in real time — replaying it
(with fresh sequence numbers) until Ctrl-C, or once with ``--once``. One line per
segment sent and per language delivered.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from polycast import wiring
from polycast.domain.session_ids import new_session_id
from polycast_kit.cli.events import EventTap
from polycast_kit.cli.local_cmd import (
    add_runtime_arguments,
    build_runtime,
    configure_logging,
    stop_runtime,
    terminate_on_sigterm,
)
from polycast_kit.cli.produce import (
    TimedRecord,
    TranscriptProducer,
    produce_talk,
    session_records,
    talk_records,
)


def sample_talk() -> Path:
    from polycast_kit.local.functions import repo_root

    return repo_root() / "samples" / "talk.jsonl"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the pipeline locally and stream a sample talk into a demo session",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_runtime_arguments(parser)
    parser.add_argument("--talk", type=Path, help="talk to stream (default samples/talk.jsonl)")
    parser.add_argument("--session", help="session id (default: a new one)")
    parser.add_argument("--language", default="es", help="language in the printed page URL")
    parser.add_argument("--once", action="store_true", help="play the talk once, then end")
    parser.add_argument("--speed", type=float, default=1.0, help="realtime speed factor")
    parser.set_defaults(run=run)


def _stream(
    producer: TranscriptProducer,
    lines: list[str],
    session_id: str,
    *,
    once: bool,
    speed: float,
    stop: threading.Event,
    out: TextIO,
) -> None:
    sequence = 1
    first = True
    while not stop.is_set():
        timed = list(talk_records(lines, session_id=session_id, start_sequence=sequence))
        sequence += len([t for t in timed if t.record.get("type") == "transcript"])
        framed: list[TimedRecord] = session_records(
            timed, session_id=session_id, language="en", start=first, end=once
        )
        first = False

        def sent(batch: list[dict[str, Any]]) -> None:
            for record in batch:
                if record.get("type") == "transcript":
                    words = len(str(record.get("transcriptText", "")).split())
                    print(f"  -> #{record['sequence']} sent ({words} words)", file=out, flush=True)

        produce_talk(
            producer, framed, realtime=True, speed=speed, on_sent=sent, should_stop=stop.is_set
        )
        if once or stop.is_set():
            break
        print("  (talk finished; playing it again - Ctrl-C to stop)", file=out, flush=True)
    if not once:
        producer.send([{"type": "sessionEnded", "sessionId": session_id}])


def _plural(count: object, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _delivery_line(detail: dict[str, Any]) -> str:
    gone = f", {detail['gone']} gone" if detail.get("gone") else ""
    return (
        f"  <- #{detail.get('sequence')} {detail.get('language')}: delivered to "
        f"{_plural(detail.get('delivered', 0), 'listener')}{gone} "
        f"in {float(detail.get('durationMs', 0)):.0f} ms"
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from polycast_kit.local.runtime import PortInUse

    configure_logging(args.log_level)
    terminate_on_sigterm()
    talk = args.talk or sample_talk()
    try:
        lines = talk.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        print(f"polycast demo: cannot read the talk {talk}: {exc}", file=sys.stderr)
        return 2
    runtime = build_runtime(args)
    try:
        endpoints = runtime.start()
    except PortInUse as exc:
        print(f"polycast demo: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    streamer: threading.Thread | None = None
    tap: EventTap | None = None
    try:
        print(endpoints.describe(), file=out)
        session_id = args.session or new_session_id()
        url = f"{endpoints.listener_page}?sessionId={session_id}&targetLanguage={args.language}"
        print(f"\nDemo session {session_id}. Open the listener page:\n\n    {url}\n", file=out)
        print(
            f"(or: polycast listen --session {session_id} --language fr)   Ctrl-C to stop.\n",
            file=out,
            flush=True,
        )
        import boto3

        kw: dict[str, Any] = {
            "endpoint_url": endpoints.aws_endpoint,
            "region_name": endpoints.region,
        }
        tap = EventTap(
            boto3.client("events", **kw),
            boto3.client("sqs", **kw),
            bus_name=endpoints.event_bus,
            detail_types=("BroadcastCompleted", "TranscriptRejected", "SessionEnded"),
        ).open()
        _print_speaker_session(boto3.client("dynamodb", **kw), endpoints.listener_page, out)
        producer = TranscriptProducer(boto3.client("kinesis", **kw), endpoints.transcript_stream)
        streamer = threading.Thread(
            target=_stream,
            args=(producer, lines, session_id),
            kwargs={"once": args.once, "speed": args.speed, "stop": stop, "out": out},
            name="demo-talk",
            daemon=True,
        )
        streamer.start()
        # Runs until Ctrl-C; with --once, until the session's end has been broadcast.
        deadline: float | None = None
        while deadline is None or time.monotonic() < deadline:
            for event in tap.receive(wait_seconds=1):
                detail = event.get("detail") or {}
                if detail.get("sessionId") != session_id:
                    continue
                kind = event.get("detail-type")
                if kind == "BroadcastCompleted":
                    print(_delivery_line(detail), file=out, flush=True)
                elif kind == "TranscriptRejected":
                    print(
                        f"  !! #{detail.get('sequence', '?')} rejected: {detail.get('code')}",
                        file=out,
                        flush=True,
                    )
                elif kind == "SessionEnded":
                    print("  session ended", file=out, flush=True)
                    deadline = min(deadline or math.inf, time.monotonic() + 2)
            if args.once and deadline is None and not streamer.is_alive():
                deadline = time.monotonic() + 15
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if streamer is not None:
            streamer.join(timeout=10)
        if tap is not None:
            tap.close()
        stop_runtime(runtime, out)
    return 0


def _print_speaker_session(ddb: Any, page: str, out: TextIO) -> None:
    """A second session to speak into yourself: the speaker page link and its listeners."""
    from polycast_kit.cli.session_cmd import create_session

    session_id = new_session_id()
    links = create_session(
        ddb, wiring.SESSIONS.local_name, page, session_id, source="en", languages=("es", "fr")
    )
    if links is None:
        return
    print(
        f"Speak yourself (a microphone on this computer) in session {session_id}:\n\n"
        f"    {links['speakerUrl']}\n\nand listen in Spanish at {links['listenerUrls']['es']}\n",
        file=out,
        flush=True,
    )
