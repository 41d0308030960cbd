"""Each function holds exactly what its wiring grants say, scoped to the named resource.

Statements carry a Sid derived from the grant (``infra.constructs.grants``); the only
statements without one are CDK's own for X-Ray tracing and for sending failures to
the function's failure queue.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest

from infra.constructs.grants import actions_of, sid_of, table_of
from infra.drift import tagged
from polycast import wiring

pytestmark = pytest.mark.infra

XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SEND_FAILURES = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of(synth: Any, function_id: str) -> list[dict[str, Any]]:
    """Every policy statement attached to the function's role (inline and managed)."""
    template = synth.pipeline
    (_, function) = tagged(template, "AWS::Lambda::Function")[function_id]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert not role.get("ManagedPolicyArns"), f"{function_id} has managed policies"
    assert not role.get("Policies"), f"{function_id} has inline role policies"
    statements: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role_id} in resource["Properties"]["Roles"]
        ):
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _as_list(s["Action"])}


def test_every_wiring_grant_has_an_iam_mapping() -> None:
    for grant in typing.get_args(wiring.Grant):
        assert actions_of(grant), grant
        if table_of(grant) is not None:
            assert table_of(grant) in {t.logical_id for t in wiring.TABLES}, grant


@pytest.mark.parametrize("spec", wiring.FUNCTIONS, ids=lambda f: f.logical_id)
def test_function_policy_is_exactly_its_grants(synth: Any, spec: wiring.Function) -> None:
    statements = statements_of(synth, spec.logical_id)
    expected_sids = {"Logs"} | {sid_of(g) for g in spec.grants}
    if "stream:read" in spec.grants:
        expected_sids.add("StreamReadKey")
    if "stream:write" in spec.grants:
        expected_sids.add("StreamWriteKey")
    assert {s["Sid"] for s in statements if "Sid" in s} == expected_sids
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if "Sid" not in statement:
            assert set(_as_list(statement["Action"])) in (XRAY, SEND_FAILURES), statement
    expected = {"logs:CreateLogStream", "logs:PutLogEvents"} | XRAY
    for grant in spec.grants:
        expected |= set(actions_of(grant))
    sends_failures = spec is wiring.TRANSCRIPT_SOURCE.function or any(
        rule.target_function is spec for rule in wiring.RULES
    )
    if sends_failures:
        expected |= SEND_FAILURES
    assert actions(statements) == expected


@pytest.mark.parametrize("spec", wiring.FUNCTIONS, ids=lambda f: f.logical_id)
def test_table_statements_name_only_their_table(synth: Any, spec: wiring.Function) -> None:
    for statement in statements_of(synth, spec.logical_id):
        sid = statement.get("Sid", "")
        grant = next((g for g in spec.grants if sid_of(g) == sid), None)
        if grant is None or table_of(grant) is None:
            continue
        resources = json.dumps(statement["Resource"])
        assert f"PolycastState:{table_of(grant)}TableArn" in resources
        others = [t.logical_id for t in wiring.TABLES if t.logical_id != table_of(grant)]
        assert not any(f"PolycastState:{o}TableArn" in resources for o in others)


def test_broadcaster_cannot_translate_synthesize_or_read_the_stream(synth: Any) -> None:
    granted = actions(statements_of(synth, "Broadcaster"))
    assert not {a for a in granted if a.split(":")[0] in ("translate", "polly", "kinesis")}
    assert "execute-api:ManageConnections" in granted


def test_connection_handler_cannot_produce_translate_or_synthesize(synth: Any) -> None:
    granted = actions(statements_of(synth, "ConnectionHandler"))
    assert not {a for a in granted if a.split(":")[0] in ("translate", "polly", "kinesis")}
    assert "kinesis:PutRecord" not in granted
    assert "s3:PutObject" not in granted


def test_only_the_speaker_function_writes_records_or_signs_transcribe_urls(synth: Any) -> None:
    writes = {"kinesis:PutRecord", "kinesis:PutRecords"}
    transcribe = "transcribe:StartStreamTranscriptionWebSocket"
    for spec in wiring.FUNCTIONS:
        granted = actions(statements_of(synth, spec.logical_id))
        if spec is wiring.SPEAKER:
            assert writes | {transcribe} <= granted
            assert not {a for a in granted if a.split(":")[0] in ("translate", "polly")}
            assert not {a for a in granted if a.startswith("kinesis:Get")}
        else:
            assert not granted & (writes | {transcribe}), spec.logical_id


def test_processor_cannot_post_to_listeners(synth: Any) -> None:
    granted = actions(statements_of(synth, "TranscriptProcessor"))
    assert "execute-api:ManageConnections" not in granted
    assert not {a for a in granted if a.startswith("dynamodb:") and "Scan" in a}


def test_no_function_has_wildcard_actions(synth: Any) -> None:
    for spec in wiring.FUNCTIONS:
        for action in actions(statements_of(synth, spec.logical_id)):
            assert "*" not in action, (spec.logical_id, action)


def test_websocket_grant_is_scoped_to_the_stage_connections(synth: Any) -> None:
    for spec in (wiring.BROADCASTER, wiring.CONNECTION_HANDLER):
        (statement,) = [
            s for s in statements_of(synth, spec.logical_id) if s.get("Sid") == "WebsocketManage"
        ]
        parts = statement["Resource"]["Fn::Join"][1]
        assert parts[-1] == "/live/*/@connections/*"


def test_producer_policy_allows_only_put_records(synth: Any) -> None:
    (policy,) = synth.resources("PolycastState", "AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {"PutTranscripts", "EncryptTranscripts"}
    assert sorted(_as_list(by_sid["PutTranscripts"]["Action"])) == [
        "kinesis:PutRecord",
        "kinesis:PutRecords",
    ]
    stream_id = next(iter(synth.resources("PolycastState", "AWS::Kinesis::Stream")))
    assert by_sid["PutTranscripts"]["Resource"] == {"Fn::GetAtt": [stream_id, "Arn"]}
    assert _as_list(by_sid["EncryptTranscripts"]["Action"]) == ["kms:GenerateDataKey"]
    key_id = next(iter(synth.resources("PolycastState", "AWS::KMS::Key")))
    assert by_sid["EncryptTranscripts"]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_sweeper_only_scans_and_updates_sessions_and_puts_events(synth: Any) -> None:
    statements = statements_of(synth, "SessionSweeper")
    granted = actions(statements)
    assert {a.split(":")[0] for a in granted} == {"logs", "xray", "dynamodb", "events"}
    assert {"dynamodb:Scan", "dynamodb:UpdateItem", "events:PutEvents"} <= granted
    for statement in statements:
        if any(a.startswith("dynamodb:") for a in _as_list(statement["Action"])):
            resource = json.dumps(statement["Resource"])
            assert "PolycastState:SessionsTableArn" in resource
            assert "index/" not in resource


def test_only_the_sweeper_may_scan(synth: Any) -> None:
    for spec in wiring.FUNCTIONS:
        scans = "dynamodb:Scan" in actions(statements_of(synth, spec.logical_id))
        assert scans == (spec is wiring.SESSION_SWEEPER), spec.logical_id
