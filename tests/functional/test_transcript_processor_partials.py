"""Live captions and captions only through the transcript processor handler on moto:
partial records become PartialReady (never synthesized, dropped after their final), and
a language whose listeners all read captions only is translated but not synthesized."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .test_transcript_processor import (
    A,
    Pipeline,
    failures,
    kinesis,
    running_pipeline,
    segments,
    transcript,
)


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with running_pipeline(monkeypatch) as running:
        yield running


def partial(session_id: str, sequence: int, stable: str, tail: str = " and") -> dict[str, Any]:
    body = {
        "type": "partial",
        "sessionId": session_id,
        "sequence": sequence,
        "sourceLanguage": "en",
        "text": stable + tail,
        "stableText": stable,
    }
    return kinesis(json.dumps(body).encode(), session_id)


def test_partial_records_become_partial_ready_and_are_never_synthesized(
    pipeline: Pipeline,
) -> None:
    pipeline.listen(A, "es", "fr")
    response = pipeline.invoke(
        {
            "Records": [
                partial(A, 1, "Good morning to you all,"),
                transcript(A, "Good morning to you all, and welcome.", 1),
                partial(A, 1, "Good morning to you all, and welcome."),  # after its final
            ]
        }
    )
    assert failures(response) == []
    events = pipeline.emitted()
    captions = sorted(
        (d["language"], d["text"], d.get("final", False)) for t, d in events if t == "PartialReady"
    )
    # The live captions, and each final caption ahead of its audio; nothing after.
    assert captions == [
        ("es", "[es] Good morning to you all,", False),
        ("es", "[es] Good morning to you all, and welcome.", True),
        ("fr", "[fr] Good morning to you all,", False),
        ("fr", "[fr] Good morning to you all, and welcome.", True),
    ]
    assert segments(events, A) == [(1, "es"), (1, "fr")]
    # Synthesized for the finals only: one per language.
    assert len(pipeline.synthesizer.calls) == 2


def test_a_language_whose_listeners_all_read_captions_only_is_not_synthesized(
    pipeline: Pipeline,
) -> None:
    pipeline.listen(A, "es", "fr")
    assert pipeline.listeners.set_audio(f"{A}-1=", False) is not None  # the fr listener
    response = pipeline.invoke({"Records": [transcript(A, "Hello everyone.", 1)]})
    assert failures(response) == []
    by_language = {d["language"]: d for t, d in pipeline.emitted() if t == "SegmentReady"}
    assert by_language["fr"]["audio"] is None
    assert by_language["fr"]["text"] == "[fr] Hello everyone."
    assert by_language["es"]["audio"] is not None
    assert [lang for lang, _ in pipeline.synthesizer.calls] == ["es"]
