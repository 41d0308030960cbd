"""The stateful stack: stream, tables and bucket, retained when the stack is deleted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.state import AudioStore, PipelineTables
from infra.constructs.transcript_stream import TranscriptStream
from infra.options import DeployOptions
from polycast.wiring import WIRING


@dataclass(frozen=True)
class PipelineState:
    """What the stateless stack needs from the stateful one (CDK turns it into exports)."""

    tables: dict[str, dynamodb.Table]
    stream: kinesis.Stream
    stream_key: kms.Key
    audio_bucket: s3.Bucket
    producer_policy: iam.ManagedPolicy
    # ARNs for IAM statements, as named exports ("PolycastState:AudioBucketArn"): stable,
    # readable names in the consumer's policies and in cdk-nag findings.
    table_arns: dict[str, str]
    audio_bucket_arn: str
    stream_arn: str
    stream_key_arn: str


class StatefulStack(Stack):
    """Data that must survive a redeploy or a mistaken ``cdk destroy``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, options: DeployOptions, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        transcripts = TranscriptStream(self, "Transcripts", shard_count=options.shard_count)
        tables = PipelineTables(self, "Tables", tables=WIRING.tables)
        audio = AudioStore(self, "Audio", listener_origins=options.listener_origins)
        self.state = PipelineState(
            tables=tables.tables,
            stream=transcripts.stream,
            stream_key=transcripts.key,
            audio_bucket=audio.bucket,
            producer_policy=transcripts.producer_policy,
            table_arns={
                name: self._export(f"{name}TableArn", table.table_arn)
                for name, table in tables.tables.items()
            },
            audio_bucket_arn=self._export("AudioBucketArn", audio.bucket.bucket_arn),
            stream_arn=self._export("TranscriptStreamArn", transcripts.stream.stream_arn),
            stream_key_arn=self._export("TranscriptStreamKeyArn", transcripts.key.key_arn),
        )
        CfnOutput(
            self,
            "TranscriptStreamName",
            value=transcripts.stream.stream_name,
            description="Kinesis stream speaker apps write transcripts to",
        )
        CfnOutput(
            self,
            "ProducerPolicyArn",
            value=transcripts.producer_policy.managed_policy_arn,
            description="Attach to a speaker app's role or user: PutRecord(s) on the stream only",
        )
        CfnOutput(self, "AudioBucketName", value=audio.bucket.bucket_name)

    def _export(self, name: str, value: str) -> str:
        """Export ``value`` as ``<stack>:<name>``; return the import for the other stack."""
        return self.export_value(value, name=f"{self.stack_name}:{name}")
