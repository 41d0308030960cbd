"""``polycast local --lan``: the listeners' side on a public address, the management
side on loopback only. The public side is bound to another loopback address
(``--host 127.0.0.2``): the tests connect to 127.0.0.0/8 only, never to the machine's
own network addresses.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
import websockets
from local_e2e_support import RunningRuntime, free_port, put, stop_runtime, talk

from polycast import schemas

pytestmark = pytest.mark.e2e
PUBLIC = "127.0.0.2"


@pytest.fixture(scope="module")
def lan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    workdir = tmp_path_factory.mktemp("lan")
    state_dir, log_path = workdir / ".polycast", workdir / "runtime.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [
        sys.executable, "-m", "polycast_kit.cli.main", "local", "--lan", "--host", PUBLIC,
        "--aws-port", str(free_port()), "--ws-port", str(free_port()),
        "--state-dir", str(state_dir),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + 90
    while not (state_dir / "local.json").is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"polycast local --lan did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    time.sleep(0.2)
    running = RunningRuntime(
        process, state_dir, log_path, json.loads((state_dir / "local.json").read_text())
    )
    yield running
    assert stop_runtime(running) == 0, running.log()


def http(method: str, url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def cli(lan: RunningRuntime, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "polycast_kit.cli.main", *argv, "--state-dir", str(lan.state_dir)],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip


def test_the_warning_is_printed_and_local_json_names_both_sides(lan: RunningRuntime) -> None:
    assert "WARNING: --lan serves" in lan.log()
    port = lan.state["listenerPage"].rsplit(":", 1)[1].strip("/")
    assert lan.state["listenerPage"] == f"http://{PUBLIC}:{port}/"
    assert lan.state["websocketUrl"] == f"ws://{PUBLIC}:{port}"
    assert lan.state["managementEndpoint"] == f"http://127.0.0.1:{port}"
    assert lan.state["awsEndpoint"].startswith("http://127.0.0.1:")
    assert lan.state["lan"] is True


def test_pages_are_public_and_the_management_side_is_not(lan: RunningRuntime) -> None:
    public = lan.state["listenerPage"].rstrip("/")
    private = lan.state["managementEndpoint"]
    for path in ("/", "/join?sessionId=a-b-1", "/?view=display", "/config.json", "/base.css"):
        assert http("GET", public + path)[0] == 200, path
    # @connections: 404 on the public address; the loopback one answers (410: no such id).
    for path in ("/@connections/abc", "/local/@connections/abc"):
        assert http("POST", public + path)[0] == 404
        assert http("GET", public + path)[0] == 404
        assert http("DELETE", public + path)[0] == 404
    assert http("POST", private + "/@connections/abc")[0] == 410
    # The speaker page needs the machine itself (a microphone wants a secure context).
    status, body = http("GET", public + "/speaker.html")
    assert status == 403
    assert b"127.0.0.1" in body
    assert http("GET", private + "/speaker.html")[0] == 200
    # The embedded AWS endpoint is on 127.0.0.1 only.
    aws_port = int(lan.state["awsEndpoint"].rsplit(":", 1)[1])
    with socket.socket() as probe:
        probe.settimeout(5)
        with pytest.raises(ConnectionRefusedError):
            probe.connect((PUBLIC, aws_port))


def test_qr_codes_only_for_our_own_links(lan: RunningRuntime) -> None:
    public = lan.state["listenerPage"].rstrip("/")
    ours = f"{public}/?sessionId=a-b-1&targetLanguage=es"
    status, body = http("GET", f"{public}/qr.svg?data={urllib.parse.quote(ours)}")
    assert status == 200
    assert body.startswith(b"<svg")
    for other in (
        "https://example.com/",
        f"{public}/?sessionId=a-b-1&joinCode=1234",
        f"{public}/audio/x.mp3",
    ):
        assert http("GET", f"{public}/qr.svg?data={urllib.parse.quote(other)}")[0] == 400


def test_a_listener_on_the_public_side_needs_the_join_code_and_hears_the_talk(
    lan: RunningRuntime,
) -> None:
    created = cli(lan, "session", "create", "--session", "warm-robin-515", "--languages", "es",
                  "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    links = json.loads(created.stdout)
    code = links["joinCode"]  # required by default on a --lan runtime
    assert code not in json.dumps(links["listenerUrls"]) + links["joinUrl"]

    public = lan.state["listenerPage"].rstrip("/")
    check = f"{public}/sessions/warm-robin-515?targetLanguage=es"
    status, body = http("GET", check)
    assert status == 401
    assert json.loads(body)["code"] == "JOIN_CODE_REQUIRED"
    status, body = http("GET", f"{check}&joinCode={code}")
    answer = json.loads(body)
    schemas.validate("http/sessionCheck", answer)
    assert status == 200
    assert answer["languages"] == ["es"]
    assert answer["sourceLanguage"] == "en"

    async def listen() -> list[dict[str, object]]:
        url = f"{lan.ws_url}/?sessionId=warm-robin-515&targetLanguage=es&joinCode={code}"
        async with websockets.connect(url) as ws:
            put(lan, "warm-robin-515", [{**r, "sessionId": "warm-robin-515"} for r in talk(2)])
            got: list[dict[str, object]] = []
            while len([m for m in got if m.get("type") == "segment"]) < 2:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            return got

    messages = asyncio.run(listen())
    segments = [m for m in messages if m["type"] == "segment"]
    assert [m["sequence"] for m in segments] == [1, 2]
    assert all(m["language"] == "es" and m["text"] for m in segments)
