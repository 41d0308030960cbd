"""Where transcripts enter: the encrypted Kinesis stream, who may write to it, who reads it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge
from infra.constructs.tagging import tag_wiring
from polycast.wiring import KinesisSource

PRODUCER_ACTIONS = ("kinesis:PutRecord", "kinesis:PutRecords")
# What an event source mapping on an enhanced fan-out consumer needs on the consumer
# (the stream's own read actions come from the function's stream:read grant).
CONSUMER_ACTIONS = ("kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer")


class TranscriptStream(Construct):
    """The ``transcripts`` stream (KMS, retained) and the managed policy speaker apps attach.

    ``shard_count=None`` is on-demand: a live event's audience does not change the
    write rate, but the number of concurrent sessions does, and on-demand absorbs that.
    """

    def __init__(self, scope: Construct, construct_id: str, *, shard_count: int | None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="Polycast transcript stream encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.stream = kinesis.Stream(
            self,
            "Stream",
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=self.key,
            stream_mode=kinesis.StreamMode.ON_DEMAND
            if shard_count is None
            else kinesis.StreamMode.PROVISIONED,
            shard_count=shard_count,
            retention_period=Duration.hours(24),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.stream,
            "AwsSolutions-KDS3",
            "A customer managed key on purpose: producers get kms:GenerateDataKey on exactly "
            "this key through the producer policy, and the key is rotated and retained with "
            "the stream.",
        )
        self.producer_policy = iam.ManagedPolicy(
            self,
            "ProducerPolicy",
            description="Polycast speaker apps: write transcripts to the stream, nothing else",
            statements=[
                iam.PolicyStatement(
                    sid="PutTranscripts",
                    actions=list(PRODUCER_ACTIONS),
                    resources=[self.stream.stream_arn],
                ),
                iam.PolicyStatement(
                    sid="EncryptTranscripts",
                    actions=["kms:GenerateDataKey"],
                    resources=[self.key.key_arn],
                ),
            ],
        )


class TranscriptSource(Construct):
    """The event source mapping stream → processor, with its on-failure queue.

    Every setting comes from ``polycast.wiring.KinesisSource``, the same values the
    local poller uses. The mapping is a plain ``EventSourceMapping`` (not
    ``KinesisEventSource``) so the function's stream permissions come only from its
    ``stream:read`` grant.

    ``enhanced_fan_out`` registers a stream consumer and maps the function to it:
    Kinesis pushes records (SubscribeToShard, ~70 ms average propagation) instead of
    Lambda polling each shard once a second. The function then also may subscribe
    to and describe that one consumer.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: KinesisSource,
        stream: kinesis.IStream,
        function: lambda_.IFunction,
        enhanced_fan_out: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.consumer: kinesis.CfnStreamConsumer | None = None
        source_arn = stream.stream_arn
        if enhanced_fan_out:
            self.consumer = kinesis.CfnStreamConsumer(
                self,
                "Consumer",
                stream_arn=stream.stream_arn,
                consumer_name=f"{Stack.of(self).stack_name}-{source.function.logical_id}",
            )
            source_arn = self.consumer.attr_consumer_arn
            function.add_to_role_policy(
                iam.PolicyStatement(
                    sid="StreamConsumer",
                    actions=list(CONSUMER_ACTIONS),
                    resources=[self.consumer.attr_consumer_arn],
                )
            )
        self.on_failure_queue = sqs.Queue(
            self,
            source.on_failure.logical_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        tag_wiring(self.on_failure_queue, source.on_failure.logical_id)
        acknowledge(
            self.on_failure_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the on-failure destination of the transcript stream mapping; "
            "an operator inspects and redrives it (an alarm watches its depth).",
        )
        self.mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=function,
            event_source_arn=source_arn,
            starting_position=lambda_.StartingPosition[source.starting_position],
            batch_size=source.batch_size,
            max_batching_window=Duration.seconds(source.max_batching_window_seconds),
            parallelization_factor=source.parallelization_factor,
            bisect_batch_on_error=source.bisect_batch_on_error,
            retry_attempts=source.retry_attempts,
            max_record_age=Duration.seconds(source.max_record_age_seconds),
            report_batch_item_failures=source.report_batch_item_failures,
            on_failure=sources.SqsDlq(self.on_failure_queue),
        )
        tag_wiring(self.mapping, "TranscriptSource")
