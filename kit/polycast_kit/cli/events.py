"""``polycast events tail``: the pipeline's EventBridge events as they happen.

Each tail opens its own tap: a rule on the bus with an SQS queue target, removed
again on exit (Ctrl-C or SIGTERM), so several tails (and ``polycast demo``) can run
side by side, on the local runtime or on AWS. A tap's queue carries a ``lastSeen``
tag its tail refreshes every minute; at start a tail removes taps not seen for ten
minutes (left by a tail that was killed). One line per event, never transcript text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from polycast import wiring
from polycast_kit.cli.endpoints import add_target_arguments, resolve_target
from polycast_kit.cli.local_cmd import terminate_on_sigterm

TAP_PREFIX = "polycast-tap-"
HEARTBEAT_SECONDS = 60
STALE_AFTER_SECONDS = 600


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
        extra_pattern: Mapping[str, Any] | None = None,
    ) -> None:
        self.events = events
        self.sqs = sqs
        self.bus_name = bus_name
        self.detail_types = tuple(detail_types)
        self.extra_pattern = dict(extra_pattern or {})  # e.g. one session's detail
        self.name = name or f"{TAP_PREFIX}{secrets.token_hex(4)}"
        self.queue_url: str | None = None
        self._seen_at = 0.0

    def open(self) -> EventTap:
        self.queue_url = self.sqs.create_queue(
            QueueName=self.name, tags={"lastSeen": str(int(time.time()))}
        )["QueueUrl"]
        self._seen_at = time.monotonic()
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        pattern: dict[str, Any] = {"source": [wiring.SOURCE]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        pattern.update(self.extra_pattern)
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

    def heartbeat(self) -> None:
        """Refresh ``lastSeen`` (once a minute): a live tap is never swept."""
        if self.queue_url is None or time.monotonic() - self._seen_at < HEARTBEAT_SECONDS:
            return
        self.sqs.tag_queue(QueueUrl=self.queue_url, Tags={"lastSeen": str(int(time.time()))})
        self._seen_at = time.monotonic()

    def receive(self, wait_seconds: int = 1) -> list[dict[str, Any]]:
        assert self.queue_url is not None, "open() first"
        self.heartbeat()
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        messages = response.get("Messages", [])
        if messages:
            # One call for the whole receive (at most 10, SQS's batch limit).
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )
        out = []
        for message in messages:
            try:
                event = json.loads(message["Body"])
            except ValueError:
                continue
            out.append(event)
        return out

    def close(self) -> None:
        self._remove(self.queue_url)
        self.queue_url = None

    def _remove(self, queue_url: str | None) -> None:
        try:
            self.events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["tap"])
            self.events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        except Exception:  # noqa: S110 - best effort on the way out
            pass
        if queue_url:
            with contextlib.suppress(Exception):
                self.sqs.delete_queue(QueueUrl=queue_url)

    def __enter__(self) -> EventTap:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def sweep_stale_taps(
    events: Any,
    sqs: Any,
    *,
    bus_name: str = wiring.BUS_NAME,
    now: float | None = None,
    stale_after: float = STALE_AFTER_SECONDS,
) -> list[str]:
    """Remove taps whose tail stopped refreshing ``lastSeen``; returns their names."""
    now = time.time() if now is None else now
    rules = events.list_rules(NamePrefix=TAP_PREFIX, EventBusName=bus_name).get("Rules", [])
    swept = []
    for rule in rules:
        name = str(rule["Name"])
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            seen = float(tags.get("lastSeen", 0))
        except Exception:  # no queue (or unreadable tags): the rule alone is left over
            url, seen = None, 0.0
        if now - seen < stale_after:
            continue
        EventTap(events, sqs, bus_name=bus_name, name=name)._remove(url)
        swept.append(name)
    return swept


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


def _segment_ready(detail: dict[str, Any]) -> str:
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


def _broadcast_completed(detail: dict[str, Any]) -> str:
    return (
        f"delivered {detail.get('delivered', 0)}, gone {detail.get('gone', 0)}, "
        f"failed {detail.get('failed', 0)} in {float(detail.get('durationMs', 0)):.0f} ms"
    )


def _listeners(detail: dict[str, Any]) -> str:
    return (
        f"{_plural(detail.get('listenerCount'), 'listener')}, "
        f"{detail.get('languageCount', '?')} in this language"
    )


# One line of detail per event type (an unknown type shows none).
DETAILS: dict[str, Callable[[dict[str, Any]], str]] = {
    "SegmentReady": _segment_ready,
    "BroadcastCompleted": _broadcast_completed,
    "ListenerJoined": _listeners,
    "ListenerLeft": _listeners,
    "SessionPaused": lambda d: str(d.get("reason") or "paused by the speaker")[:60],
    "SessionResumed": lambda d: "resumed by the speaker",
    "SessionStarted": lambda d: f"source {d.get('sourceLanguage', '?')}",
    "SessionEnded": lambda d: str(d.get("reason", ""))[:60],
    "TranscriptRejected": lambda d: f"{d.get('code', '?')}: {str(d.get('reason', ''))[:80]}",
}


def _details(kind: str, detail: dict[str, Any]) -> str:
    line = DETAILS.get(kind)
    return line(detail) if line else ""


def _plural(count: object, noun: str) -> str:
    if count is None:
        return f"? {noun}s"
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    terminate_on_sigterm()  # SIGTERM takes Ctrl-C's path, so the tap is removed
    try:
        swept = sweep_stale_taps(tap.events, tap.sqs, bus_name=target.bus)
        if swept:
            print(f"removed {len(swept)} stale tap(s) left by stopped tails", file=out)
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
