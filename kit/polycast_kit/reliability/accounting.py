"""Accounting for a reliability run: every segment delivered, recorded failed, or lost.

Per segment (session, sequence, language) — *owed* to every listener still
connected at the end:

* **delivered**: every owed listener received it;
* **recorded failed**: otherwise, when a failure was recorded with a reason — the
  record on the on-failure queue, a dead-lettered broadcaster event, or failed
  deliveries in the broadcaster's result (its ``BroadcastSuccessRate`` metric);
* **lost**: neither (must be zero).

Duplicates and out-of-order are counted twice: as *sent* (frames the server
posted: a listener receiving a sequence again, or a lower one after a higher one)
and as *heard*: what a client applying the documented rule plays — segments in
``sequence`` order, each sequence once (``docs/listener-page.md``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING

from polycast_kit.reliability.playback import ListenerPlayback
from polycast_kit.reliability.scenarios import Tally

if TYPE_CHECKING:
    from polycast.domain.models import Connection
    from polycast_kit.reliability.harness import ReliabilityRun

Segment = tuple[str, int, str]  # (session, sequence, language)


def tally(run: ReliabilityRun) -> Tally:
    """Account for every segment of a finished run (see the module docstring)."""
    tally = Tally(run.scenario)
    _count_retries(run, tally)
    remaining = {
        c.connection_id: c
        for n in range(run.scenario.sessions)
        for page in run.connection_store.listeners(run.session_id(n))
        for c in page
    }
    _check_counts(run, tally, remaining)
    received = _received(run, tally)
    _account_segments(run, tally, remaining, received)
    _account_playback(tally, received)
    return tally


def _count_retries(run: ReliabilityRun, tally: Tally) -> None:
    """Faults injected, what retried them, and what was given up on."""
    tally.faults_injected = sum(run.plan.injected.values()) + (
        sum(run.translator_plan.injected.values()) if run.translator_plan else 0
    )
    tally.sdk_retries = run.processor_sdk.retries + run.broadcaster_sdk.retries
    tally.backoff_seconds = (
        run.processor_sdk.backoff_seconds
        + run.broadcaster_sdk.backoff_seconds
        + run.bus.backoff_seconds
    )
    tally.on_failure_records = len(run.on_failure.messages)
    tally.dead_letters = len(run.dead_letters)


def _received(run: ReliabilityRun, tally: Tally) -> dict[str, list[int]]:
    """The segment sequences each connection was sent, in the order posted; live
    captions checked on the way (never after their segment, never twice)."""
    received: dict[str, list[int]] = defaultdict(list)
    for cid, frames in run.sender.delivered.items():
        finals: set[int] = set()
        captions: set[tuple[int, str]] = set()
        for frame in frames:
            message = json.loads(frame)
            if message.get("type") == "segment":
                received[cid].append(int(message["sequence"]))
                finals.add(int(message["sequence"]))
            elif message.get("type") == "partial":
                # Live captions: never after their segment, never the same one twice.
                tally.partials_sent += 1
                sequence = int(message["sequence"])
                if any(seq >= sequence for seq in finals):
                    tally.partials_after_segment += 1
                    tally.failures.append(f"partial after its segment: {cid} #{sequence}")
                if (sequence, message["text"]) in captions:
                    tally.partials_twice += 1
                    tally.failures.append(f"partial twice: {cid} #{sequence}")
                captions.add((sequence, message["text"]))
    return received


def _check_counts(run: ReliabilityRun, tally: Tally, remaining: dict[str, Connection]) -> None:
    """The sessions' listener counts against the connections left."""
    scenario = run.scenario
    everyone = sum(c for _, c in scenario.listeners) * scenario.sessions
    tally.listeners_left = everyone - len(remaining)
    for n in range(scenario.sessions):
        session_id = run.session_id(n)
        session = run.sessions_store.get(session_id)
        here = Counter(c.language for c in remaining.values() if c.session_id == session_id)
        counts = {k: v for k, v in (session.language_counts if session else {}).items() if v}
        if session is None or counts != dict(here) or session.listener_count != sum(here.values()):
            tally.counts_consistent = False
            tally.failures.append(f"{session_id}: counts {counts} but connections {dict(here)}")


def _recorded_failures(run: ReliabilityRun) -> Callable[[Segment, int], bool]:
    """Whether a segment that missed ``missing`` listeners has its failure on record."""
    failed_records = _given_up(run)
    dead = {
        (d["sessionId"], int(d["sequence"]), d["language"])
        for _, d, _ in run.dead_letters
        if "sequence" in d
    }
    failed_posts: Counter[Segment] = Counter()
    for _, detail, result in run.results:
        if getattr(result, "failed", 0):
            key = (detail["sessionId"], int(detail["sequence"]), detail["language"])
            failed_posts[key] += result.failed

    def recorded(key: Segment, missing: int) -> bool:
        return key[:2] in failed_records or key in dead or failed_posts[key] >= missing

    return recorded


def _account_segments(
    run: ReliabilityRun,
    tally: Tally,
    remaining: dict[str, Connection],
    received: dict[str, list[int]],
) -> None:
    """Each segment: delivered to every listener owed it, recorded failed, or lost."""
    scenario = run.scenario
    recorded = _recorded_failures(run)
    for n in range(scenario.sessions):
        session_id = run.session_id(n)
        for language, _ in scenario.listeners:
            owed = [
                cid
                for cid, c in remaining.items()
                if c.session_id == session_id and c.language == language
            ]
            for seq in range(1, scenario.transcripts + 1):
                tally.segments_sent += 1
                missing = [cid for cid in owed if seq not in received.get(cid, [])]
                key = (session_id, seq, language)
                if not missing:
                    tally.delivered += 1
                elif recorded(key, len(missing)):
                    tally.recorded_failed += 1
                else:
                    tally.lost += 1
                    tally.failures.append(f"lost: {key} for {len(missing)} listener(s)")


def _account_playback(tally: Tally, received: dict[str, list[int]]) -> None:
    """Duplicates and disorder as sent, and as a client applying the rule hears them."""
    for sequences in received.values():
        tally.duplicates_sent += len(sequences) - len(set(sequences))
        highest = 0
        for seq in sequences:
            if seq < highest:
                tally.out_of_order_sent += 1
            highest = max(highest, seq)
        playback = ListenerPlayback()
        for seq in sequences:
            playback.receive(seq)
        played = playback.finish()
        tally.late += playback.late
        tally.duplicates_heard += len(played) - len(set(played))
        tally.out_of_order_heard += sum(1 for a, b in pairwise(played) if b <= a)


def _given_up(run: ReliabilityRun) -> set[tuple[str, int]]:
    """(session, sequence) of every record the on-failure queue holds."""
    by_sequence = {r["SequenceNumber"]: r for r in run.kinesis.records}
    order = [r["SequenceNumber"] for r in run.kinesis.records]
    out: set[tuple[str, int]] = set()
    for message in run.on_failure.messages:
        info = message["KinesisBatchInfo"]
        start = order.index(info["startSequenceNumber"])
        end = order.index(info["endSequenceNumber"])
        for seq in order[start : end + 1]:
            body = json.loads(by_sequence[seq]["Data"])
            out.add((body["sessionId"], int(body["sequence"])))
    return out
