"""The real services, in-process, under injected faults: every segment accounted for.

Kinesis is an in-memory stream (:mod:`.streams`) read by the local runtime's own
:class:`KinesisPoller` (batches, ``batchItemFailures`` checkpoints, retries, the
on-failure queue); the transcript processor and the broadcaster are built by
``polycast.composition`` on the memory fakes, each port wrapped by :mod:`.faults`
and retried by that function's SDK clients (:mod:`.sdk`: botocore's standard mode
with the attempts ``polycast.adapters.aws.clients`` configures). Events travel
through :class:`FaultyBus` under each function's real ``EventBridgePublisher``; a
failed broadcaster invocation is retried twice, as Lambda retries an asynchronous
invocation, and then dead-lettered with its reason. :mod:`.accounting` then accounts
for every segment.

Everything runs on one thread per service, so a seed reproduces a run exactly.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, cast

from polycast import composition, wiring
from polycast.adapters.aws.kinesis_records import stream_records
from polycast.config import Settings
from polycast.domain.models import Connection
from polycast.services.rate_governor import ServiceLimits
from polycast_kit.local.kinesis_poller import KinesisPoller
from polycast_kit.reliability.accounting import tally
from polycast_kit.reliability.faults import FaultPlan, FaultyBus, FaultyPort, FaultySender
from polycast_kit.reliability.scenarios import Scenario, Tally
from polycast_kit.reliability.sdk import Sdk
from polycast_kit.reliability.streams import MemoryKinesis, MemoryQueue
from polycast_kit.testing.audio import MemoryAudioStore
from polycast_kit.testing.connections import MemoryConnectionStore
from polycast_kit.testing.idempotency import MemoryPersistenceLayer
from polycast_kit.testing.listeners import MemoryListenerRegistry
from polycast_kit.testing.segments import MemorySegmentLog
from polycast_kit.testing.sender import RecordingSender
from polycast_kit.testing.sessions import MemorySessionStore
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translation_cache import MemoryTranslationCacheStore
from polycast_kit.testing.translator import FakeTranslator

BROADCASTER_EVENTS = frozenset({"SegmentReady", "BroadcastSlice", "PartialReady", "SessionEnded"})
ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice


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
        self.registry = MemoryListenerRegistry(self.connection_store, self.sessions_store)
        self.sender = RecordingSender()
        self.bus = FaultyBus(plan)
        self.kinesis = MemoryKinesis()
        self.on_failure = MemoryQueue()
        self.dead_letters: list[tuple[str, dict[str, Any], str]] = []
        self.results: list[tuple[str, dict[str, Any], Any]] = []
        self._attempts: Counter[int] = Counter()  # failed invocations per delivered event

        # Each function has its own SDK clients (retry quotas); both use one bus.
        self.processor_sdk = Sdk(seed=scenario.seed)
        self.broadcaster_sdk = Sdk(seed=scenario.seed + 100)
        processor_sdk, broadcaster_sdk = self.processor_sdk, self.broadcaster_sdk

        def port(inner: Any, name: str, sdk: Sdk = processor_sdk) -> Any:
            return FaultyPort(inner, plan, name, sdk)

        self.translator_plan: FaultPlan | None = None
        translator_plan = plan
        if kind == "redelivery":
            translator_plan = FaultPlan("throttling", scenario.rate, seed=scenario.seed + 1)
            translator_plan.ports = frozenset({"translator"})
            self.translator_plan = translator_plan

        # The services as every deployed function builds them (polycast.composition),
        # on the memory fakes, each port behind the plan; one worker each, no backoff
        # sleeps, so a seed reproduces a run.
        settings = Settings(max_concurrent_broadcasts=1, audience_slice_size=scenario.slice_size)
        deps = composition.build_processor(
            settings,
            composition.ProcessorPorts(
                sessions=port(self.sessions_store, "sessions"),
                translator=FaultyPort(
                    FakeTranslator(), translator_plan, "translator", processor_sdk
                ),
                synthesizer=port(FakeSynthesizer(engine="neural"), "synthesizer"),
                fallback_synthesizers=[port(FakeSynthesizer(engine="standard"), "synthesizer")],
                translation_cache=port(MemoryTranslationCacheStore(), "translation_cache"),
                audio=port(MemoryAudioStore(), "audio"),
                publisher=self.bus.publisher(),
                idempotency_store=MemoryPersistenceLayer,
            ),
            limits=ServiceLimits.unlimited(),
            max_language_workers=1,
            max_parallel_sessions=1,
        )
        self.orchestrator = deps.orchestrator
        self.processor = deps.processor
        # No pacing: every partial is captioned (the most for ordering to go wrong).
        self.processor.live_captions.min_interval = 0.0
        self.broadcaster = composition.build_broadcaster(
            settings,
            composition.ListenerPorts(
                sessions=port(self.sessions_store, "sessions", broadcaster_sdk),
                connections=port(self.connection_store, "connections", broadcaster_sdk),
                listeners=port(self.registry, "listeners", broadcaster_sdk),
                segments=port(MemorySegmentLog(), "segments", broadcaster_sdk),
                sender=cast(Any, FaultySender(self.sender, plan, broadcaster_sdk)),
                publisher=self.bus.publisher(),
                audio=port(MemoryAudioStore(), "audio", broadcaster_sdk),
            ),
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
                    self.registry.admit(Connection(cid, session, language, 1))

    def talk(self) -> None:
        """The transcripts, interleaved across sessions, as producers put them."""
        for seq in range(1, self.scenario.transcripts + 1):
            for n in range(self.scenario.sessions):
                if self.scenario.partials:
                    self._partials(n, seq)
                body = {
                    "sessionId": self.session_id(n),
                    "sequence": seq,
                    "sourceLanguage": "en",
                    "transcriptText": f"Sentence {seq} of talk {n}. It matters.",
                    "emotionDynamics": {"emotion": "happy", "intensity": 0.7},
                }
                self.kinesis.put(self.session_id(n), json.dumps(body).encode())

    def _partials(self, n: int, seq: int) -> None:
        """The live captions of one sentence as the recognizer would grow them."""
        words = f"Sentence {seq} of talk {n}, it matters, really and truly, to us".split()
        for stable in (5, 7, 10):  # captions at 5 and 10 words (clause ends)
            body = {
                "type": "partial",
                "sessionId": self.session_id(n),
                "sequence": seq,
                "sourceLanguage": "en",
                "text": " ".join(words[: stable + 1]),
                "stableText": " ".join(words[:stable]),
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
        if self.translator_plan is not None:
            self.translator_plan.enabled = True
        self.poller.open_shards()
        shard = MemoryKinesis.shard_id
        for _ in range(max_rounds):
            polled = self.poller.poll_once(shard) is not None
            delivered = self.deliver_events()
            if not polled and not delivered:
                break
        self.plan.enabled = False
        if self.translator_plan is not None:
            self.translator_plan.enabled = False
        self.processor.close()
        self.orchestrator.close()
        return self.tally()

    def tally(self) -> Tally:
        return tally(self)


def run_scenario(scenario: Scenario) -> Tally:
    return ReliabilityRun(scenario).run()
