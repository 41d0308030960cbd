"""``polycast speak --file … --url …``: a WAV to the local recognizer, text on the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from polycast.schemas import validate
from polycast_kit.cli.main import main
from polycast_kit.transcribe.festival import SpokenTalk, speak, wav_bytes
from polycast_kit.transcribe.scoring import word_error_rate
from polycast_kit.transcribe.server import RecognizerServer

SCRIPT = (
    "Thank you very much for listening to this short talk.",
    "Today we will talk about the weather in the mountains.",
)


@pytest.fixture(scope="module")
def talk() -> SpokenTalk:
    return speak(SCRIPT)


@pytest.fixture(scope="module")
def server() -> Iterator[RecognizerServer]:
    with RecognizerServer() as running:
        yield running


def _wav(tmp_path: Path, data: bytes, name: str = "talk.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_json_lines_show_partials_then_finals_then_sentences(
    server: RecognizerServer, talk: SpokenTalk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = _wav(tmp_path, wav_bytes(talk.pcm))
    code = main(["speak", "--file", str(wav), "--url", server.url(), "--fast", "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [line["type"] for line in lines]
    assert kinds.index("partial") < kinds.index("final") < kinds.index("sentence")
    sentences = [line for line in lines if line["type"] == "sentence"]
    assert [s["sequence"] for s in sentences] == [1, 2]
    for sentence, spoken in zip(sentences, talk.sentences, strict=True):
        assert word_error_rate(spoken.text, sentence["text"]) < 0.35
        assert abs(sentence["startMs"] - spoken.start_ms) < 250
        dynamics = sentence["emotionDynamics"]
        # What the speaker handler will put in the transcript record.
        validate(
            "records/transcript",
            {
                "type": "transcript",
                "sessionId": "golden-eagle-427",
                "sequence": sentence["sequence"],
                "sourceLanguage": "en",
                "transcriptText": sentence["text"],
                "emotionDynamics": dynamics,
            },
        )
    partials = [line for line in lines if line["type"] == "partial"]
    assert all(p["text"].startswith(p["stableText"]) for p in partials)


def test_plain_output_is_readable(
    server: RecognizerServer, talk: SpokenTalk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = _wav(tmp_path, wav_bytes(talk.pcm))
    assert main(["speak", "--file", str(wav), "--url", server.url(), "--fast"]) == 0
    out = capsys.readouterr().out
    assert "partial" in out
    assert "final    [" in out
    assert "sentence #1 [" in out
    assert "wpm" in out


def test_truncated_wav_sends_what_it_holds_and_says_so(
    server: RecognizerServer, talk: SpokenTalk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Cut mid-way through the second sentence: the header still claims the whole talk.
    second = talk.sentences[1]
    cut_at = 2 * 16 * (second.start_ms + (second.end_ms - second.start_ms) // 2)
    wav = _wav(tmp_path, wav_bytes(talk.pcm)[: 44 + cut_at])
    assert main(["speak", "--file", str(wav), "--url", server.url(), "--fast", "--json"]) == 0
    captured = capsys.readouterr()
    assert "cut short" in captured.err
    finals = [json.loads(x) for x in captured.out.splitlines() if '"final"' in x]
    assert len(finals) == 2  # the cut sentence still ends as a final
    assert word_error_rate(talk.sentences[0].text, finals[0]["text"]) < 0.35


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (wav_bytes(bytes(32000), channels=2), "2 channels"),
        (wav_bytes(bytes(16000), sample_rate=8000), "8000 Hz"),
        (b"not audio at all", "not a WAV"),
    ],
    ids=["stereo", "8khz", "garbage"],
)
def test_unusable_wav_is_refused_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, reason: str
) -> None:
    wav = _wav(tmp_path, data)
    # Port 9 (discard) on loopback: nothing is contacted, the file is refused first.
    assert main(["speak", "--file", str(wav), "--url", "ws://127.0.0.1:9/x"]) == 2
    err = capsys.readouterr().err
    assert reason in err
    if reason != "not a WAV":
        assert "sox" in err  # says how to convert


def test_silence_says_nothing_was_recognized(
    server: RecognizerServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = _wav(tmp_path, wav_bytes(bytes(2 * 16000 * 2)))
    assert main(["speak", "--file", str(wav), "--url", server.url(), "--fast"]) == 0
    assert "no speech was recognized" in capsys.readouterr().err


def test_refused_url_is_reported(
    server: RecognizerServer, talk: SpokenTalk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = _wav(tmp_path, wav_bytes(talk.pcm[:32000]))
    url = server.url().replace("sample-rate=16000", "sample-rate=16001")
    assert main(["speak", "--file", str(wav), "--url", url, "--fast"]) == 1
    err = capsys.readouterr().err
    assert "403" in err
    assert "signature" in err


def test_unreachable_recognizer_is_reported(
    talk: SpokenTalk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = _wav(tmp_path, wav_bytes(talk.pcm[:32000]))
    assert main(["speak", "--file", str(wav), "--url", "ws://127.0.0.1:9/x", "--fast"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_standalone_endpoint_serves_polycast_speak(talk: SpokenTalk, tmp_path: Path) -> None:
    """``python -m polycast_kit.transcribe`` prints a URL that ``polycast speak`` can use."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    endpoint = subprocess.Popen(
        [sys.executable, "-m", "polycast_kit.transcribe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert endpoint.stdout is not None
        assert endpoint.stdout.readline().startswith(
            "Transcribe-compatible endpoint on ws://127.0.0.1:"
        )
        url = endpoint.stdout.readline().split(": ", 1)[1].strip()
        wav = _wav(tmp_path, wav_bytes(talk.pcm))
        spoken = subprocess.run(
            [
                sys.executable,
                "-m",
                "polycast_kit.cli.main",
                "speak",
                "--file",
                str(wav),
                "--url",
                url,
                "--fast",
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert spoken.returncode == 0, spoken.stderr
        finals = [json.loads(x)["text"] for x in spoken.stdout.splitlines() if '"final"' in x]
        assert word_error_rate(talk.script, " ".join(finals)) < 0.25
    finally:
        endpoint.stdin.close()  # type: ignore[union-attr]
        endpoint.wait(timeout=30)
