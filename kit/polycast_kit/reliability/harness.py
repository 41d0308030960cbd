"""The real services, in-process, under injected faults: every segment accounted for.

Kinesis is a hand-written in-memory stream read by the local runtime's own
:class:`KinesisPoller` (batches, ``batchItemFailures`` checkpoints, retries, the
on-failure queue); the transcript processor and the broadcaster are the real
services on the memory fakes, each port wrapped by :mod:`.faults`. Events travel
through :class:`FaultyBus`; a failed broadcaster invocation is retried twice, as
Lambda retries an asynchronous invocation, and then dead-lettered with its reason.

Everything runs on one thread per service, so a seed reproduces a run exactly.

Accounting, per segment (session, sequence, language) — *owed* to every listener
still connected at the end:

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
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, cast

from polycast import wiring
from polycast.adapters.aws.kinesis_records import stream_records
from polycast.domain.models import Connection
from polycast.services.broadcaster import Broadcaster
from polycast.services.orchestrator import Orchestrator
from polycast.services.processor import TranscriptProcessor
from polycast.services.rate_governor import ServiceLimits
from polycast.services.translation_cache import TranslationCache
from polycast_kit.local.kinesis_poller import KinesisPoller
from polycast_kit.reliability.faults import FaultPlan, FaultyBus, FaultyPort, FaultySender
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.idempotency import MemoryPersistenceLayer
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

BROADCASTER_EVENTS = frozenset({"SegmentReady", "BroadcastSlice", "SessionEnded"})
ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice


class MemoryKinesis:
    """The four Kinesis calls the poller makes, on an in-memory single-shard stream."""

    shard_id = "shardId-000000000000"
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/polycast-transcripts"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def put(self, partition_key: str, data: bytes) -> str:
        sequence = f"4959{len(self.records) + 1:052d}"
        self.records.append(
            {
                "SequenceNumber": sequence,
                "PartitionKey": partition_key,
                "Data": data,
                "ApproximateArrivalTimestamp": time.time(),
            }
        )
        return sequence

    def describe_stream_summary(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescriptionSummary": {"StreamARN": self.arn}}

    def list_shards(self, **_: Any) -> dict[str, Any]:
        return {"Shards": [{"ShardId": self.shard_id}]}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, *, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        batch = self.records[start : start + Limit]
        return {"Records": batch, "NextShardIterator": str(start + len(batch))}


class MemoryQueue:
    """``send_message`` of the on-failure queue."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_message(self, *, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.messages.append(json.loads(MessageBody))
        return {"MessageId": str(len(self.messages))}


class ListenerPlayback:
    """The listener page's rule (``reorder.js`` ``SegmentOrder``), without the clock.

    The first segment seen sets where the listener starts; segments are played in
    ``sequence`` order, each sequence once; one after a gap is held until the gap
    fills. One that arrives after its turn has passed is *late*: shown, not played.
    (The page also skips a gap still open after 3 s; here gaps are held to the end,
    then what is held is played in order.)
    """

    def __init__(self) -> None:
        self.played: list[int] = []
        self.late = 0
        self._held: set[int] = set()
        self._seen: set[int] = set()
        self._next: int | None = None

    def receive(self, sequence: int) -> None:
        if sequence in self._seen:
            return  # a repeat: dropped
        self._seen.add(sequence)
        if self._next is None:
            self._next = sequence
        if sequence < self._next:
            self.late += 1
            return
        self._held.add(sequence)
        while self._next in self._held:
            self._held.discard(self._next)
            self.played.append(self._next)
            self._next += 1

    def finish(self) -> list[int]:
        """Play what is still held, in order (gaps that never filled are skipped)."""
        self.played.extend(sorted(self._held))
        self._held.clear()
        return self.played


@dataclass(frozen=True)
class Scenario:
    fault: str
    rate: float
    ports: frozenset[str] | None = None  # None: every port the fault applies to
    sessions: int = 3
    transcripts: int = 12
    listeners: tuple[tuple[str, int], ...] = (("es", 3), ("fr", 2), ("de", 2))
    slice_size: int = 2  # small, so the es audience is split across invocations
    seed: int = 6

    @property
    def label(self) -> str:
        where = "all ports" if self.ports is None else ", ".join(sorted(self.ports))
        return f"{self.fault} {self.rate:.0%} ({where})"


@dataclass
class Tally:
    """The figures of one run (one row of ``docs/reliability.md``)."""

    scenario: Scenario
    segments_sent: int = 0
    delivered: int = 0
    recorded_failed: int = 0
    lost: int = 0
    duplicates_sent: int = 0
    duplicates_heard: int = 0
    out_of_order_sent: int = 0
    out_of_order_heard: int = 0
    late: int = 0  # arrived after the listener had played past them (shown, not played)
    faults_injected: int = 0
    on_failure_records: int = 0
    dead_letters: int = 0
    listeners_left: int = 0
    counts_consistent: bool = True
    failures: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "fault": self.scenario.fault,
            "rate": self.scenario.rate,
            "segmentsSent": self.segments_sent,
            "delivered": self.delivered,
            "recordedFailed": self.recorded_failed,
            "lost": self.lost,
            "duplicatesSent": self.duplicates_sent,
            "duplicatesHeard": self.duplicates_heard,
            "outOfOrderSent": self.out_of_order_sent,
            "outOfOrderHeard": self.out_of_order_heard,
            "late": self.late,
            "faultsInjected": self.faults_injected,
            "onFailureRecords": self.on_failure_records,
            "deadLetters": self.dead_letters,
            "listenersLeft": self.listeners_left,
            "countsConsistent": self.counts_consistent,
        }


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class ReliabilityRun:
    """One scenario: build the pipeline, play the talk, account for every segment."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        kind = scenario.fault
        ports = scenario.ports
        if ports is None:
            ports = frozenset({"sender"}) if kind == "gone" else None
        if kind == "redelivery":
            # Partial batch failures (Kinesis retries) come from a throttled Translate.
            ports = frozenset({"translator"})
        self.plan = FaultPlan(kind, scenario.rate, seed=scenario.seed)
        if ports is not None:
            self.plan.ports = ports
        plan = self.plan

        self.sessions_store = MemorySessionStore()
        self.connection_store = MemoryConnectionStore(page_size=2)
        self.sender = RecordingSender()
        self.bus = FaultyBus(plan)
        self.kinesis = MemoryKinesis()
        self.on_failure = MemoryQueue()
        self.dead_letters: list[tuple[str, dict[str, Any], str]] = []
        self.results: list[tuple[str, dict[str, Any], Any]] = []
        self._attempts: Counter[int] = Counter()  # failed invocations per delivered event

        def port(inner: Any, name: str) -> Any:
            return FaultyPort(inner, plan, name)

        translator_plan = plan
        if kind == "redelivery":
            translator_plan = FaultPlan("throttling", scenario.rate, seed=scenario.seed + 1)
            translator_plan.ports = frozenset({"translator"})
            self._translator_plan: FaultPlan | None = translator_plan
        else:
            self._translator_plan = None
        sessions = port(self.sessions_store, "sessions")
        self.orchestrator = Orchestrator(
            sessions=sessions,
            translator=FaultyPort(FakeTranslator(), translator_plan, "translator"),
            synthesizer=port(FakeSynthesizer(engine="neural"), "synthesizer"),
            fallback_synthesizers=[port(FakeSynthesizer(engine="standard"), "synthesizer")],
            cache=TranslationCache(port(MemoryTranslationCacheStore(), "translation_cache")),
            audio=port(MemoryAudioStore(), "audio"),
            publisher=self.bus,
            audio_bucket="polycast-audio",
            max_workers=1,
            limits=ServiceLimits.unlimited(),
        )
        self.processor = TranscriptProcessor(
            orchestrator=self.orchestrator,
            sessions=sessions,
            publisher=self.bus,
            idempotency_store=MemoryPersistenceLayer,
            max_parallel_sessions=1,
        )
        self.broadcaster = Broadcaster(
            connections=port(self.connection_store, "connections"),
            sessions=sessions,
            segments=port(MemorySegmentLog(), "segments"),
            sender=cast(Any, FaultySender(self.sender, plan)),
            publisher=self.bus,
            audio=port(MemoryAudioStore(), "audio"),
            max_concurrent=1,
            audience_slice_size=scenario.slice_size,
        )
        self.poller = KinesisPoller(
            self.kinesis,
            self.on_failure,
            stream_name="polycast-transcripts",
            function=self,
            on_failure_queue_url="memory://on-failure",
            source=wiring.KinesisSource(batch_size=8, max_record_age_seconds=0),
        )

    # -- the function the poller invokes (the transcript processor) ----------------

    @property
    def arn(self) -> str:
        return "arn:aws:lambda:us-east-1:123456789012:function:polycast-TranscriptProcessor"

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.processor.process_batch(stream_records(event), _Context()).response()

    # -- the run -------------------------------------------------------------------

    def session_id(self, n: int) -> str:
        return f"steady-heron-{100 + n}"

    def setup(self) -> None:
        """Sessions and listeners, as the connection handlers would leave them."""
        for n in range(self.scenario.sessions):
            session = self.session_id(n)
            self.sessions_store.start(session, "en")
            for language, count in self.scenario.listeners:
                for k in range(count):
                    cid = f"{session}-{language}-{k}="
                    self.connection_store.put(Connection(cid, session, language, 1))
                    self.sessions_store.add_listener(session, language)

    def talk(self) -> None:
        """The transcripts, interleaved across sessions, as producers put them."""
        for seq in range(1, self.scenario.transcripts + 1):
            for n in range(self.scenario.sessions):
                body = {
                    "sessionId": self.session_id(n),
                    "sequence": seq,
                    "sourceLanguage": "en",
                    "transcriptText": f"Sentence {seq} of talk {n}. It matters.",
                    "emotionDynamics": {"emotion": "happy", "intensity": 0.7},
                }
                self.kinesis.put(self.session_id(n), json.dumps(body).encode())

    def deliver_events(self) -> bool:
        """One delivery round of the bus; True when something was delivered."""
        events = self.bus.take()
        attempts = self._attempts
        for detail_type, detail in events:
            if detail_type not in BROADCASTER_EVENTS:
                continue
            key = id(detail)
            try:
                result = self.broadcaster.handle(detail_type, detail)
            except Exception as exc:
                attempts[key] += 1
                if attempts[key] > ASYNC_RETRIES:
                    self.dead_letters.append((detail_type, detail, type(exc).__name__))
                else:
                    self.bus.redeliver((detail_type, detail))
                continue
            self.results.append((detail_type, detail, result))
        return bool(events)

    def run(self, max_rounds: int = 10_000) -> Tally:
        self.setup()
        self.talk()
        self.plan.enabled = True
        if self._translator_plan is not None:
            self._translator_plan.enabled = True
        self.poller.open_shards()
        shard = MemoryKinesis.shard_id
        for _ in range(max_rounds):
            polled = self.poller.poll_once(shard) is not None
            delivered = self.deliver_events()
            if not polled and not delivered:
                break
        self.plan.enabled = False
        if self._translator_plan is not None:
            self._translator_plan.enabled = False
        self.processor.close()
        self.orchestrator.close()
        return self.tally()

    # -- accounting ----------------------------------------------------------------

    def tally(self) -> Tally:
        scenario = self.scenario
        tally = Tally(scenario)
        tally.faults_injected = sum(self.plan.injected.values()) + (
            sum(self._translator_plan.injected.values()) if self._translator_plan else 0
        )
        tally.on_failure_records = len(self.on_failure.messages)
        tally.dead_letters = len(self.dead_letters)

        received: dict[str, list[int]] = defaultdict(list)
        for cid, frames in self.sender.delivered.items():
            for frame in frames:
                message = json.loads(frame)
                if message.get("type") == "segment":
                    received[cid].append(int(message["sequence"]))

        failed_records = self._given_up()
        dead = {
            (d["sessionId"], int(d["sequence"]), d["language"])
            for t, d, _ in self.dead_letters
            if "sequence" in d
        }
        failed_posts: Counter[tuple[str, int, str]] = Counter()
        for _, detail, result in self.results:
            if getattr(result, "failed", 0):
                key = (detail["sessionId"], int(detail["sequence"]), detail["language"])
                failed_posts[key] += result.failed

        remaining = {
            c.connection_id: c
            for n in range(scenario.sessions)
            for page in self.connection_store.listeners(self.session_id(n))
            for c in page
        }
        tally.listeners_left = sum(c for _, c in scenario.listeners) * scenario.sessions - len(
            remaining
        )
        for n in range(scenario.sessions):
            session_id = self.session_id(n)
            session = self.sessions_store.get(session_id)
            here = Counter(c.language for c in remaining.values() if c.session_id == session_id)
            counts = {k: v for k, v in (session.language_counts if session else {}).items() if v}
            if (
                session is None
                or counts != dict(here)
                or session.listener_count != sum(here.values())
            ):
                tally.counts_consistent = False
                tally.failures.append(f"{session_id}: counts {counts} but connections {dict(here)}")

        for n in range(scenario.sessions):
            session_id = self.session_id(n)
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
                    elif (
                        (session_id, seq) in failed_records
                        or key in dead
                        or failed_posts[key] >= len(missing)
                    ):
                        tally.recorded_failed += 1
                    else:
                        tally.lost += 1
                        tally.failures.append(f"lost: {key} for {len(missing)} listener(s)")

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
        return tally

    def _given_up(self) -> set[tuple[str, int]]:
        """(session, sequence) of every record the on-failure queue holds."""
        by_sequence = {r["SequenceNumber"]: r for r in self.kinesis.records}
        order = [r["SequenceNumber"] for r in self.kinesis.records]
        out: set[tuple[str, int]] = set()
        for message in self.on_failure.messages:
            info = message["KinesisBatchInfo"]
            start = order.index(info["startSequenceNumber"])
            end = order.index(info["endSequenceNumber"])
            for seq in order[start : end + 1]:
                body = json.loads(by_sequence[seq]["Data"])
                out.add((body["sessionId"], int(body["sequence"])))
        return out


def run_scenario(scenario: Scenario) -> Tally:
    return ReliabilityRun(scenario).run()


RATES: tuple[float, ...] = (0.01, 0.05, 0.10, 0.30)


def table_scenarios(rates: Sequence[float] = RATES, seed: int = 6) -> list[Scenario]:
    """The rows of ``docs/reliability.md``."""
    rows = [Scenario("none", 0.0, seed=seed)]
    for fault in ("throttling", "5xx", "timeout", "gone", "redelivery"):
        rows.extend(Scenario(fault, rate, seed=seed) for rate in rates)
    return rows


WHERE = {
    "throttling": "every port",
    "5xx": "every port",
    "timeout": "every port",
    "gone": "Sender",
    "redelivery": "Translate + bus",
    "none": "",
}


def markdown_table(tallies: Sequence[Tally]) -> str:
    head = (
        "| fault | rate | where | segments sent | delivered | recorded failed | lost "
        "| duplicates (sent / heard) | out of order (sent / heard) | late | faults injected |\n"
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for t in tallies:
        s = t.scenario
        rows.append(
            f"| {s.fault} | {s.rate:.0%} | {WHERE.get(s.fault, '')} | {t.segments_sent} "
            f"| {t.delivered} | {t.recorded_failed} | {t.lost} "
            f"| {t.duplicates_sent} / {t.duplicates_heard} "
            f"| {t.out_of_order_sent} / {t.out_of_order_heard} | {t.late} "
            f"| {t.faults_injected} |"
        )
    return head + "\n".join(rows) + "\n"
