"""The CLI's target is explicit, and talk files are checked before anything is sent.

No local runtime and no ``--stack``: one line saying what to start or pass, never a
traceback (and never real AWS). ``--stack`` reads the stack's outputs. ``produce``
names file, line and field of a bad record; ``--force`` sends anyway.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_kinesis_agg.deaggregator import deaggregate_records
from moto import mock_aws

from polycast_kit.cli.endpoints import TargetError, resolve_target
from polycast_kit.cli.main import main
from polycast_kit.local.aws import EmbeddedAws

NO_AWS_ENV = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(NO_AWS_ENV)
    return subprocess.run(  # noqa: S603, PLW1510 - our own interpreter; the code is checked
        [sys.executable, "-m", "polycast_kit.cli.main", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["produce", "talk.txt"],
        ["events", "tail", "--timeout", "1"],
        ["produce", "--session", "golden-eagle-427", "--pause"],
        ["session", "create", "--languages", "es"],
    ],
)
def test_without_a_runtime_or_stack_one_line_says_what_to_do(
    tmp_path: Path, argv: list[str]
) -> None:
    (tmp_path / "talk.txt").write_text("Hello everyone.\n")
    done = _cli(*argv, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "polycast local" in lines[0]
    assert "--stack" in lines[0]


def test_a_stack_without_credentials_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "talk.txt").write_text("Hello everyone.\n")
    done = _cli(
        "produce", "talk.txt", "--stack", "PolycastState", "--region", "eu-west-1", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "no AWS credentials" in done.stderr
    no_region = _cli("produce", "talk.txt", "--stack", "PolycastState", cwd=tmp_path)
    assert "Traceback" not in no_region.stderr
    assert "--region" in no_region.stderr, no_region.stderr


def test_a_stale_local_json_says_the_runtime_is_not_running(tmp_path: Path) -> None:
    (tmp_path / "talk.txt").write_text("Hello everyone.\n")
    state = tmp_path / ".polycast"
    state.mkdir()
    (state / "local.json").write_text(
        json.dumps(
            {
                "awsEndpoint": "http://127.0.0.1:9",
                "region": "us-east-1",
                "transcriptStream": "polycast-transcripts",
                "websocketUrl": "ws://127.0.0.1:9",
                "listenerPage": "http://127.0.0.1:9/",
            }
        )
    )
    done = _cli("produce", "talk.txt", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "polycast local" in done.stderr


TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "TranscriptStreamName": {"Value": "deployed-transcripts"},
        "EventBusName": {"Value": "deployed-bus"},
        "WebSocketUrl": {"Value": "wss://example.execute-api.eu-west-1.amazonaws.com/live"},
    },
}


@mock_aws
def test_stack_outputs_name_the_stream_and_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    cloudformation.create_stack(StackName="PolycastPipeline", TemplateBody=json.dumps(TEMPLATE))
    args = argparse.Namespace(stack=["PolycastPipeline"], region="eu-west-1", profile=None)
    target = resolve_target(args, cloudformation=cloudformation)
    assert (target.stream, target.bus, target.local) == (
        "deployed-transcripts",
        "deployed-bus",
        False,
    )
    assert target.websocket_url is not None
    assert target.websocket_url.startswith("wss://")
    assert target.region == "eu-west-1"
    bare = {"Resources": TEMPLATE["Resources"], "Outputs": {"EventBusName": {"Value": "b"}}}
    cloudformation.create_stack(StackName="Other", TemplateBody=json.dumps(bare))
    with pytest.raises(TargetError, match="TranscriptStreamName"):
        resolve_target(
            argparse.Namespace(stack=["Other"], region="eu-west-1", profile=None),
            cloudformation=cloudformation,
        )


# -- talk files ----------------------------------------------------------------------------


@pytest.fixture
def local_kinesis(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    """A real embedded moto server with the stream, and a local.json pointing at it."""
    aws = EmbeddedAws("127.0.0.1", 0)
    aws.start()
    try:
        kinesis = boto3.client(
            "kinesis",
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        kinesis.create_stream(StreamName="talks", ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName="talks")
        state = tmp_path / "state"
        state.mkdir()
        (state / "local.json").write_text(
            json.dumps(
                {
                    "awsEndpoint": aws.endpoint_url,
                    "region": "us-east-1",
                    "transcriptStream": "talks",
                    "websocketUrl": "ws://127.0.0.1:1",
                    "listenerPage": "http://127.0.0.1:1/",
                }
            )
        )
        yield state, kinesis
    finally:
        aws.stop()


def _records(kinesis: Any) -> list[dict[str, Any]]:
    shard = kinesis.describe_stream(StreamName="talks")["StreamDescription"]["Shards"][0]
    iterator = kinesis.get_shard_iterator(
        StreamName="talks", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = kinesis.get_records(ShardIterator=iterator)["Records"]
    shaped = [
        {
            "kinesis": {
                "partitionKey": r["PartitionKey"],
                "data": base64.b64encode(r["Data"]).decode(),
                "sequenceNumber": r["SequenceNumber"],
                "approximateArrivalTimestamp": 1.0,
                "kinesisSchemaVersion": "1.0",
            },
            "eventSource": "aws:kinesis",
        }
        for r in raw
    ]
    return [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in deaggregate_records(shaped)]


BAD_TALK = (
    "\n".join(
        [
            json.dumps({"transcriptText": "One.", "sequence": 1}),
            json.dumps({"transcriptText": "Two.", "sequence": 2}),
            json.dumps({"transcriptText": "Three.", "sequence": "four"}),
            json.dumps({"sequence": 5}),
            json.dumps({"transcriptText": "Quiet.", "emotionDynamics": {"volumeLevel": "murmur"}}),
        ]
    )
    + "\n"
)


def test_bad_records_are_named_by_file_line_and_field_and_nothing_is_sent(
    tmp_path: Path, local_kinesis: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    state, kinesis = local_kinesis
    talk = tmp_path / "talk.jsonl"
    talk.write_text(BAD_TALK)
    code = main(["produce", str(talk), "--state-dir", str(state), "--session", "s-1"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{talk}:3: sequence: 'four' is not of type 'integer'" in err
    assert f"{talk}:4: transcriptText:" in err
    assert "required" in err
    assert f"{talk}:5: emotionDynamics.volumeLevel" in err
    assert "advisory" in err
    assert "--force" in err
    assert _records(kinesis) == []

    assert (
        main(["produce", str(talk), "--state-dir", str(state), "--session", "s-1", "--force"]) == 0
    )
    sent = [r for r in _records(kinesis) if r["type"] == "transcript"]
    assert [r.get("sequence") for r in sent] == [1, 2, "four", 5, 6]


def test_broken_json_reports_the_files_line_and_column(
    tmp_path: Path, local_kinesis: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    state, kinesis = local_kinesis
    talk = tmp_path / "talk.jsonl"
    talk.write_text('{"transcriptText": "Fine."}\n\n  {"transcriptText": "Broken.",,}\n')
    code = main(["produce", str(talk), "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{talk}:3:32: not valid JSON" in err, err
    assert "Traceback" not in err
    assert _records(kinesis) == []
