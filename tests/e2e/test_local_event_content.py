"""An organizer's event on the local runtime, through the real CLI and WebSocket clients:
create a session with a glossary and profanity masking, talk, export every format
(SRT and WebVTT parsed by ``srt`` and ``webvtt-py``), and show the summary."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from local_e2e_support import RunningRuntime, cli, open_listener, put

from polycast import schemas

pytestmark = pytest.mark.e2e

SESSION = "glossy-heron-515"
GLOSSARY = "en,es,fr\nGolden Gate Labs,Golden Gate Labs,Golden Gate Labs\nBaker,Baker,Baker\n"
SENTENCES = [
    ("Welcome to Golden Gate Labs.", 0, 2400),
    ("Mr Baker will talk today.", 3100, 5200),
    ("This is shit.", 6000, 7000),
]


def test_glossary_tone_export_and_summary(runtime: RunningRuntime, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("en,es\nBaker\n")
    refused = cli(
        runtime, "session", "create", "--session", SESSION, "--glossary", str(bad), cwd=tmp_path
    )
    assert refused.returncode != 0
    assert f"{bad}:2: 1 cells, the header has 2" in refused.stderr

    glossary = tmp_path / "glossary.csv"
    glossary.write_text(GLOSSARY)
    created = cli(
        runtime,
        "session",
        "create",
        "--session",
        SESSION,
        "--languages",
        "es,fr",
        "--glossary",
        str(glossary),
        "--profanity",
        "--formality",
        "formal",
        "--json",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["sessionId"] == SESSION
    assert "glossary polycast-glossy-heron-515: 2 terms" in created.stderr
    assert "local engines have no formal/informal variants" in created.stderr

    async def listen_to_talk() -> dict[str, Any]:
        es_task, es = await open_listener(runtime, SESSION, "es")
        fr_task, fr = await open_listener(runtime, SESSION, "fr")
        records: list[dict[str, Any]] = [
            {
                "type": "transcript",
                "sessionId": SESSION,
                "sourceLanguage": "en",
                "sequence": n,
                "transcriptText": text,
                "startMs": start,
                "endMs": end,
            }
            for n, (text, start, end) in enumerate(SENTENCES, start=1)
        ]
        put(runtime, SESSION, [*records, {"type": "sessionEnded", "sessionId": SESSION}])
        await asyncio.wait_for(asyncio.gather(es_task, fr_task), 120)
        return {"es": es, "fr": fr}

    heard = asyncio.run(listen_to_talk())
    for language in ("es", "fr"):
        texts = [s.text for s in heard[language].segments]
        assert len(texts) == 3, texts
        assert "Golden Gate Labs" in texts[0]
        assert "Baker" in texts[1]
        assert "?$#@$" in texts[2]

    out = tmp_path / "export"
    for fmt in ("txt", "srt", "vtt", "json"):
        done = cli(
            runtime, "session", "export", SESSION, "--format", fmt, "--out", str(out), cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
    spanish = list(srt.parse((out / f"{SESSION}.es.srt").read_text()))
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in spanish] == [
        (0.0, 2.4),
        (3.1, 5.2),
        (6.0, 7.0),
    ]
    assert "Golden Gate Labs" in spanish[0].content
    french = webvtt.read(str(out / f"{SESSION}.fr.vtt"))
    assert [c.start for c in french] == ["00:00:00.000", "00:00:03.100", "00:00:06.000"]
    assert "Baker" in french.captions[1].text
    source = list(srt.parse((out / f"{SESSION}.source-en.srt").read_text()))
    assert [c.content for c in source] == [s for s, _, _ in SENTENCES]
    document = json.loads((out / f"{SESSION}.es.json").read_text())
    schemas.validate("exports/transcript", document)
    assert [s["sequence"] for s in document["segments"]] == [1, 2, 3]
    assert (out / f"{SESSION}.es.txt").read_text().startswith("[00:00:00] ")

    # After the Segments buffer: the same transcript from the bus's archive.
    archived = tmp_path / "archived"
    done = cli(
        runtime,
        "session",
        "export",
        SESSION,
        "--format",
        "srt",
        "--from",
        "archive",
        "--language",
        "es",
        "--out",
        str(archived),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (archived / f"{SESSION}.es.srt").read_text() == (out / f"{SESSION}.es.srt").read_text()

    deadline = time.monotonic() + 60
    while True:
        shown = cli(runtime, "session", "show", SESSION, "--json", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        summary = json.loads(shown.stdout)
        if summary["languages"]["es"]["totalListeners"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert summary["status"] == "ended"
    assert summary["segments"] == 3
    assert summary["durationSeconds"] is not None
    assert (summary["formality"], summary["profanity"]) == ("formal", True)
    assert summary["glossary"] == {"name": f"polycast-{SESSION}", "terms": 2}
    for language in ("es", "fr"):
        row = summary["languages"][language]
        assert (row["segments"], row["peakListeners"], row["totalListeners"]) == (3, 1, 1)
        assert row["deliveryFailures"] == 0
    text = cli(runtime, "session", "show", SESSION, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert f"session {SESSION} (ended)" in text.stdout
