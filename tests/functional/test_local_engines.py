"""The real Apertium and espeak-ng, as the local runtime uses them.

These start the installed engines; when one is missing the test fails with the
reason (``make setup`` installs them) instead of skipping.
"""

from __future__ import annotations

import array
import math
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from polycast.domain.models import EmotionDynamics
from polycast.domain.ssml import build_ssml
from polycast.errors import PolycastError, TransientError, UnsupportedLanguage
from polycast_kit.engines import (
    ApertiumTranslator,
    EspeakSynthesizer,
    local_engines,
    mp3_info,
    supported_languages,
)
from polycast_kit.engines.apertium import ApertiumPipeline
from polycast_kit.engines.apertium_modes import DEFAULT_MODES_DIR, Mode
from polycast_kit.engines.espeak import Pcm

SENTENCE = "Hello everyone, this is important news."
# A word every engine output must contain: proof the right language came back.
EXPECTED = {
    "es": "Hola",
    "ca": "tothom",
    "gl": "Ola",
    "fr": "monde",
    "pt": "Olá",
    "it": "Ciao",
}


def _require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)} (run `make setup`)")


@pytest.fixture(scope="module")
def translator() -> Iterator[ApertiumTranslator]:
    _require("lt-proc", "apertium-transfer", "bash")
    if not Path(os.environ.get("APERTIUM_MODES_DIR", DEFAULT_MODES_DIR)).is_dir():
        pytest.fail("no Apertium modes directory (run `make setup`)")
    with ApertiumTranslator() as t:
        yield t


@pytest.fixture(scope="module")
def synthesizer() -> EspeakSynthesizer:
    _require("espeak-ng")
    return EspeakSynthesizer()


def test_discovery_lists_the_installed_targets() -> None:
    _require("lt-proc")
    languages = supported_languages("en", experimental=False)
    assert set(EXPECTED) <= set(languages)
    assert "ro" not in languages  # Debian installs ro-es, not es-ro


def test_romanian_through_the_uninstalled_es_ro_data_when_opted_in() -> None:
    _require("lt-proc")
    with ApertiumTranslator(experimental=True) as translator:
        assert "ro" in translator.available_targets("en")
        route = translator.route("en", "ro")
        assert [m.name for m in route.modes] == ["eng-spa", "es-ro"]
        assert "Salut" in translator.translate(SENTENCE, source="en", target="ro")


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_translates_into_each_local_language(translator: ApertiumTranslator, language: str) -> None:
    text = translator.translate(SENTENCE, source="en", target=language)
    assert EXPECTED[language] in text
    assert not any(mark in text for mark in "*#@")
    assert "\0" not in text
    assert not text.endswith("[]")


def test_pivoted_translation_equals_the_two_steps(translator: ApertiumTranslator) -> None:
    """Except a word the second hop lacks: the pivot falls back to the English word
    (docs/engines.md), where Spanish → French alone keeps the Spanish one."""
    spanish = translator.translate(SENTENCE, source="en", target="es")
    two_steps = translator.translate(spanish, source="es", target="fr")
    pivoted = translator.translate(SENTENCE, source="en", target="fr")
    assert "noticioso" not in pivoted
    assert pivoted.replace("news", "noticioso") == two_steps


def test_unknown_words_carry_no_marks(translator: ApertiumTranslator) -> None:
    text = translator.translate("The blorftish zanquerel was greenish.", source="en", target="es")
    assert "blorftish" in text
    assert "*" not in text
    assert "#" not in text


def test_stream_syntax_in_the_input_is_just_text(translator: ApertiumTranslator) -> None:
    text = translator.translate("Price ^5$ [draft] <b>now</b> a/b", source="en", target="es")
    assert "[borrador]" in text
    assert "^5$" in text
    assert "<b>" in text


def test_one_pipeline_serves_many_sentences(translator: ApertiumTranslator) -> None:
    sentences = [f"This is sentence number {n}." for n in range(25)]
    answers = [translator.translate(s, source="en", target="es") for s in sentences]
    assert all(str(n) in a for n, a in enumerate(answers))
    assert translator._pipelines["eng-spa"].starts == 1


def test_parallel_translations_from_many_threads(translator: ApertiumTranslator) -> None:
    sentences = [
        "Good morning, my friends.",
        "The weather is very good today.",
        "We are going to the beach.",
        "The house is big and white.",
    ]
    jobs = [(s, lang) for s in sentences for lang in EXPECTED] * 3
    expected = {(s, lang): translator.translate(s, source="en", target=lang) for s, lang in jobs}
    barrier = threading.Barrier(8)

    def run(job: tuple[str, str]) -> tuple[tuple[str, str], str]:
        if barrier.n_waiting < 8 and not barrier.broken:
            try:
                barrier.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
        return job, translator.translate(job[0], source="en", target=job[1])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))
    assert len(results) == len(jobs)
    for job, text in results:
        assert text == expected[job]


def test_a_killed_pipeline_is_restarted(translator: ApertiumTranslator) -> None:
    translator.translate("Good night.", source="en", target="ca")
    pipeline = translator._pipelines["eng-cat"]
    starts, pids = pipeline.starts, pipeline.pids
    assert len(pids) > 5
    os.kill(pids[len(pids) // 2], signal.SIGKILL)  # a stage in the middle
    assert "Bona nit" in translator.translate("Good night.", source="en", target="ca")
    assert pipeline.starts == starts + 1


def test_unsupported_target_lists_supported(translator: ApertiumTranslator) -> None:
    with pytest.raises(UnsupportedLanguage, match="es, ca, gl"):
        translator.translate(SENTENCE, source="en", target="ja")


def test_a_stalled_pipeline_times_out_as_transient() -> None:
    pipeline = ApertiumPipeline(Mode("xx-yy", "sleep 30"), timeout_seconds=0.3)
    try:
        with pytest.raises(TransientError, match="timed out"):
            pipeline.translate("anything")
        assert pipeline.pids == []  # stopped, so the next call starts clean
    finally:
        pipeline.close()


def test_a_pipeline_that_keeps_dying_is_transient() -> None:
    pipeline = ApertiumPipeline(Mode("xx-yy", "false"), timeout_seconds=5)
    try:
        with pytest.raises(TransientError, match="exited"):
            pipeline.translate("anything")
        assert pipeline.starts == 2
    finally:
        pipeline.close()


def test_close_stops_every_pipeline_process() -> None:
    _require("lt-proc")
    translator = ApertiumTranslator()
    translator.warm_up(["es", "fr"])
    pipelines = list(translator._pipelines.values())
    pids = [pid for p in pipelines for pid in p.pids]
    assert len(pipelines) == 2
    assert len(pids) > 10
    translator.close()
    assert all(p.pids == [] for p in pipelines)
    for pid in pids:  # stopped and reaped: not even a zombie is left
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


# --- espeak-ng -----------------------------------------------------------------------


def _rms(pcm: Pcm) -> float:
    samples = array.array("h", pcm.data)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def _f0(pcm: Pcm) -> float:
    """Median fundamental frequency of the loud frames (autocorrelation)."""
    import numpy as np

    audio = np.frombuffer(pcm.data, dtype=np.int16).astype(float)
    rate, size = pcm.sample_rate, 1024
    estimates = []
    for start in range(0, len(audio) - size, size // 2):
        frame = audio[start : start + size]
        if np.sqrt((frame**2).mean()) < 1000:
            continue
        frame = frame - frame.mean()
        corr = np.correlate(frame, frame, "full")[size - 1 :]
        low, high = rate // 400, rate // 60
        estimates.append(rate / (low + int(np.argmax(corr[low:high]))))
    return float(np.median(estimates))


def _speak(body: str, **prosody: str) -> str:
    attrs = " ".join(f'{k}="{v}"' for k, v in prosody.items())
    return (
        f"<speak><prosody {attrs}>{body}</prosody></speak>" if attrs else f"<speak>{body}</speak>"
    )


def test_tags_are_not_spoken(synthesizer: EspeakSynthesizer) -> None:
    tagged = synthesizer.synthesize_pcm(
        '<speak><prosody rate="100%" volume="medium"><emphasis level="moderate">Hello'
        "</emphasis></prosody></speak>",
        language="en",
    )
    hello = synthesizer.synthesize_pcm("Hello", language="en")
    read_aloud = synthesizer.synthesize_pcm(
        "speak prosody rate 100 percent volume medium emphasis level moderate Hello", language="en"
    )
    assert tagged.duration_seconds < 1.5
    assert tagged.duration_seconds < read_aloud.duration_seconds / 3
    assert abs(tagged.duration_seconds - hello.duration_seconds) < 0.5


def test_faster_rate_is_shorter_and_slower_is_longer(synthesizer: EspeakSynthesizer) -> None:
    normal = synthesizer.synthesize_pcm(_speak(SENTENCE, rate="100%"), language="en")
    fast = synthesizer.synthesize_pcm(_speak(SENTENCE, rate="160%"), language="en")
    slow = synthesizer.synthesize_pcm(_speak(SENTENCE, rate="60%"), language="en")
    assert fast.duration_seconds < normal.duration_seconds * 0.8
    assert slow.duration_seconds > normal.duration_seconds * 1.3


def test_a_break_adds_silence(synthesizer: EspeakSynthesizer) -> None:
    without = synthesizer.synthesize_pcm("<speak>Hello everyone. Good news.</speak>", language="en")
    with_break = synthesizer.synthesize_pcm(
        '<speak>Hello everyone. <break time="800ms"/> Good news.</speak>', language="en"
    )
    assert with_break.duration_seconds > without.duration_seconds + 0.3


def test_volume_in_decibels_changes_loudness(synthesizer: EspeakSynthesizer) -> None:
    loud = synthesizer.synthesize_pcm(_speak(SENTENCE, volume="+6dB"), language="en")
    normal = synthesizer.synthesize_pcm(_speak(SENTENCE), language="en")
    quiet = synthesizer.synthesize_pcm(_speak(SENTENCE, volume="-6dB"), language="en")
    assert _rms(quiet) < _rms(normal) * 0.7
    assert _rms(loud) > _rms(normal) * 1.2


def test_pitch_raises_and_lowers_the_voice(synthesizer: EspeakSynthesizer) -> None:
    high = synthesizer.synthesize_pcm(_speak(SENTENCE, pitch="+15%"), language="en")
    low = synthesizer.synthesize_pcm(_speak(SENTENCE, pitch="-15%"), language="en")
    assert _f0(high) > _f0(low) * 1.1


@pytest.mark.parametrize("language", ["en", "es", "ca", "gl", "fr", "pt", "it", "ro"])
def test_each_language_gives_mp3_of_plausible_duration(
    synthesizer: EspeakSynthesizer, language: str
) -> None:
    ssml = build_ssml(
        "Uno dos tres cuatro cinco.", EmotionDynamics(emotion="happy"), engine="espeak"
    )
    pcm = synthesizer.synthesize_pcm(ssml, language=language)
    mp3 = synthesizer.synthesize(ssml, language=language)
    info = mp3_info(mp3)
    assert mp3[:2] == b"\xff\xf3"  # MPEG-2 Layer III frame sync, no ID3 tag
    assert info.sample_rate == 22050
    assert info.channels == 1
    assert 0.5 < info.duration_seconds < 10
    assert info.duration_seconds == pytest.approx(pcm.duration_seconds, abs=0.15)


def test_unknown_language_has_no_voice(synthesizer: EspeakSynthesizer) -> None:
    with pytest.raises(UnsupportedLanguage):
        synthesizer.synthesize("<speak>Hi</speak>", language="tlh")


def test_a_stuck_espeak_times_out_as_transient() -> None:
    _require("espeak-ng")
    slow = EspeakSynthesizer(timeout_seconds=0.0001)
    with pytest.raises(TransientError, match="timed out"):
        slow.synthesize("<speak>" + "Hello. " * 200 + "</speak>", language="en")


def test_missing_espeak_is_a_clear_error() -> None:
    broken = EspeakSynthesizer(executable="/nonexistent/espeak-ng")
    with pytest.raises(PolycastError) as raised:
        broken.synthesize("<speak>Hi</speak>", language="en")
    assert raised.value.code == "ENGINE_UNAVAILABLE"


def test_local_engines_translate_and_speak_each_language() -> None:
    _require("lt-proc", "espeak-ng")
    engines = local_engines(experimental=False)
    try:
        assert engines.synthesizer.engine == "espeak"
        for language in engines.translator.available_targets("en"):
            text = engines.translator.translate(SENTENCE, source="en", target=language)
            ssml = build_ssml(text, EmotionDynamics(), engine=engines.synthesizer.engine)
            duration = mp3_info(engines.synthesizer.synthesize(ssml, language=language))
            assert 1 < duration.duration_seconds < 10, language
    finally:
        engines.close()
