"""Emotion hints are advisory: a sentence is never lost for a cosmetic hint.

Unknown words, wrong types and out-of-range values fall back to the defaults, are
named on the delivered SegmentReady (``hintsReplaced``) and counted; common words
(``whisper``, ``shout``, ``joyful``) are mapped. A created session's listeners hear
its first sentence.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from polycast import schemas
from polycast.domain.emotion_hints import read_emotion
from polycast.domain.models import EmotionDynamics
from polycast.domain.records import parse_record
from polycast.domain.ssml import build_ssml
from tests.unit.processor_world import World, batch, kinesis, make_world

SESSION = "golden-eagle-427"


def transcript(**emotion: Any) -> dict[str, Any]:
    return {
        "sessionId": SESSION,
        "sourceLanguage": "en",
        "transcriptText": "Can you hear me?",
        "emotionDynamics": emotion,
    }


@pytest.mark.parametrize(
    ("hint", "replaced"),
    [
        ({"volumeLevel": "murmur"}, ["emotionDynamics.volumeLevel"]),
        ({"volumeLevel": 3}, ["emotionDynamics.volumeLevel"]),
        ({"intensity": "high"}, ["emotionDynamics.intensity"]),
        ({"intensity": 7}, ["emotionDynamics.intensity"]),
        ({"rateWpm": 9000}, ["emotionDynamics.rateWpm"]),
        ({"rateWpm": True}, ["emotionDynamics.rateWpm"]),
        ({"emotion": "melancholic-ish"}, ["emotionDynamics.emotion"]),
        ({"pitch": "+5%"}, ["emotionDynamics.pitch"]),
    ],
)
def test_a_bad_hint_falls_back_to_its_default_and_is_named(
    hint: dict[str, Any], replaced: list[str]
) -> None:
    parsed = parse_record(json.dumps(transcript(**hint)))
    assert parsed.text == "Can you hear me?"  # type: ignore[union-attr]
    assert list(parsed.hints_replaced) == replaced  # type: ignore[union-attr]
    assert parsed.emotion == EmotionDynamics()  # type: ignore[union-attr]


def test_emotion_dynamics_of_the_wrong_type_is_replaced_whole() -> None:
    parsed = parse_record(json.dumps({**transcript(), "emotionDynamics": "loud"}))
    assert parsed.hints_replaced == ("emotionDynamics",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "volume", "emotion"),
    [
        ({"volumeLevel": "whisper"}, "whisper", "neutral"),
        ({"volumeLevel": "Whispering"}, "whisper", "neutral"),
        ({"volumeLevel": "shout"}, "x-loud", "neutral"),
        ({"volumeLevel": "very loud"}, "x-loud", "neutral"),
        ({"volumeLevel": "quiet"}, "soft", "neutral"),
        ({"emotion": "Joyful"}, "normal", "happy"),
        ({"emotion": "scared"}, "normal", "fearful"),
    ],
)
def test_common_words_are_mapped_not_replaced(
    given: dict[str, Any], volume: str, emotion: str
) -> None:
    dynamics, replaced = read_emotion(given)
    assert (dynamics.volume_level, dynamics.emotion, replaced) == (volume, emotion, ())


def test_whisper_is_the_softest_level_and_whispered_on_standard_voices_only() -> None:
    whisper = EmotionDynamics(volume_level="whisper")
    standard = build_ssml("Psst.", whisper, engine="standard")
    assert standard.startswith('<speak><amazon:effect name="whispered"><prosody')
    assert 'volume="x-soft"' in standard
    for engine in ("neural", "espeak"):
        ssml = build_ssml("Psst.", whisper, engine=engine)
        assert "amazon:effect" not in ssml
        assert 'volume="x-soft"' in ssml


@pytest.fixture
def world() -> World:
    return make_world()


def test_the_sentence_is_delivered_with_the_replaced_hints_on_its_event(world: World) -> None:
    world.listen(SESSION, es=1)
    body = {**transcript(volumeLevel="whisper", intensity="very"), "sequence": 1}
    result = world.run(batch(kinesis(json.dumps(body).encode(), SESSION)))
    assert (result.failed, result.rejected) == ([], 0)
    assert result.outcomes[0].hints_replaced == 1
    assert world.events("TranscriptRejected") == []
    (ready,) = world.events("SegmentReady")
    assert ready["hintsReplaced"] == ["emotionDynamics.intensity"]
    schemas.validate_event("SegmentReady", ready)


def test_a_created_sessions_waiting_listeners_hear_its_first_sentence(world: World) -> None:
    assert world.sessions.create(SESSION, "en", languages=("es", "fr"))
    world.sessions.set_listeners(SESSION, {"es": 1})
    body = {**transcript(), "sequence": 1}
    world.run(batch(kinesis(json.dumps(body).encode(), SESSION)))
    assert [e["sequence"] for e in world.events("SegmentReady")] == [1]
    session = world.sessions.get(SESSION)
    assert session is not None
    assert (session.status, session.languages) == ("active", ("es", "fr"))
    assert len(world.events("SessionStarted")) == 1
