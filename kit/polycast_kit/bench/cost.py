"""Dollars per session-hour and per listener-hour, from counted requests and list prices.

The request model comes from the bench's ``requests-per-segment`` scenario
(botocore-counted calls on moto): what the processor calls per segment, fixed
and per language, and what one broadcaster invocation calls, per invocation and
per listener. It is scaled to any audience with the broadcaster's own rules
(one invocation per language, split into slices above ``slice_size``, GSI pages
of ``query_page_size``) and priced with :mod:`polycast_kit.bench.prices`. What the
counts cannot tell (sizes, durations, talk rate) is an :class:`Assumptions`
field, printed with every estimate. ``check`` holds the model against the
measured counts it was not fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from polycast import wiring
from polycast_kit.bench.prices import PRICES, Prices

REFERENCE_LISTENER_HOUR = 0.04  # dollars per listener-hour at 500 listeners
REFERENCE_LISTENERS = 500
# "Caption-heavy": this share of each language's listeners chose captions only.
CAPTION_HEAVY_SHARE = 0.9
SERVICES = (
    "translate",
    "polly",
    "apigateway",
    "lambda",
    "dynamodb",
    "eventbridge",
    "kinesis",
    "s3",
    "logs",
)


@dataclass(frozen=True)
class Assumptions:
    """What a talk looks like, and what the counts cannot say."""

    segments_per_minute: float = 12.0  # sentences per minute
    chars_per_segment: int = 80
    speech_seconds_per_segment: float = 5.3  # 80 characters at 150 wpm
    audio_kbit_per_second: float = 48.0  # Polly MP3, 24 kHz
    polly_engine: str = "neural"
    translation_cache_hit_rate: float = 0.0  # a live talk rarely repeats itself
    processor_seconds_per_segment: float = 0.5  # Translate 150 ms + Polly 300 ms + work
    broadcaster_overhead_seconds: float = 0.05
    post_seconds: float = 0.025
    concurrency: int = 100
    slice_size: int = 2000
    query_page_size: int = 1000
    connection_item_bytes: int = 200
    idempotency_item_kb: float = 1.0
    record_bytes: int = 600
    log_bytes_per_invocation: int = 2048
    listener_connects_per_hour: float = 1.0  # API Gateway closes connections at 2 h
    listener_pings_per_hour: float = 12.0
    connection_handler_seconds: float = 0.05
    sessions_per_shard: int = 1  # the worst case: each session pays a whole shard
    # Live captions (the partials bench scenario, docs/performance.md): captions sent per
    # segment and language, and the source characters they translate beyond the finals'.
    live_captions_per_segment: float = 0.86
    live_caption_extra_chars: float = 0.44
    live_caption_message_bytes: int = 250
    # The final caption the processor publishes ahead of the audio: one more caption
    # per segment and synthesized language (its PutEvents entry is in the processor's
    # counted calls; its broadcaster invocation and messages are priced here).
    final_captions_per_segment: float = 1.0
    # Listeners who chose captions only (the ``audio`` action, off), per language. A
    # language is synthesized unless ALL its listeners did (each independently: the
    # chance is share ** listeners); their segments travel without audio.
    captions_only_share: float = 0.0

    @property
    def segments_per_hour(self) -> float:
        return self.segments_per_minute * 60

    @property
    def audio_bytes(self) -> int:
        return math.ceil(self.speech_seconds_per_segment * self.audio_kbit_per_second * 1000 / 8)

    @property
    def text_message_bytes(self) -> int:
        """A segment message without audio (a captions-only listener's)."""
        return 2 * self.chars_per_segment + 300

    @property
    def message_bytes(self) -> int:
        """One segment message: base64 audio, text and source text, envelope."""
        return math.ceil(self.audio_bytes * 4 / 3) + 2 * self.chars_per_segment + 300


@dataclass
class RequestModel:
    """Calls per segment: processor fixed and per language; broadcaster per invocation."""

    processor_fixed: dict[str, float]
    processor_per_language: dict[str, float]
    broadcaster_per_invocation: dict[str, float]  # without Query and PostToConnection
    posts_per_listener: float
    source: str = "requests-per-segment"
    check: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_bench(cls, scenario: Mapping[str, Any]) -> RequestModel:
        """Fit on the smallest audience (one and several languages); check on the rest."""
        one = scenario["oneLanguage"]
        many = scenario["sizes"][0]
        k = len(many["languages"])
        ops = set(one["processor"]) | set(many["processor"])
        per_language = {
            op: (many["processor"].get(op, 0) - one["processor"].get(op, 0)) / (k - 1) for op in ops
        }
        fixed = {op: one["processor"].get(op, 0) - per_language[op] for op in ops}
        posts = one["broadcaster"].get("apigatewaymanagementapi.PostToConnection", 0)
        invocation = {
            op: n
            for op, n in one["broadcaster"].items()
            if op not in ("dynamodb.Query", "apigatewaymanagementapi.PostToConnection")
        }
        model = cls(
            processor_fixed=_clean(fixed),
            processor_per_language=_clean(per_language),
            broadcaster_per_invocation=invocation,
            posts_per_listener=posts / one["listeners"],
        )
        for size in scenario["sizes"]:
            langs = len(size["languages"])
            counts = [
                size["listeners"] // langs + (1 if i < size["listeners"] % langs else 0)
                for i in range(langs)
            ]
            model.check.append(
                {
                    "listeners": size["listeners"],
                    "languages": langs,
                    "processorMeasured": _calls(size["processor"]),
                    "processorModel": _calls(model.processor(langs)),
                    "broadcasterMeasured": _calls(size["broadcaster"]),
                    "broadcasterModel": _calls(
                        _add(*(model.broadcaster(n, Assumptions()) for n in counts))
                    ),
                }
            )
        return model

    def processor(self, languages: int) -> dict[str, float]:
        return _add(self.processor_fixed, _scale(self.processor_per_language, languages))

    def broadcaster(self, listeners: int, a: Assumptions) -> dict[str, float]:
        """Calls to deliver one segment to ``listeners`` of one language."""
        slices = math.ceil(listeners / a.slice_size) if listeners > a.slice_size else 1
        invocations = slices + (1 if slices > 1 else 0)  # the splitter only hands slices on
        pages = max(1, math.ceil(listeners / a.query_page_size))
        calls = _scale(self.broadcaster_per_invocation, invocations)
        calls["dynamodb.Query"] = pages * slices
        calls["apigatewaymanagementapi.PostToConnection"] = listeners * self.posts_per_listener
        if slices > 1:
            calls["events.PutEvents#units"] = calls.get("events.PutEvents#units", 0) + slices
        calls["lambda.Invoke"] = invocations
        return calls


def _clean(calls: Mapping[str, float]) -> dict[str, float]:
    return {op: round(n, 6) for op, n in sorted(calls.items()) if abs(n) > 1e-9}


def _scale(calls: Mapping[str, float], factor: float) -> dict[str, float]:
    return {op: n * factor for op, n in calls.items()}


def _add(*many: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for calls in many:
        for op, n in calls.items():
            out[op] = out.get(op, 0) + n
    return out


def _calls(calls: Mapping[str, float]) -> float:
    return round(sum(n for op, n in calls.items() if "#" not in op and op != "lambda.Invoke"), 3)


def split_listeners(listeners: int, languages: int) -> list[int]:
    base, extra = divmod(listeners, languages)
    return [base + (1 if i < extra else 0) for i in range(languages)]


def session_hour(
    model: RequestModel,
    listeners: int,
    languages: int,
    *,
    prices: Prices = PRICES,
    a: Assumptions = Assumptions(),
) -> dict[str, float]:
    """Dollars per session-hour by service, for ``listeners`` spread over ``languages``."""
    seg_h = a.segments_per_hour
    proc = model.processor(languages)
    audiences = split_listeners(listeners, languages)
    brd = [model.broadcaster(n, a) for n in audiences]
    both = _add(proc, *brd)
    million = 1_000_000.0
    cost = dict.fromkeys(SERVICES, 0.0)

    # Translate and Polly: characters, once per language (and per cache miss); live
    # captions translate their extra characters on top of the finals'.
    miss = 1 - a.translation_cache_hit_rate
    translated = proc.get("translate.TranslateText", 0) * a.chars_per_segment * miss
    translated *= 1 + a.live_caption_extra_chars
    cost["translate"] = seg_h * translated * prices.translate_char_per_million / million
    polly_price = (
        prices.polly_neural_char_per_million
        if a.polly_engine == "neural"
        else prices.polly_standard_char_per_million
    )
    # A language is synthesized unless every one of its listeners chose captions only.
    heard = sum(1 - a.captions_only_share**n for n in audiences) / max(1, languages)
    synthesized = proc.get("polly.SynthesizeSpeech", 0) * a.chars_per_segment  # tags unbilled
    cost["polly"] = seg_h * synthesized * heard * polly_price / million

    # API Gateway: each post is billed per 32 KB (a captions-only listener's segment has
    # no audio); captions (live, and the final one ahead of a synthesized language's
    # audio) are one small message each; connection minutes and pings.
    captions = a.live_captions_per_segment + heard * a.final_captions_per_segment
    units = (1 - a.captions_only_share) * math.ceil(a.message_bytes / (32 * 1024))
    units += a.captions_only_share * math.ceil(a.text_message_bytes / (32 * 1024))
    posts = both.get("apigatewaymanagementapi.PostToConnection", 0)
    caption_posts = listeners * captions
    cost["apigateway"] = (
        seg_h * (posts * units + caption_posts) * prices.websocket_message_per_million / million
        + listeners * 60 * prices.websocket_connection_minute_per_million / million
        + listeners * a.listener_pings_per_hour * prices.websocket_message_per_million / million
    )

    # Lambda: requests and GB-seconds (processor, broadcaster, connection handler).
    gb = {
        "processor": wiring.TRANSCRIPT_PROCESSOR.memory_mb / 1024,
        "broadcaster": wiring.BROADCASTER.memory_mb / 1024,
        "connections": wiring.CONNECTION_HANDLER.memory_mb / 1024,
    }
    broadcaster_seconds = 0.0
    invocations = 0.0
    for n, calls in zip(audiences, brd, strict=True):
        slices = calls["dynamodb.Query"] / max(1, math.ceil(n / a.query_page_size))
        per_slice = math.ceil(n / slices)
        invocations += calls["lambda.Invoke"]
        broadcaster_seconds += (
            slices
            * (
                math.ceil(per_slice / a.concurrency) * a.post_seconds
                + a.broadcaster_overhead_seconds
            )
            + (calls["lambda.Invoke"] - slices) * a.broadcaster_overhead_seconds
        )
    # Captions: one broadcaster invocation per caption and language.
    caption_invocations = languages * captions
    invocations += caption_invocations
    broadcaster_seconds += caption_invocations * a.broadcaster_overhead_seconds + sum(
        captions * math.ceil(n / a.concurrency) * a.post_seconds for n in audiences
    )
    handler_calls = listeners * (2 * a.listener_connects_per_hour + a.listener_pings_per_hour)
    cost["lambda"] = (
        (seg_h * (1 + invocations) + handler_calls) * prices.lambda_request_per_million / million
        + seg_h
        * (
            a.processor_seconds_per_segment * gb["processor"]
            + broadcaster_seconds * gb["broadcaster"]
        )
        * prices.lambda_gb_second
        + handler_calls * a.connection_handler_seconds * gb["connections"] * prices.lambda_gb_second
    )

    # DynamoDB: capacity units per call, from item sizes.
    segment_item_kb = math.ceil(a.message_bytes / 1024)
    rru = (
        proc.get("dynamodb.GetItem", 0)
        + 0.5 * proc.get("dynamodb.BatchGetItem#units", 0)
        + sum(c.get("dynamodb.GetItem", 0) for c in brd)
        + sum(
            0.5
            * c["dynamodb.Query"]
            * math.ceil(min(n, a.query_page_size) * a.connection_item_bytes / 4096)
            for n, c in zip(audiences, brd, strict=True)
        )
    )
    wru = (
        a.idempotency_item_kb
        * (proc.get("dynamodb.PutItem", 0) + proc.get("dynamodb.UpdateItem", 0))
        + proc.get("dynamodb.BatchWriteItem#units", 0)
        + segment_item_kb
        * sum(c.get("dynamodb.PutItem", 0) + c.get("dynamodb.UpdateItem", 0) for c in brd)
    )
    # Connection handlers: $connect reads the session, writes the connection (and its
    # index) and the count; $disconnect deletes (and the index) and counts out.
    listener_rru = listeners * a.listener_connects_per_hour * 1
    listener_wru = listeners * a.listener_connects_per_hour * (2 + 1 + 2 + 1)
    cost["dynamodb"] = (
        (seg_h * rru + listener_rru) * prices.dynamodb_rru_per_million
        + (seg_h * wru + listener_wru) * prices.dynamodb_wru_per_million
    ) / million

    # EventBridge: entries put (SegmentReady, BroadcastSlice, BroadcastCompleted, …),
    # and one PartialReady per live caption and language.
    entries = both.get("events.PutEvents#units", 0) + languages * a.live_captions_per_segment
    listener_events = listeners * a.listener_connects_per_hour * 2  # ListenerJoined/Left
    cost["eventbridge"] = (
        (seg_h * entries + listener_events) * prices.eventbridge_event_per_million / million
    )

    # Kinesis: a shard (shared by ``sessions_per_shard``) and one PUT payload unit per record.
    put_units = math.ceil(a.record_bytes / (25 * 1024))
    cost["kinesis"] = (
        prices.kinesis_shard_hour / a.sessions_per_shard
        + seg_h * put_units * prices.kinesis_put_payload_unit_per_million / million
    )

    # S3: the audio cache (a GET per language, a PUT per synthesized clip, GETs by slices).
    cost["s3"] = seg_h * (
        both.get("s3.PutObject", 0) * prices.s3_put_per_thousand / 1000
        + both.get("s3.GetObject", 0) * prices.s3_get_per_thousand / 1000
    )

    # CloudWatch Logs: a rough size per invocation (JSON logs and EMF metrics).
    log_invocations = seg_h * (1 + invocations) + handler_calls
    cost["logs"] = (
        log_invocations * a.log_bytes_per_invocation / 1024**3 * prices.logs_ingest_per_gb
    )
    return cost


def estimate(
    model: RequestModel,
    *,
    listeners: Sequence[int] = (10, 500, 10_000),
    languages: Sequence[int] = (1, 3, 10),
    prices: Prices = PRICES,
    a: Assumptions = Assumptions(),
) -> dict[str, Any]:
    """Every (listeners, languages) pair: by service per session-hour, totals, per listener-hour."""
    rows = []
    for n in listeners:
        for k in languages:
            by_service = session_hour(model, n, k, prices=prices, a=a)
            total = sum(by_service.values())
            rows.append(
                {
                    "listeners": n,
                    "languages": k,
                    "sessionHour": round(total, 6),
                    "listenerHour": round(total / n, 6),
                    "byService": {s: round(v, 6) for s, v in by_service.items()},
                }
            )
    heavy = replace(a, captions_only_share=CAPTION_HEAVY_SHARE)
    all_captions = replace(a, captions_only_share=1.0)
    caption_heavy = []
    for k in languages:
        base = sum(session_hour(model, REFERENCE_LISTENERS, k, prices=prices, a=a).values())
        row: dict[str, Any] = {"listeners": REFERENCE_LISTENERS, "languages": k}
        for key, variant in (("captionHeavy", heavy), ("captionsOnly", all_captions)):
            by = session_hour(model, REFERENCE_LISTENERS, k, prices=prices, a=variant)
            row[key] = {
                "share": variant.captions_only_share,
                "sessionHour": round(sum(by.values()), 6),
                "saving": round(1 - sum(by.values()) / base, 4) if base else 0.0,
            }
        caption_heavy.append({"sessionHour": round(base, 6), **row})
    return {
        "captionHeavy": caption_heavy,
        "reference": {"listeners": REFERENCE_LISTENERS, "listenerHour": REFERENCE_LISTENER_HOUR},
        "prices": prices.to_json(),
        "assumptions": {
            **asdict(a),
            "segmentsPerHour": a.segments_per_hour,
            "audioBytes": a.audio_bytes,
            "messageBytes": a.message_bytes,
        },
        "requestModel": {
            "source": model.source,
            "processorFixed": model.processor_fixed,
            "processorPerLanguage": model.processor_per_language,
            "broadcasterPerInvocation": model.broadcaster_per_invocation,
            "postsPerListener": model.posts_per_listener,
            "check": model.check,
        },
        "estimates": rows,
    }


def table(result: Mapping[str, Any]) -> str:
    """Per session-hour and per listener-hour, split by service, beside the reference."""
    head = ["listeners", "langs", "$/session-h", "$/listener-h", *SERVICES]
    rows = [head]
    for r in result["estimates"]:
        rows.append(
            [
                str(r["listeners"]),
                str(r["languages"]),
                f"{r['sessionHour']:.4f}",
                f"{r['listenerHour']:.6f}",
                *(f"{r['byService'][s]:.4f}" for s in SERVICES),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    ref = result["reference"]
    at_ref = [r for r in result["estimates"] if r["listeners"] == ref["listeners"]]
    lines.append("")
    lines.append(
        f"reference: ${ref['listenerHour']} per listener-hour at {ref['listeners']} listeners"
    )
    for r in at_ref:
        lines.append(
            f"  {r['languages']} language(s): ${r['listenerHour']:.4f} per listener-hour"
            f" ({r['listenerHour'] / ref['listenerHour']:.0%} of the reference)"
        )
    for r in result.get("captionHeavy", []):
        heavy, only = r["captionHeavy"], r["captionsOnly"]
        lines.append(
            f"  {r['languages']} language(s), {r['listeners']} listeners: "
            f"{heavy['share']:.0%} captions only saves {heavy['saving']:.0%}, "
            f"all captions only {only['saving']:.0%} (no synthesis)"
        )
    lines.append(f"prices: {result['prices']['region']}, as of {result['prices']['asOf']}")
    return "\n".join(lines)
