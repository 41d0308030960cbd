"""``polycast events tail``: the pipeline's EventBridge events as they happen.

Each tail opens its own tap: a rule on the bus with an SQS queue target, removed
again on exit, so several tails (and ``polycast demo``) can run side by side, on
the local runtime or on AWS. One line per event, never transcript text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from polycast import wiring
from polycast_kit.cli.endpoints import add_target_arguments, resolve_target


class EventTap:
    """A private rule + queue on the bus that receives copies of polycast events."""

    def __init__(
        self,
        events: Any,
        sqs: Any,
        *,
        bus_name: str = wiring.BUS_NAME,
        detail_types: Iterable[str] = (),
        name: str | None = None,
    ) -> None:
        self.events = events
        self.sqs = sqs
        self.bus_name = bus_name
        self.detail_types = tuple(detail_types)
        self.name = name or f"polycast-tap-{secrets.token_hex(4)}"
        self.queue_url: str | None = None

    def open(self) -> EventTap:
        self.queue_url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        pattern: dict[str, Any] = {"source": [wiring.SOURCE]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        rule_arn = self.events.put_rule(
            Name=self.name,
            EventBusName=self.bus_name,
            EventPattern=json.dumps(pattern),
            State="ENABLED",
            Description="polycast events tail (temporary)",
        )["RuleArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)}
        )
        self.events.put_targets(
            Rule=self.name, EventBusName=self.bus_name, Targets=[{"Id": "tap", "Arn": arn}]
        )
        return self

    def receive(self, wait_seconds: int = 1) -> list[dict[str, Any]]:
        assert self.queue_url is not None, "open() first"
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        out = []
        for message in response.get("Messages", []):
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            try:
                event = json.loads(message["Body"])
            except ValueError:
                continue
            out.append(event)
        return out

    def close(self) -> None:
        try:
            self.events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["tap"])
            self.events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        except Exception:  # noqa: S110 - best effort on the way out
            pass
        if self.queue_url:
            with contextlib.suppress(Exception):
                self.sqs.delete_queue(QueueUrl=self.queue_url)
        self.queue_url = None

    def __enter__(self) -> EventTap:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def summarize(event: dict[str, Any]) -> str:
    """One line: time, detail-type, session, sequence, language, a short summary."""
    detail = event.get("detail") or {}
    kind = str(event.get("detail-type", "?"))
    stamp = str(event.get("time", ""))
    with contextlib.suppress(ValueError):
        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%H:%M:%S")
    sequence = detail.get("sequence")
    parts = [
        stamp,
        f"{kind:<18}",
        f"{detail.get('sessionId', '-'):<24}",
        f"#{sequence}" if sequence is not None else "-",
        str(detail.get("language", "-")),
    ]
    parts.append(_details(kind, detail))
    return "  ".join(p for p in parts if p is not None)


def _details(kind: str, detail: dict[str, Any]) -> str:
    if kind == "SegmentReady":
        audio = detail.get("audio")
        if isinstance(audio, dict) and "data" in audio:
            how = f"audio {len(str(audio['data'])) * 3 // 4 // 1024} KB inline"
        elif isinstance(audio, dict):
            how = "audio by reference"
        else:
            how = "no audio"
        timings = detail.get("timings") or {}
        times = ", ".join(f"{k} {float(v):.0f} ms" for k, v in sorted(timings.items()))
        return f"{how}{'; ' + times if times else ''}"
    if kind == "BroadcastCompleted":
        return (
            f"delivered {detail.get('delivered', 0)}, gone {detail.get('gone', 0)}, "
            f"failed {detail.get('failed', 0)} in {float(detail.get('durationMs', 0)):.0f} ms"
        )
    if kind in ("ListenerJoined", "ListenerLeft"):
        return (
            f"{detail.get('listenerCount', '?')} listeners, "
            f"{detail.get('languageCount', '?')} in this language"
        )
    if kind == "SessionStarted":
        return f"source {detail.get('sourceLanguage', '?')}"
    if kind == "SessionEnded":
        return str(detail.get("reason", ""))[:60]
    if kind == "TranscriptRejected":
        return f"{detail.get('code', '?')}: {str(detail.get('reason', ''))[:80]}"
    return ""


# -- command -------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "events",
        help="the pipeline's EventBridge events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="events_command", required=True)
    tail = sub.add_parser("tail", help="print events as they happen (Ctrl-C to stop)")
    tail.add_argument(
        "--type",
        action="append",
        dest="types",
        metavar="DETAIL_TYPE",
        choices=wiring.EVENT_TYPES,
        help="only this detail-type (repeatable)",
    )
    tail.add_argument("--session", help="only this session")
    tail.add_argument("--json", action="store_true", help="print the events as JSON lines")
    tail.add_argument("--timeout", type=float, help="stop after this many seconds")
    add_target_arguments(tail)
    tail.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    target = resolve_target(args, needs=("bus",))
    tap = EventTap(
        target.client("events"),
        target.client("sqs"),
        bus_name=target.bus,
        detail_types=args.types or (),
    )
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        tap.open()
        print(f"tailing events on bus {target.bus} (Ctrl-C to stop)", file=out, flush=True)
        while deadline is None or time.monotonic() < deadline:
            for event in tap.receive():
                if args.session and (event.get("detail") or {}).get("sessionId") != args.session:
                    continue
                if args.json:
                    from polycast_kit.local.event_queues import redact

                    print(json.dumps(redact(event)), file=out, flush=True)
                else:
                    print(summarize(event), file=out, flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        tap.close()
    return 0
