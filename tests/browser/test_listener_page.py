"""The listener page end to end: headless Chromium against the real local runtime.

A talk goes in through boto3 ``put_records`` on the runtime's Kinesis stream; the
page, served by the runtime's gateway, joins, shows the captions in its language,
plays the audio, survives a connection the server drops (``DELETE /@connections``)
without missing a segment, and explains an unknown session in words.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from page_driver import (
    caption_sequences,
    wait_for_captions,
    wait_live,
    wait_played,
    wait_ready,
    wait_status,
    watch_frames,
)
from websockets.sync.client import connect

from polycast_kit.local.runtime import LocalRuntime

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
TALK = [
    "Hello everyone, this is important news.",
    "The weather is good today.",
    "We will open the new library next week.",
    "Thank you for coming to the meeting.",
    "The children are playing in the garden.",
]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    rt = LocalRuntime(aws_port=0, ws_port=0, state_dir=None)
    try:
        rt.start()
    except Exception as exc:
        pytest.fail(f"the local runtime did not start: {exc}")
    yield rt
    rt.stop()


class Talk:
    """A speaker's session on the runtime's stream, record by record."""

    def __init__(self, rt: LocalRuntime, session_id: str) -> None:
        assert rt.endpoints is not None
        assert rt.settings is not None
        kw: dict[str, Any] = {
            "endpoint_url": rt.endpoints.aws_endpoint,
            "region_name": rt.endpoints.region,
            "aws_access_key_id": "polycast-local",
            "aws_secret_access_key": "polycast-local",
        }
        self.rt = rt
        self.session_id = session_id
        self.stream = rt.endpoints.transcript_stream
        self.kinesis = boto3.client("kinesis", **kw)
        self.dynamodb = boto3.client("dynamodb", **kw)
        self.sessions_table = rt.settings.sessions_table

    def put(self, *records: dict[str, Any]) -> None:
        response = self.kinesis.put_records(
            StreamName=self.stream,
            Records=[
                {"Data": json.dumps(r).encode(), "PartitionKey": self.session_id} for r in records
            ],
        )
        assert response["FailedRecordCount"] == 0

    def start(self) -> None:
        self.put({"type": "sessionStarted", "sessionId": self.session_id, "sourceLanguage": "en"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            item = self.dynamodb.get_item(
                TableName=self.sessions_table, Key={"sessionId": {"S": self.session_id}}
            ).get("Item")
            if item:
                return
            time.sleep(0.1)
        pytest.fail(f"session {self.session_id} was not started by the pipeline within 30 s")

    def say(self, *sequences: int) -> None:
        self.put(
            *(
                {
                    "type": "transcript",
                    "sessionId": self.session_id,
                    "sequence": n,
                    "sourceLanguage": "en",
                    "transcriptText": TALK[(n - 1) % len(TALK)],
                    "emotionDynamics": {
                        "emotion": "neutral",
                        "intensity": 0.5,
                        "rateWpm": 170,
                        "volumeLevel": "normal",
                    },
                }
                for n in sequences
            )
        )


def open_listener(
    new_page: Any, rt: LocalRuntime, session_id: str, language: str, **kw: Any
) -> Any:
    assert rt.endpoints is not None
    page = new_page(**kw)
    page.frames_received = watch_frames(page)
    page.goto(f"{rt.endpoints.listener_page}?sessionId={session_id}&targetLanguage={language}")
    wait_ready(page)
    page.click("#start")
    wait_live(page)
    return page


def wait_for_real_captions(page: Any, count: int) -> None:
    """The real engines on a shared machine: a minute, not the scripted 20 s."""
    wait_for_captions(page, count, timeout=60_000)


def test_page_joins_shows_captions_in_its_language_and_plays_them(
    runtime: LocalRuntime, new_page: Any, page_errors: list[str], screenshot: Any
) -> None:
    talk = Talk(runtime, "golden-eagle-427")
    talk.start()
    spanish = open_listener(new_page, runtime, talk.session_id, "es")
    french = open_listener(new_page, runtime, talk.session_id, "fr", viewport=DESKTOP)
    talk.say(1, 2, 3)

    for page in (spanish, french):
        wait_for_real_captions(page, 3)
        assert caption_sequences(page) == [1, 2, 3]
    es_text = spanish.inner_text("#caption-1 .text")
    fr_text = french.inner_text("#caption-1 .text")
    assert spanish.get_attribute("#caption-1 .text", "lang") == "es"
    assert french.get_attribute("#caption-1 .text", "lang") == "fr"
    assert es_text
    assert fr_text
    assert es_text != fr_text
    assert es_text != TALK[0]
    assert "Hola" in es_text
    # The source sentence is there, on demand.
    assert spanish.is_hidden("#source-1")
    spanish.click("#caption-1 .source-toggle")
    assert spanish.inner_text("#source-1") == TALK[0]

    # The audio element really plays the segments.
    wait_played(spanish, 1)
    spanish.wait_for_function(
        "() => document.getElementById('player').played.length > 0", timeout=30_000
    )
    assert spanish.inner_text("#status") == "Live"
    assert not [e for e in page_errors if e.startswith("pageerror")]
    screenshot(spanish, "listener-phone-live")
    screenshot(french, "listener-desktop-live")

    dark = open_listener(
        new_page, runtime, talk.session_id, "es", viewport=DESKTOP, color_scheme="dark"
    )
    talk.say(4)
    wait_for_real_captions(dark, 1)
    dark.click("#show-sources")
    screenshot(dark, "listener-desktop-dark")


def browser_connection_ids(rt: LocalRuntime) -> list[str]:
    assert rt.gateway is not None
    return [
        connection_id
        for connection_id, connection in list(rt.gateway.connections.items())
        if not connection.closed and "Chrome" in (connection.user_agent or "")
    ]


def test_a_dropped_connection_is_resumed_with_no_segment_missing(
    runtime: LocalRuntime, new_page: Any, screenshot: Any
) -> None:
    assert runtime.gateway is not None
    assert runtime.endpoints is not None
    talk = Talk(runtime, "steady-heron-808")
    talk.start()
    page = open_listener(new_page, runtime, talk.session_id, "es")
    talk.say(1, 2)
    wait_for_real_captions(page, 2)
    (connection_id,) = browser_connection_ids(runtime)

    # Keep the page away while segments 3 and 4 are broadcast: only catchUp can bring them.
    page.context.set_offline(True)
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=runtime.gateway.http_url,
        region_name=runtime.endpoints.region,
        aws_access_key_id="polycast-local",
        aws_secret_access_key="polycast-local",
    )
    management.delete_connection(ConnectionId=connection_id)
    wait_status(page, "Reconnecting…")
    screenshot(page, "listener-phone-reconnecting")

    witness_url = (
        f"{runtime.endpoints.websocket_url}/?sessionId={talk.session_id}&targetLanguage=es"
    )
    with connect(witness_url, open_timeout=10) as witness:
        talk.say(3, 4)
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while not {3, 4} <= seen and time.monotonic() < deadline:
            message = json.loads(witness.recv(timeout=60))
            if message.get("type") == "segment":
                seen.add(message["sequence"])
        assert {3, 4} <= seen, "segments 3 and 4 were not broadcast"
    assert caption_sequences(page) == [1, 2]

    page.context.set_offline(False)
    wait_for_real_captions(page, 4)
    wait_live(page)
    assert caption_sequences(page) == [1, 2, 3, 4]
    resent = [
        frame.get("resent", 0)
        for frame in page.frames_received
        if frame.get("type") == "ack" and frame.get("action") == "catchUp"
    ]
    assert sum(resent) >= 2
    assert browser_connection_ids(runtime) != [connection_id]

    talk.say(5)
    wait_for_real_captions(page, 5)
    assert caption_sequences(page) == [1, 2, 3, 4, 5]


def test_an_unknown_session_is_explained_in_words(
    runtime: LocalRuntime, new_page: Any, screenshot: Any
) -> None:
    assert runtime.endpoints is not None
    page = new_page()
    page.goto(f"{runtime.endpoints.listener_page}?sessionId=lost-walrus-999&targetLanguage=es")
    wait_ready(page)
    page.click("#start")
    page.wait_for_selector("#join-error", state="visible")
    text = page.inner_text("#join-error")
    # The gateway's session check (GET /sessions/{id}) told the page why.
    assert "There is no session “lost-walrus-999”" in text
    assert page.inner_text("#status") == "Not connected"
    assert page.is_visible("#join-form")
    screenshot(page, "listener-phone-unknown-session")


def test_an_unknown_session_in_the_speakers_language_is_said_not_to_exist(
    runtime: LocalRuntime, new_page: Any
) -> None:
    """A mistyped id, with the browser in the speaker's language (English, offered as
    the untranslated original): the gateway refuses the language before it looks for
    the session, and the page must still say the session does not exist."""
    assert runtime.endpoints is not None
    page = new_page(locale="en-GB")
    page.goto(f"{runtime.endpoints.listener_page}?sessionId=golden-egale-427")
    wait_ready(page)
    assert page.input_value("#language") == "en"  # from the browser's language
    page.click("#start")
    page.wait_for_selector("#join-error", state="visible")
    text = page.inner_text("#join-error")
    assert "There is no session “golden-egale-427”" in text
    assert "cannot be heard" not in text
    assert page.evaluate("document.activeElement.id") == "session-id"
