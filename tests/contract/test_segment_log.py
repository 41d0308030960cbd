"""SegmentLog: MemorySegmentLog and DynamoSegmentLog (moto) keep one contract."""

from __future__ import annotations

from polycast.domain.events import segment_from_detail, segment_ready
from polycast.domain.models import AudioRef, Segment

from .conftest import Stores

SESSION = "golden-eagle-427"


def segment(sequence: int, language: str = "es", *, audio: AudioRef | None = None) -> Segment:
    return Segment(
        SESSION,
        sequence,
        language,
        "en",
        f"Hola {sequence}",
        f"Hello {sequence}",
        audio,
        {"translateMs": 12.5, "synthesizeMs": 80.0},
    )


def test_record_is_once_per_session_language_and_sequence(stores: Stores) -> None:
    log = stores.segments
    assert log.record(segment(1), ttl_seconds=60) is True
    assert log.record(segment(1), ttl_seconds=60) is False  # a redelivered event
    assert log.record(segment(1, "fr"), ttl_seconds=60) is True
    assert log.record(segment(2), ttl_seconds=60) is True


def test_since_returns_what_was_recorded_in_order(stores: Stores) -> None:
    log = stores.segments
    inline = AudioRef(format="mp3", data_b64="SUQzAAAA", size=6)
    referenced = AudioRef(format="mp3", bucket="polycast-audio", key="audio/ab.mp3", size=90_000)
    recorded = [segment(3, audio=inline), segment(1, audio=referenced), segment(2), segment(4)]
    for item in recorded:
        log.record(item, ttl_seconds=60)
    log.record(segment(5, "fr"), ttl_seconds=60)

    # What was recorded, as its SegmentReady detail carries it (inline audio: no size).
    assert log.since(SESSION, "es", 0) == [
        segment_from_detail(segment_ready(s)) for s in sorted(recorded, key=lambda s: s.sequence)
    ]
    assert [s.sequence for s in log.since(SESSION, "es", 2)] == [3, 4]
    assert [s.sequence for s in log.since(SESSION, "es", 0, limit=2)] == [1, 2]
    assert log.since(SESSION, "es", 4) == []
    assert log.since(SESSION, "de", 0) == []
    assert log.since("no-such-session-1", "es", 0) == []


def test_delivered_marks_the_whole_audience_or_each_slice(stores: Stores) -> None:
    log = stores.segments
    log.record(segment(1), ttl_seconds=60)
    log.record(segment(2), ttl_seconds=60)
    assert log.is_delivered(SESSION, "es", 1) is False
    assert log.is_delivered(SESSION, "es", 9) is False  # never recorded

    log.mark_delivered(segment(1))
    assert log.is_delivered(SESSION, "es", 1) is True
    assert log.is_delivered(SESSION, "fr", 1) is False
    assert log.is_delivered(SESSION, "es", 1, audience_slice=(0, 2)) is False

    log.mark_delivered(segment(2), audience_slice=(1, 3))
    assert log.is_delivered(SESSION, "es", 2, audience_slice=(1, 3)) is True
    assert log.is_delivered(SESSION, "es", 2, audience_slice=(0, 3)) is False
    assert log.is_delivered(SESSION, "es", 2) is False  # one slice is not the whole
    log.mark_delivered(segment(2), audience_slice=(0, 3))
    assert log.is_delivered(SESSION, "es", 2, audience_slice=(0, 3)) is True
    assert log.is_delivered(SESSION, "es", 2, audience_slice=(1, 3)) is True
