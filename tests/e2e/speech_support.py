"""Support for the speech end-to-end tests: sessions with speaker keys, `polycast speak`
as a user runs it, the stream's records, and the speaker WebSocket."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import websockets
from aws_kinesis_agg.deaggregator import deaggregate_records
from local_e2e_support import RunningRuntime, cli, runtime_env
from websockets.exceptions import InvalidStatus

from polycast.schemas import validate


@dataclass(frozen=True)
class CreatedSession:
    session_id: str
    key: str
    links: dict[str, Any]


async def acli(runtime: RunningRuntime, *args: str, timeout: float = 300) -> tuple[int, str, str]:
    """The CLI in a subprocess without blocking the test's event loop (listeners run)."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "polycast_kit.cli.main", *args),
        *("--state-dir", str(runtime.state_dir)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=runtime_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def create_session(
    runtime: RunningRuntime, session_id: str, languages: str = "es,fr"
) -> CreatedSession:
    done = cli(
        runtime, "session", "create", "--session", session_id, "--languages", languages, "--json"
    )
    assert done.returncode == 0, done.stderr
    links = json.loads(done.stdout)
    return CreatedSession(session_id, links["speakerKey"], links)


def speak_args(session: CreatedSession, wav: Path, *flags: str) -> tuple[str, ...]:
    """``polycast speak`` as the session's speaker, from a WAV file."""
    return (
        *("speak", "--session", session.session_id, "--key", session.key),
        *("--file", str(wav), *flags),
    )


def speaker_url(runtime: RunningRuntime, session_id: str, key: str) -> str:
    query = urlencode({"sessionId": session_id, "role": "speaker", "speakerKey": key})
    return f"{runtime.ws_url}/?{query}"


async def refused(url: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a refused upgrade (fails when it is accepted)."""
    try:
        async with websockets.connect(url, open_timeout=10):
            pass
    except InvalidStatus as refusal:
        body = (refusal.response.body or b"").decode()
        return refusal.response.status_code, json.loads(body)
    raise AssertionError("the connection was accepted")


def stream_records(runtime: RunningRuntime, session_id: str) -> list[dict[str, Any]]:
    """Every record of the session in the stream so far (KPL aggregates unpacked)."""
    kinesis = runtime.client("kinesis")
    out: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=runtime.stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=runtime.stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                if record["PartitionKey"] != session_id:
                    continue
                out.extend(json.loads(data) for data in user_records(record))
            iterator = page.get("NextShardIterator")
            if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                break
    for record in out:
        validate(f"records/{record.get('type', 'transcript')}", record)
    return out


def user_records(record: dict[str, Any]) -> list[bytes]:
    """A boto3 GetRecords record's user records (a KPL aggregate's, or itself)."""
    lambda_shaped = {
        "kinesis": {
            "data": base64.b64encode(record["Data"]).decode(),
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "approximateArrivalTimestamp": 0.0,
        }
    }
    return [base64.b64decode(r["kinesis"]["data"]) for r in deaggregate_records([lambda_shaped])]


def sessions_item(runtime: RunningRuntime, session_id: str) -> dict[str, Any]:
    item: dict[str, Any] = runtime.client("dynamodb").get_item(
        TableName="polycast-sessions", Key={"sessionId": {"S": session_id}}, ConsistentRead=True
    )["Item"]
    return item


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def wav_file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path
