"""requests-per-segment: AWS calls per segment, counted by botocore, on moto.

The processor and the broadcaster are built by ``polycast.composition`` (real
boto3 adapters, Powertools idempotency on DynamoDB) against ``moto.mock_aws``
with the resources of ``polycast_kit.local.resources.create_resources``. Translate
and Polly are the memory fakes (moto has no Translate) and are counted by
their own call lists. Every other call is counted by a handler on botocore's
``before-parameter-build`` event, registered for every new botocore session (as
moto registers its own stubber), per phase: setup and plumbing (reading the
broadcast queue, standing in for EventBridge → Lambda) are not counted. The
broadcaster's work for the final captions the processor publishes ahead of the
audio (``PartialReady``) is counted apart (``captions``), so ``broadcaster`` stays
the segments' fan-out.

ratio = processor calls per segment at the largest audience ÷ at the smallest;
bar = 1.0 (the processor's path does not grow with listeners).
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import botocore.handlers
from moto import mock_aws

from polycast import wiring
from polycast.adapters.aws.kinesis_records import stream_records
from polycast.composition import broadcaster_dependencies, processor_dependencies
from polycast_kit.bench.sizes import Progress, Size
from polycast_kit.bench.world import LambdaContext, kinesis_event, split_evenly, transcript
from polycast_kit.local.resources import create_resources, local_settings
from polycast_kit.testing.synthesizer import FakeSynthesizer
from polycast_kit.testing.translator import FakeTranslator

NAME = "requests-per-segment"
BAR = 1.0
SESSION = "bench-requests-1"
LANGUAGES = ("es", "fr", "de")
ENDPOINT = "https://bench.execute-api.us-east-1.amazonaws.com/prod"


class CallCounter:
    """Counts API calls per phase as ``service.Operation``; PutEvents entries and
    batch items are counted too (EventBridge bills entries, DynamoDB items)."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.calls: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        units = 1
        if model.name == "PutEvents":
            units = len(params.get("Entries") or ())
        elif model.name in ("BatchWriteItem", "BatchGetItem"):
            items = params.get("RequestItems") or {}
            units = sum(
                len(v) if isinstance(v, list) else len(v.get("Keys") or ()) for v in items.values()
            )
        with self._lock:
            counter = self.calls.setdefault(self.phase, Counter())
            counter[name] += 1
            if units != 1 or model.name in ("PutEvents", "BatchWriteItem", "BatchGetItem"):
                counter[f"{name}#units"] += units

    @contextmanager
    def installed(self) -> Iterator[CallCounter]:
        entry = ("before-parameter-build", self)
        botocore.handlers.BUILTIN_HANDLERS.append(entry)
        try:
            yield self
        finally:
            botocore.handlers.BUILTIN_HANDLERS.remove(entry)


@contextmanager
def _fake_credentials() -> Iterator[None]:
    names = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in [*names, "AWS_ENDPOINT_URL"]}
    os.environ.update(names)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def per_segment(counter: Counter[str], segments: int) -> dict[str, float]:
    return {name: round(n / segments, 4) for name, n in sorted(counter.items())}


def total_calls(calls: Mapping[str, float]) -> float:
    """API calls (not the ``#units`` tallies) of one phase."""
    return round(sum(n for name, n in calls.items() if "#" not in name), 4)


def measure(listeners: int, languages: tuple[str, ...], segments: int) -> dict[str, Any]:
    """Calls per segment for one audience, in a fresh moto world."""
    counter = CallCounter()
    settings = local_settings(api_gateway_endpoint=ENDPOINT)
    translator = FakeTranslator()
    synthesizer = FakeSynthesizer(engine="neural")
    with _fake_credentials(), mock_aws(), counter.installed():
        resources = create_resources(settings)
        processor = processor_dependencies(
            settings, translator=translator, synthesizer=synthesizer, max_language_workers=8
        )
        broadcaster = broadcaster_dependencies(settings)
        _listen(settings.sessions_table, settings.connections_table, listeners, languages)
        import boto3

        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = resources.queue_urls[wiring.BROADCAST_RULE.local_queue.logical_id]  # type: ignore[union-attr]
        try:
            for number in range(1, segments + 1):
                counter.phase = "processor"
                text = f"Sentence {number} of the request-counting talk, some eighty characters."
                result = processor.processor.process_batch(
                    stream_records(kinesis_event([transcript(SESSION, number, text)])),
                    LambdaContext(),
                )
                if result.failed:
                    raise RuntimeError(f"{NAME}: segment {number} failed")
                counter.phase = "plumbing"
                pending = _drain(sqs, queue)
                while pending:
                    event = pending.pop(0)
                    caption = event["detail-type"] == "PartialReady"
                    counter.phase = "captions" if caption else "broadcaster"
                    broadcaster.handle(event["detail-type"], event["detail"])
                    counter.phase = "plumbing"
                    pending.extend(_drain(sqs, queue))
        finally:
            processor.close()
    calls = {phase: per_segment(c, segments) for phase, c in counter.calls.items()}
    return {
        "listeners": listeners,
        "languages": list(languages),
        "segments": segments,
        "processor": {
            **calls.get("processor", {}),
            "translate.TranslateText": len(translator.calls) / segments,
            "polly.SynthesizeSpeech": len(synthesizer.calls) / segments,
        },
        "broadcaster": calls.get("broadcaster", {}),
        "captions": calls.get("captions", {}),
        "setupCalls": sum(
            n for name, n in counter.calls.get("setup", {}).items() if "#" not in name
        ),
    }


def _listen(
    sessions_table: str, connections_table: str, listeners: int, languages: tuple[str, ...]
) -> None:
    """Setup, not counted: the session item with its counts, and the Connections items."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    counts = split_evenly(listeners, languages)
    ddb.put_item(
        TableName=sessions_table,
        Item={
            "sessionId": {"S": SESSION},
            "status": {"S": "active"},
            "sourceLanguage": {"S": "en"},
            "listenerCount": {"N": str(listeners)},
            "languageCounts": {"M": {lang: {"N": str(n)} for lang, n in counts.items()}},
            "lastSequence": {"N": "0"},
        },
    )
    items: list[Any] = [
        {
            "PutRequest": {
                "Item": {
                    "connectionId": {"S": f"{lang}-{i:06d}="},
                    "sessionId": {"S": SESSION},
                    "targetLanguage": {"S": lang},
                    "connectedAt": {"N": "0"},
                    "paused": {"BOOL": False},
                    "expiresAt": {"N": "4102444800"},
                }
            }
        }
        for lang, n in counts.items()
        for i in range(n)
    ]
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={connections_table: items[start : start + 25]})


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = got.get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def ratio_of(result: Mapping[str, Any]) -> float:
    sizes = result["sizes"]
    return total_calls(sizes[-1]["processor"]) / total_calls(sizes[0]["processor"])


def run(size: Size, progress: Progress) -> dict[str, Any]:
    audiences = (10, 1000, 10_000) if size == "full" else (10, 100, 300)
    segments = 2
    sizes = []
    for listeners in audiences:
        progress(f"{NAME}: {listeners} listeners")
        sizes.append(measure(listeners, LANGUAGES, segments))
    # One more at the smallest audience and one language: the per-language share of
    # each count, which `polycast cost` needs to scale to other language counts.
    progress(f"{NAME}: {audiences[0]} listeners, 1 language")
    one_language = measure(audiences[0], LANGUAGES[:1], segments)
    result: dict[str, Any] = {"sizes": sizes, "oneLanguage": one_language}
    ratio = ratio_of(result)
    return {
        "ratio": round(ratio, 4),
        "bar": BAR,
        "barKind": "max",
        "pass": ratio <= BAR,
        "processorCallsPerSegment": [total_calls(s["processor"]) for s in sizes],
        "broadcasterCallsPerSegment": [total_calls(s["broadcaster"]) for s in sizes],
        **result,
    }
