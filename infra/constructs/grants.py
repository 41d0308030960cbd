"""Each wiring ``Grant`` as the narrowest IAM statement that lets a function do it.

Statements carry a ``Sid`` derived from the grant (``sessions:read`` →
``SessionsRead``), so a template test can map every statement back to the grant
that asked for it and prove a function holds nothing else.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam

from polycast.wiring import TABLES, Grant

TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
# A whole-table Scan, granted apart from reads: only the session sweeper needs it.
TABLE_SCAN = ("dynamodb:Scan",)
STREAM_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
)
# What a producer needs (the speaker function): records in, nothing read back.
STREAM_WRITE = ("kinesis:PutRecord", "kinesis:PutRecords")

# Actions per grant that are not table grants (those follow TABLE_READ / TABLE_WRITE).
SERVICE_ACTIONS: dict[str, tuple[str, ...]] = {
    "audio:read": ("s3:GetObject",),
    "audio:write": ("s3:PutObject",),
    "bus:put": ("events:PutEvents",),
    "translate": ("translate:TranslateText",),
    "polly": ("polly:SynthesizeSpeech",),
    "websocket:manage": ("execute-api:ManageConnections",),
    "stream:read": (*STREAM_READ, "kms:Decrypt"),
    "stream:write": (*STREAM_WRITE, "kms:GenerateDataKey"),
    "transcribe:stream": ("transcribe:StartStreamTranscriptionWebSocket",),
}

ALL_GRANTS: tuple[str, ...] = typing.get_args(Grant)


def table_of(grant: str) -> str | None:
    """``"cachedTranslations:read"`` → ``"CachedTranslations"`` (the wiring's table id)."""
    prefix, _, verb = grant.partition(":")
    if verb not in ("read", "write", "scan") or prefix in ("audio", "stream"):
        return None
    return prefix[0].upper() + prefix[1:]


def actions_of(grant: str) -> tuple[str, ...]:
    """Every IAM action a grant allows; the test's expectation and the policy agree on this."""
    if table_of(grant) is not None:
        verb = grant.partition(":")[2]
        return {"read": TABLE_READ, "write": TABLE_WRITE, "scan": TABLE_SCAN}[verb]
    try:
        return SERVICE_ACTIONS[grant]
    except KeyError:
        raise ValueError(f"no IAM mapping for wiring grant {grant!r}") from None


def _has_indexes(table_id: str) -> bool:
    return any(t.logical_id == table_id and t.indexes for t in TABLES)


def sid_of(grant: str) -> str:
    """``"cachedTranslations:read"`` → ``"CachedTranslationsRead"``."""
    parts = grant.replace(":", " ").split()
    return "".join(part[0].upper() + part[1:] for part in parts)


# Why a grant's statement needs a wildcard (cdk-nag AwsSolutions-IAM5 acknowledgements).
WILDCARD_REASONS: dict[str, str] = {
    "translate": "TranslateText has no resource to scope to (only custom terminologies do).",
    "polly": "SynthesizeSpeech without lexicons has no resource to scope to.",
    "audio:read": "Audio objects are addressed by per-segment keys in the one audio bucket.",
    "audio:write": "Audio objects are written under per-segment keys in the one audio bucket.",
    "transcribe:stream": "StartStreamTranscriptionWebSocket has no resource to scope to; "
    "the signed URL is for one stream and expires in at most 300 s.",
    "websocket:manage": "Connection ids are only known at runtime; the ARN is scoped to this "
    "API's one stage and its @connections resource.",
}
for _table in TABLES:
    if _table.indexes:
        _grant = _table.logical_id[0].lower() + _table.logical_id[1:] + ":read"
        WILDCARD_REASONS[_grant] = (
            f"Queries go through the {_table.logical_id} table's GSIs, addressed as index/*."
        )


@dataclass(frozen=True)
class GrantTargets:
    """The resources grants point at, as ARNs (cross-stack ARNs are named imports)."""

    table_arns: Mapping[str, str]
    audio_bucket_arn: str
    bus: events.IEventBus
    stream_arn: str
    stream_key_arn: str
    websocket_stage: apigwv2.WebSocketStage


def statements_for(grant: str, targets: GrantTargets) -> list[iam.PolicyStatement]:
    """The statements for one grant, scoped to the one resource it names."""
    sid = sid_of(grant)
    actions = list(actions_of(grant))
    table_id = table_of(grant)
    if table_id is not None:
        table_arn = targets.table_arns[table_id]
        resources = [table_arn]
        if grant.endswith(":read") and _has_indexes(table_id):
            # Query on a GSI addresses the index, not the table.
            resources.append(f"{table_arn}/index/*")
        return [iam.PolicyStatement(sid=sid, actions=actions, resources=resources)]
    if grant in ("audio:read", "audio:write"):
        return [
            iam.PolicyStatement(
                sid=sid, actions=actions, resources=[f"{targets.audio_bucket_arn}/*"]
            )
        ]
    if grant == "bus:put":
        return [
            iam.PolicyStatement(sid=sid, actions=actions, resources=[targets.bus.event_bus_arn])
        ]
    if grant in ("translate", "polly", "transcribe:stream"):
        # Neither TranslateText nor SynthesizeSpeech (without lexicons) has a resource to scope to.
        return [iam.PolicyStatement(sid=sid, actions=actions, resources=["*"])]
    if grant == "websocket:manage":
        stage = targets.websocket_stage
        # POST/GET/DELETE on @connections of this API's one stage (what
        # grant_management_api_access does), with a Sid.
        arn = Stack.of(stage).format_arn(
            service="execute-api",
            resource=stage.api.api_id,
            resource_name=f"{stage.stage_name}/*/@connections/*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        return [iam.PolicyStatement(sid=sid, actions=actions, resources=[arn])]
    if grant == "stream:read":
        return [
            iam.PolicyStatement(sid=sid, actions=list(STREAM_READ), resources=[targets.stream_arn]),
            iam.PolicyStatement(
                sid=f"{sid}Key", actions=["kms:Decrypt"], resources=[targets.stream_key_arn]
            ),
        ]
    if grant == "stream:write":
        return [
            iam.PolicyStatement(
                sid=sid, actions=list(STREAM_WRITE), resources=[targets.stream_arn]
            ),
            iam.PolicyStatement(
                sid=f"{sid}Key", actions=["kms:GenerateDataKey"], resources=[targets.stream_key_arn]
            ),
        ]
    raise ValueError(f"no IAM mapping for wiring grant {grant!r}")
