"""A protected session on the local runtime, through the real CLI: ``session create
--join-code``, ``polycast listen --join-code`` hears it to its end, and the gateway's
``GET /export`` (the listener page's download links) answers in every format — parsed
by ``srt`` and ``webvtt-py`` — only with the code, and only once the session ended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import pytest
import srt
import webvtt
from local_e2e_support import RunningRuntime, put

from polycast import schemas

pytestmark = pytest.mark.e2e

SESSION = "hushed-finch-707"
CODE = "lantern-42"
SENTENCES = [("Good morning, everyone.", 0, 2000), ("The talk starts now.", 2500, 4600)]


def command(runtime: RunningRuntime, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "polycast_kit.cli.main",
        *args,
        "--state-dir",
        str(runtime.state_dir),
    ]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POLYCAST_JOIN"))}


def export(
    runtime: RunningRuntime, headers: Mapping[str, str] | None = None, **query: str
) -> tuple[int, str, Mapping[str, str]]:
    url = f"{runtime.http_url}/export?{urlencode(query)}"
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=180) as response:  # noqa: S310
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def code_of(answer: tuple[int, str, Mapping[str, str]]) -> tuple[int, str]:
    document = json.loads(answer[1])
    schemas.validate("http/export", document)
    return answer[0], document["code"]


def test_a_protected_session_is_heard_with_its_code_and_downloaded_after(
    runtime: RunningRuntime, tmp_path: Path
) -> None:
    created = subprocess.run(  # noqa: S603 - our own interpreter and module
        command(
            runtime, "session", "create", "--session", SESSION, "--languages", "es",
            "--join-code", CODE, "--json",
        ),
        env=environment(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    refused = subprocess.run(  # noqa: S603
        command(runtime, "listen", "--session", SESSION, "--language", "es", "--no-reconnect"),
        env=environment(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "401 JOIN_CODE_REQUIRED" in refused.stderr
    assert "--join-code" in refused.stderr

    listener = subprocess.Popen(  # noqa: S603
        command(
            runtime, "listen", "--session", SESSION, "--language", "es", "--join-code", CODE,
            "--timeout", "180",
        ),
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert listener.stdout is not None
        first = listener.stdout.readline()  # "listening to …"
        assert SESSION in first
        waiting = listener.stdout.readline()
        assert "waiting for the speaker" in waiting, waiting

        # Not over yet: nothing to download, even with the code.
        live = export(runtime, sessionId=SESSION, language="es", format="txt", joinCode=CODE)
        assert code_of(live) == (409, "SESSION_NOT_ENDED")

        records = [
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
        out, err = listener.communicate(timeout=180)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert listener.returncode == 0, err
    heard = [line for line in out.splitlines() if line.startswith("#")]
    assert [line.split()[0] for line in heard] == ["#1", "#2"]
    assert "session ended" in out
    assert CODE not in out + err

    asked = {"sessionId": SESSION, "language": "es"}
    assert code_of(export(runtime, **asked, format="srt")) == (401, "JOIN_CODE_REQUIRED")
    wrong = export(runtime, **asked, format="srt", joinCode="guess")
    assert code_of(wrong) == (403, "JOIN_CODE_INVALID")

    deadline = time.monotonic() + 60
    while True:  # the buffer may trail the listener by a moment
        status, body, headers = export(runtime, **asked, format="json", joinCode=CODE)
        if status == 200 and len(json.loads(body)["segments"]) == 2:
            break
        assert time.monotonic() < deadline, (status, body)
        time.sleep(1)
    schemas.validate("exports/transcript", json.loads(body))
    assert headers["Content-Disposition"] == f'attachment; filename="{SESSION}.es.json"'

    status, body, headers = export(runtime, {"X-Join-Code": CODE}, **asked, format="srt")
    assert (status, headers["Content-Type"]) == (200, "application/x-subrip; charset=utf-8")
    cues = list(srt.parse(body))
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in cues] == [
        (0.0, 2.0),
        (2.5, 4.6),
    ]
    status, body, _ = export(runtime, **asked, format="vtt", joinCode=CODE)
    assert status == 200
    assert [c.start for c in webvtt.from_string(body)] == ["00:00:00.000", "00:00:02.500"]
    status, body, _ = export(runtime, **asked, format="txt", joinCode=CODE)
    assert (status, body.count("\n")) == (200, 2)
    status, body, headers = export(
        runtime, sessionId=SESSION, language="en", format="srt", joinCode=CODE
    )
    assert headers["Content-Disposition"] == f'attachment; filename="{SESSION}.source-en.srt"'
    assert [c.content for c in srt.parse(body)] == [text for text, _, _ in SENTENCES]
