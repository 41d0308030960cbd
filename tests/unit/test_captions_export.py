"""Caption exports: timings from the segments' own times, never their index."""

from __future__ import annotations

import json

import srt
import webvtt

from polycast import schemas
from polycast.domain.captions_export import cues, render
from polycast.domain.models import Session
from polycast_kit.cli.session_show import summarize


def _detail(sequence: int, text: str, **times: object) -> dict[str, object]:
    return {
        "sessionId": "a-1",
        "sequence": sequence,
        "language": "es",
        "text": text,
        "sourceText": f"src {sequence}",
        **times,
    }


def test_timestamps_place_cues_relative_to_the_first_and_gaps_are_kept() -> None:
    details = [
        _detail(2, "dos palabras", spokenAt="2026-11-29T14:00:10Z"),
        _detail(1, "uno", spokenAt="2026-11-29T14:00:00.500Z"),
        _detail(3, "tres", emittedAt="2026-11-29T14:01:00.000Z"),  # no spokenAt: emitted
        _detail(1, "uno", spokenAt="2026-11-29T14:00:00.500Z"),  # a redelivery
    ]
    got = cues(details)
    assert [(c.sequence, c.start_ms, c.end_ms) for c in got] == [
        (1, 0, 1500),  # reading time, at least 1.5 s
        (2, 9500, 11000),
        (3, 59500, 61000),
    ]
    assert [c.text for c in cues(details, source=True)] == ["src 1", "src 2", "src 3"]


def test_measured_times_win_and_a_cue_never_runs_into_the_next() -> None:
    details = [
        _detail(1, "una frase bastante larga que se lee despacio", startMs=1000),
        _detail(2, "otra", startMs=2000, endMs=2600),
    ]
    assert [(c.start_ms, c.end_ms) for c in cues(details)] == [(1000, 2000), (2000, 2600)]


def test_writers_parse_with_well_kept_parsers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    items = cues(
        [
            _detail(1, "Hola -->\n\nmundo", startMs=0, endMs=1200),
            _detail(2, "Adiós", startMs=3723004),
        ]
    )
    parsed = list(srt.parse(render(items, "srt", session_id="a-1", language="es")))
    assert [p.content for p in parsed] == ["Hola -> mundo", "Adiós"]
    assert parsed[1].start.total_seconds() == 3723.004
    path = tmp_path / "es.vtt"
    path.write_text(render(items, "vtt", session_id="a-1", language="es"))
    assert [c.start for c in webvtt.read(str(path))] == ["00:00:00.000", "01:02:03.004"]
    schemas.validate(
        "exports/transcript", json.loads(render(items, "json", session_id="a-1", language="es"))
    )


def test_summary_counts_come_from_the_events() -> None:
    session = Session("a-1", "en", status="ended", created_at=100, ended_at=400, languages=("es",))
    events = [
        {"detail-type": "ListenerJoined", "detail": {"language": "es", "languageCount": 1}},
        {"detail-type": "ListenerJoined", "detail": {"language": "es", "languageCount": 2}},
        {"detail-type": "ListenerLeft", "detail": {"language": "es", "languageCount": 1}},
        {"detail-type": "ListenerJoined", "detail": {"language": "es", "languageCount": 2}},
        {"detail-type": "SegmentReady", "detail": {"language": "es", "sequence": 1, "audio": None}},
        {"detail-type": "SegmentReady", "detail": {"language": "es", "sequence": 1, "audio": None}},
        {"detail-type": "BroadcastCompleted", "detail": {"language": "es", "failed": 1, "gone": 2}},
        {"detail-type": "TranscriptRejected", "detail": {"code": "TRANSCRIPT_TOO_LONG"}},
    ]
    summary = summarize(session, events)
    assert summary["durationSeconds"] == 300
    assert summary["segments"] == 1
    assert summary["languages"]["es"] == {
        "segments": 1,
        "peakListeners": 2,
        "totalListeners": 3,
        "left": 1,
        "deliveryFailures": 1,
        "goneDuringDelivery": 2,
        "audioMissing": 1,
        "emotionHintsReplaced": 0,
    }
    assert summary["rejectedTranscripts"] == {"TRANSCRIPT_TOO_LONG": 1}
