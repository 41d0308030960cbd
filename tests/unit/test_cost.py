"""The cost arithmetic, against figures computed by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from polycast_kit.bench.cost import (
    Assumptions,
    RequestModel,
    estimate,
    session_hour,
    split_listeners,
)
from polycast_kit.bench.prices import PRICES, Prices

FREE = Prices(**dict.fromkeys(Prices.__dataclass_fields__, 0.0))
# The finals alone: captions priced by their own test below.
FINALS = {
    "live_captions_per_segment": 0.0,
    "live_caption_extra_chars": 0.0,
    "final_captions_per_segment": 0.0,
}


def model(**kw: object) -> RequestModel:
    base: dict[str, object] = {
        "processor_fixed": {},
        "processor_per_language": {},
        "broadcaster_per_invocation": {},
        "posts_per_listener": 1.0,
    }
    base.update(kw)
    return RequestModel(**base)  # type: ignore[arg-type]


def test_message_size_follows_the_audio() -> None:
    a = Assumptions()
    # 5.3 s × 48 kbit/s = 31,800 bytes; base64 42,400; + 2 × 80 text + 300 envelope.
    assert a.audio_bytes == 31_800
    assert a.message_bytes == 42_860
    assert a.segments_per_hour == 720


def test_translate_and_polly_are_priced_per_character_per_language() -> None:
    prices = replace(FREE, translate_char_per_million=10.0, polly_neural_char_per_million=20.0)
    m = model(processor_per_language={"translate.TranslateText": 1, "polly.SynthesizeSpeech": 1})
    a = Assumptions(segments_per_minute=1, chars_per_segment=100, **FINALS)  # type: ignore[arg-type]
    cost = session_hour(m, 10, 3, prices=prices, a=a)
    # 60 segments × 3 languages × 100 characters = 18,000 characters.
    assert cost["translate"] == pytest.approx(18_000 * 10 / 1e6)  # 0.18
    assert cost["polly"] == pytest.approx(18_000 * 20 / 1e6)  # 0.36
    standard = session_hour(
        m,
        10,
        3,
        prices=replace(prices, polly_standard_char_per_million=4.0),
        a=replace(a, polly_engine="standard"),
    )
    assert standard["polly"] == pytest.approx(18_000 * 4 / 1e6)
    half = session_hour(m, 10, 3, prices=prices, a=replace(a, translation_cache_hit_rate=0.5))
    assert half["translate"] == pytest.approx(0.09)


def test_websocket_messages_are_billed_per_32_kb_plus_minutes_and_pings() -> None:
    cost = session_hour(model(), 500, 3, prices=PRICES, a=Assumptions(**FINALS))  # type: ignore[arg-type]
    # 720 segments × 500 posts × 2 units (42,860 B) × $1/M = 0.72
    # + 500 listeners × 60 min × $0.25/M = 0.0075 + 500 × 12 pings × $1/M = 0.006
    assert cost["apigateway"] == pytest.approx(0.72 + 0.0075 + 0.006)


def test_kinesis_is_a_shard_hour_plus_put_payload_units() -> None:
    cost = session_hour(model(), 10, 1, prices=PRICES, a=Assumptions())
    assert cost["kinesis"] == pytest.approx(0.015 + 720 * 0.014 / 1e6)
    shared = session_hour(model(), 10, 1, prices=PRICES, a=Assumptions(sessions_per_shard=10))
    assert shared["kinesis"] == pytest.approx(0.0015 + 720 * 0.014 / 1e6)


def test_dynamodb_capacity_units_by_hand() -> None:
    m = model(
        processor_fixed={"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "dynamodb.UpdateItem": 1},
        processor_per_language={
            "dynamodb.BatchGetItem#units": 1,
            "dynamodb.BatchWriteItem#units": 1,
        },
        broadcaster_per_invocation={
            "dynamodb.GetItem": 1,
            "dynamodb.PutItem": 1,
            "dynamodb.UpdateItem": 1,
        },
    )
    cost = session_hour(m, 100, 1, prices=PRICES, a=Assumptions())
    # Per segment: RRU = 1 (session) + 0.5 (cache item) + 1 (broadcaster get)
    #   + 0.5 × ceil(100 × 200 B / 4 KB) = 2.5 (one GSI page)          → 5.0
    # WRU = 2 (idempotency) + 1 (cache item) + 42 KB × 2 (segment put + update) → 87
    # Per hour: listeners' connect/disconnect: 100 RRU, 600 WRU.
    expected = ((720 * 5 + 100) * 0.125 + (720 * 87 + 600) * 0.625) / 1e6
    assert cost["dynamodb"] == pytest.approx(expected)  # 0.0399875


def test_a_large_language_is_split_into_slices() -> None:
    m = model(broadcaster_per_invocation={"dynamodb.GetItem": 1, "events.PutEvents#units": 1})
    calls = m.broadcaster(5000, Assumptions())
    # 5,000 > 2,000: 3 slices + the splitter = 4 invocations; each slice reads 5 pages.
    assert calls["lambda.Invoke"] == 4
    assert calls["dynamodb.GetItem"] == 4
    assert calls["dynamodb.Query"] == 15
    assert calls["apigatewaymanagementapi.PostToConnection"] == 5000
    assert calls["events.PutEvents#units"] == 4 + 3  # BroadcastCompleted ×4… and 3 BroadcastSlice
    small = m.broadcaster(100, Assumptions())
    assert (small["lambda.Invoke"], small["dynamodb.Query"]) == (1, 1)


def test_lambda_gb_seconds_and_requests_by_hand() -> None:
    prices = replace(FREE, lambda_gb_second=1.0, lambda_request_per_million=1e6)  # $1 per request
    a = Assumptions(
        segments_per_minute=1,
        listener_connects_per_hour=0,
        listener_pings_per_hour=0,
        **FINALS,  # type: ignore[arg-type]
    )
    cost = session_hour(model(), 250, 1, prices=prices, a=a)
    # 60 segments × (1 processor + 1 broadcaster) requests = 120
    # processor 0.5 s × 1 GB; broadcaster ceil(250 / 100) × 0.025 + 0.05 = 0.125 s × 1 GB
    assert cost["lambda"] == pytest.approx(120 + 60 * (0.5 + 0.125))


def test_fit_from_counts_separates_fixed_and_per_language() -> None:
    scenario = {
        "oneLanguage": {
            "listeners": 10,
            "languages": ["es"],
            "processor": {"dynamodb.GetItem": 1, "s3.GetObject": 1},
            "broadcaster": {
                "dynamodb.Query": 1,
                "apigatewaymanagementapi.PostToConnection": 10,
                "dynamodb.PutItem": 1,
            },
        },
        "sizes": [
            {
                "listeners": 10,
                "languages": ["es", "fr", "de"],
                "processor": {"dynamodb.GetItem": 1, "s3.GetObject": 3},
                "broadcaster": {
                    "dynamodb.Query": 3,
                    "apigatewaymanagementapi.PostToConnection": 10,
                    "dynamodb.PutItem": 3,
                },
            }
        ],
    }
    m = RequestModel.from_bench(scenario)
    assert m.processor_fixed == {"dynamodb.GetItem": 1}
    assert m.processor_per_language == {"s3.GetObject": 1}
    assert m.broadcaster_per_invocation == {"dynamodb.PutItem": 1}
    assert m.posts_per_listener == 1
    assert m.check[0]["broadcasterModel"] == m.check[0]["broadcasterMeasured"] == 16


def test_estimate_divides_by_listeners_and_sums_services() -> None:
    result = estimate(model(), listeners=[10, 500], languages=[1, 3])
    assert len(result["estimates"]) == 4
    for row in result["estimates"]:
        assert row["sessionHour"] == pytest.approx(sum(row["byService"].values()), abs=1e-5)
        assert row["listenerHour"] == pytest.approx(row["sessionHour"] / row["listeners"], abs=1e-6)
    assert result["reference"] == {"listeners": 500, "listenerHour": 0.04}
    assert result["prices"]["asOf"]


def test_listeners_split_evenly() -> None:
    assert split_listeners(10, 3) == [4, 3, 3]
    assert sum(split_listeners(10_000, 7)) == 10_000
    assert math.isclose(sum(split_listeners(1, 1)), 1)


def test_live_captions_add_their_translation_messages_and_events_by_hand() -> None:
    prices = replace(
        FREE,
        translate_char_per_million=10.0,
        websocket_message_per_million=1.0,
        eventbridge_event_per_million=1.0,
    )
    m = model(processor_per_language={"translate.TranslateText": 1})
    a = Assumptions(
        segments_per_minute=1,
        chars_per_segment=100,
        live_captions_per_segment=0.5,
        live_caption_extra_chars=0.4,
        listener_connects_per_hour=0,
        listener_pings_per_hour=0,
    )
    cost = session_hour(m, 100, 2, prices=prices, a=a)
    # 60 segments × 2 languages × 100 characters × 1.4 = 16,800 characters.
    assert cost["translate"] == pytest.approx(16_800 * 10 / 1e6)
    # Posts: 60 × (100 segment posts × 2 units + 100 × (0.5 live + 1 final) caption
    # posts); minutes 100 × 60.
    assert cost["apigateway"] == pytest.approx(60 * (100 * 2 + 150) / 1e6)
    # PartialReady: 60 × 2 languages × 0.5.
    assert cost["eventbridge"] == pytest.approx(60 / 1e6)


def test_captions_only_listeners_skip_synthesis_and_audio_messages() -> None:
    prices = replace(FREE, polly_neural_char_per_million=20.0, websocket_message_per_million=1.0)
    m = model(processor_per_language={"polly.SynthesizeSpeech": 1})
    a = Assumptions(
        segments_per_minute=1,
        chars_per_segment=100,
        listener_connects_per_hour=0,
        listener_pings_per_hour=0,
        **FINALS,  # type: ignore[arg-type]
    )
    everyone = session_hour(m, 2, 1, prices=prices, a=replace(a, captions_only_share=1.0))
    assert everyone["polly"] == 0.0
    assert everyone["apigateway"] == pytest.approx(60 * 2 * 1 / 1e6)  # one 32 KB unit each
    half = session_hour(m, 2, 1, prices=prices, a=replace(a, captions_only_share=0.5))
    # The language is synthesized unless both listeners chose captions only: 1 - 0.5².
    assert half["polly"] == pytest.approx(60 * 100 * 20 / 1e6 * 0.75)
    assert half["apigateway"] == pytest.approx(60 * 2 * (0.5 * 2 + 0.5 * 1) / 1e6)


def test_the_estimate_shows_the_saving_of_a_caption_heavy_audience() -> None:
    result = estimate(model(processor_per_language={"polly.SynthesizeSpeech": 1}), languages=[3])
    (row,) = result["captionHeavy"]
    assert row["listeners"] == 500
    assert 0 < row["captionHeavy"]["saving"] < row["captionsOnly"]["saving"] < 1
