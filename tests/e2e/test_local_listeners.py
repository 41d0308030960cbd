"""Listeners at the edges: refused connects, drops, pruning on 410, and the
``@connections`` API answering 410 for a gone connection."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
import websockets
from local_e2e_support import RunningRuntime, open_listener, put, start_session, talk

from polycast_kit.cli.listen import ConnectRefused, listen

pytestmark = pytest.mark.e2e


def session_item(runtime: RunningRuntime, session_id: str) -> dict[str, Any]:
    ddb = runtime.client("dynamodb")
    item: dict[str, Any] = ddb.get_item(
        TableName="polycast-sessions", Key={"sessionId": {"S": session_id}}, ConsistentRead=True
    )["Item"]
    return item


def counts(runtime: RunningRuntime, session_id: str) -> tuple[int, dict[str, int]]:
    item = session_item(runtime, session_id)
    per_language = {
        lang: int(v["N"]) for lang, v in (item.get("languageCounts", {}).get("M") or {}).items()
    }
    return int(item["listenerCount"]["N"]), per_language


def connection_ids(runtime: RunningRuntime, session_id: str) -> list[str]:
    ddb = runtime.client("dynamodb")
    items = ddb.query(
        TableName="polycast-connections",
        IndexName="sessionId-targetLanguage-index",
        KeyConditionExpression="sessionId = :s",
        ExpressionAttributeValues={":s": {"S": session_id}},
    )["Items"]
    return [item["connectionId"]["S"] for item in items]


async def refused(runtime: RunningRuntime, session_id: str, language: str) -> ConnectRefused:
    with pytest.raises(ConnectRefused) as info:
        await listen(runtime.ws_url, session_id, language, timeout=10)
    return info.value


def test_refused_connects_carry_status_and_reason(runtime: RunningRuntime) -> None:
    session_id = f"e2e-refuse-{secrets.token_hex(3)}"

    async def scenario() -> None:
        unknown = await refused(runtime, "no-such-session-1", "es")
        assert (unknown.status, unknown.code) == (404, "SESSION_NOT_FOUND")
        assert "no-such-session-1" in unknown.reason

        start_session(runtime, session_id)
        task, _ = await open_listener(runtime, session_id, "es", timeout=5)
        task.cancel()

        bad = await refused(runtime, session_id, "xx")
        assert bad.status == 400
        assert bad.code == "UNSUPPORTED_LANGUAGE"
        assert "es" in bad.reason  # names the supported languages

        with pytest.raises(websockets.exceptions.InvalidStatus) as info:
            await websockets.connect(f"{runtime.ws_url}/?targetLanguage=es")
        assert info.value.response.status_code == 400
        assert b"sessionId" in (info.value.response.body or b"")

        put(runtime, session_id, [{"type": "sessionEnded", "sessionId": session_id}])
        for _ in range(100):
            try:
                await listen(runtime.ws_url, session_id, "es", timeout=0.2)
            except ConnectRefused as exc:
                assert (exc.status, exc.code) == (404, "SESSION_ENDED")
                return
            await asyncio.sleep(0.1)
        pytest.fail("an ended session still admits listeners")

    asyncio.run(scenario())


def test_a_dropped_listener_is_pruned_and_counts_stay_right(runtime: RunningRuntime) -> None:
    """One listener leaves cleanly ($disconnect); another vanishes without one and is
    pruned when the broadcaster gets 410; the counts match the listeners left."""
    session_id = f"e2e-prune-{secrets.token_hex(3)}"
    records = [{**r, "sessionId": session_id} for r in talk(3)]
    ddb = runtime.client("dynamodb")

    async def scenario() -> tuple[list[int], list[int]]:
        start_session(runtime, session_id)
        staying, stay_listener = await open_listener(runtime, session_id, "es")
        fr_task, fr_listener = await open_listener(runtime, session_id, "fr")
        leaving = await websockets.connect(
            f"{runtime.ws_url}/?sessionId={session_id}&targetLanguage=es"
        )
        assert counts(runtime, session_id) == (3, {"es": 2, "fr": 1})
        await leaving.close()
        for _ in range(100):
            if counts(runtime, session_id)[0] == 2:
                break
            await asyncio.sleep(0.05)
        assert counts(runtime, session_id) == (2, {"es": 1, "fr": 1})

        # A listener whose $disconnect never arrived: its item and count remain,
        # but the gateway answers 410 for it.
        template = ddb.get_item(
            TableName="polycast-connections",
            Key={"connectionId": {"S": connection_ids(runtime, session_id)[0]}},
        )["Item"]
        ghost = {
            **template,
            "connectionId": {"S": "R2hvc3RMaXN0ZW5lcj0="},
            "targetLanguage": {"S": "es"},
        }
        ddb.put_item(TableName="polycast-connections", Item=ghost)
        ddb.update_item(
            TableName="polycast-sessions",
            Key={"sessionId": {"S": session_id}},
            UpdateExpression="SET listenerCount = listenerCount + :one, "
            "languageCounts.#es = languageCounts.#es + :one",
            ExpressionAttributeNames={"#es": "es"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        assert counts(runtime, session_id) == (3, {"es": 2, "fr": 1})

        await asyncio.to_thread(
            put,
            runtime,
            session_id,
            [*records, {"type": "sessionEnded", "sessionId": session_id}],
        )
        await staying
        await fr_task
        return [s.sequence for s in stay_listener.segments], [
            s.sequence for s in fr_listener.segments
        ]

    es_got, fr_got = asyncio.run(scenario())
    assert es_got == [1, 2, 3]
    assert fr_got == [1, 2, 3]
    assert "R2hvc3RMaXN0ZW5lcj0=" not in connection_ids(runtime, session_id)
    # The listeners that stayed were connected until the session ended.
    total, per_language = counts(runtime, session_id)
    assert total == sum(per_language.values())
    assert total <= 2


def test_connections_api_answers_410_for_a_gone_connection(runtime: RunningRuntime) -> None:
    session_id = f"e2e-gone-{secrets.token_hex(3)}"
    client = runtime.client("apigatewaymanagementapi", endpoint_url=runtime.http_url)

    async def scenario() -> str:
        start_session(runtime, session_id)
        async with websockets.connect(
            f"{runtime.ws_url}/?sessionId={session_id}&targetLanguage=ca"
        ) as ws:
            (connection_id,) = connection_ids(runtime, session_id)
            await asyncio.to_thread(
                client.post_to_connection, ConnectionId=connection_id, Data=b'{"type":"ack"}'
            )
            assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ack"}'
            info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
        return connection_id

    connection_id = asyncio.run(scenario())
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=connection_id, Data=b"{}")
    with pytest.raises(client.exceptions.GoneException):
        client.delete_connection(ConnectionId=connection_id)
