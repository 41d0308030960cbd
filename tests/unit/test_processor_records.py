"""The transcript processor's refusals and other entry points: bad records become
TranscriptRejected with a reason and are not retried (unless the bus refused the
rejection); KPL aggregates are unpacked in order and failures reported by their
parent; the seed's direct invoke processes one transcript or names the missing field.
"""

from __future__ import annotations

import json

import pytest

from polycast.errors import MissingField
from polycast_kit.testing.events import MemoryEventPublisher
from tests.unit.processor_world import (
    A,
    ScriptedTranslator,
    World,
    aggregate,
    batch,
    failures,
    kinesis,
    make_world,
    record,
    world_fixture,
)

world = pytest.fixture(world_fixture, name="world")


BAD_RECORDS: list[tuple[str, bytes, str]] = [
    ("not json", b"{not json", "INVALID_RECORD"),
    ("not an object", b"[1, 2]", "INVALID_RECORD"),
    (
        "wrong type",
        json.dumps({"sessionId": A, "sourceLanguage": "en", "transcriptText": 42}).encode(),
        "INVALID_RECORD",
    ),
    (
        "unknown language",
        json.dumps({"sessionId": A, "sourceLanguage": "xx", "transcriptText": "Hi"}).encode(),
        "UNSUPPORTED_LANGUAGE",
    ),
    (
        "empty text",
        json.dumps({"sessionId": A, "sourceLanguage": "en", "transcriptText": "   "}).encode(),
        "INVALID_RECORD",
    ),
    (
        "oversize text",
        json.dumps(
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "a" * 12_000}
        ).encode(),
        "TRANSCRIPT_TOO_LONG",
    ),
    (
        "missing field",
        json.dumps({"sessionId": A, "sourceLanguage": "en"}).encode(),
        "MISSING_FIELD",
    ),
    ("unknown type", json.dumps({"type": "karaoke", "sessionId": A}).encode(), "INVALID_RECORD"),
]


@pytest.mark.parametrize(("name", "data", "code"), BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS])
def test_bad_records_are_rejected_with_a_reason_and_not_retried(
    world: World, name: str, data: bytes, code: str
) -> None:
    world.listen(A, es=1)
    bad = kinesis(data, A)
    good = record(A, "Fine.", 5)
    result = world.run(batch(bad, good))
    assert failures(result.response()) == []
    rejected = world.events("TranscriptRejected")
    assert len(rejected) == 1
    assert rejected[0]["code"] == code
    assert rejected[0]["recordId"] == bad["kinesis"]["sequenceNumber"]
    assert rejected[0]["reason"]
    assert "a" * 50 not in rejected[0]["reason"]  # the reason never quotes the text
    assert world.segments(A) == [(5, "es")]  # the session went on
    assert result.rejected == 1


def test_data_that_is_not_base64_is_rejected(world: World) -> None:
    bad = kinesis(b"", A)
    bad["kinesis"]["data"] = "***not base64***"
    result = world.run(batch(bad))
    assert failures(result.response()) == []
    assert world.events("TranscriptRejected")[0]["code"] == "INVALID_RECORD"


def test_a_rejection_the_bus_refuses_is_retried() -> None:
    w = make_world(publisher=MemoryEventPublisher(fail_when=lambda t, d: t == "TranscriptRejected"))
    bad = kinesis(b"{nope", A)
    assert failures(w.run(batch(bad)).response()) == [bad["kinesis"]["sequenceNumber"]]


def test_kpl_aggregated_records_are_unpacked_in_order(world: World) -> None:
    world.listen(A, es=1)
    bodies = [
        {"sessionId": A, "sourceLanguage": "en", "transcriptText": f"part {n}", "sequence": n}
        for n in (1, 2, 3)
    ]
    agg = aggregate(A, bodies)
    del agg["kinesis"]["approximateArrivalTimestamp"]  # the deaggregator's silent trap
    result = world.run(batch(agg))
    assert failures(result.response()) == []
    assert world.segments(A) == [(1, "es"), (2, "es"), (3, "es")]


def test_a_failing_sub_record_is_reported_by_its_parent_sequence_number() -> None:
    translator = ScriptedTranslator()
    w = make_world(translator)
    w.listen(A, es=1)
    agg = aggregate(
        A,
        [
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "ok", "sequence": 1},
            {"sessionId": A, "sourceLanguage": "en", "transcriptText": "FAIL", "sequence": 2},
        ],
    )
    response = w.run(batch(agg)).response()
    assert failures(response) == [agg["kinesis"]["sequenceNumber"]]
    assert w.segments(A) == [(1, "es")]
    translator.failing = False
    assert failures(w.run(batch(agg)).response()) == []
    assert w.segments(A) == [(1, "es"), (2, "es")]  # sub-record 1 not emitted twice


def test_bad_sub_record_ids_carry_the_sub_sequence_number(world: World) -> None:
    agg = aggregate(A, [{"sessionId": A, "sourceLanguage": "en", "transcriptText": ""}])
    world.run(batch(agg))
    rejected = world.events("TranscriptRejected")
    assert rejected[0]["recordId"] == f"{agg['kinesis']['sequenceNumber']}:0"


def test_direct_invoke_processes_one_transcript(world: World) -> None:
    world.listen(A, es=1, fr=1)
    outcome = world.direct(
        {
            "sessionId": A,
            "sourceLanguage": "en",
            "transcriptText": "Hello everyone, this is important news.",
            "emotionDynamics": {
                "emotion": "happy",
                "intensity": 0.8,
                "rateWpm": 150,
                "volumeLevel": "normal",
            },
        }
    )
    assert outcome.languages_processed == 2
    assert outcome.listener_count == 2
    assert outcome.sequence == 1
    assert sorted(world.segments(A)) == [(1, "es"), (1, "fr")]


def test_direct_invoke_names_the_missing_field(world: World) -> None:
    with pytest.raises(MissingField) as err:
        world.direct({"sessionId": A, "sourceLanguage": "en"})
    assert err.value.field == "transcriptText"
