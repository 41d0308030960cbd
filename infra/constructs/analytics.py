"""Analytics subscriptions on the bus: a Logs group with saved queries, optionally a data lake.

What reaches them is the wiring's analytics rule: every event type except those that
carry transcript text (``polycast.wiring.TEXT_EVENT_TYPES``), so neither sink stores
what a speaker said.

The log group target is wired natively (a resource policy plus a plain rule target)
rather than with ``aws_events_targets.CloudWatchLogGroup``, which installs a custom
resource Lambda just to put that policy.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from infra.constructs.nag import acknowledge
from infra.constructs.private_bucket import PrivateBucket

# Saved Logs Insights queries: name → (filter lines, stats lines, sort).
QUERIES: dict[str, tuple[list[str], list[str], str]] = {
    "listener-minutes-per-language": (
        ['`detail-type` = "ListenerLeft"'],
        [
            "sum(detail.connectedSeconds) / 60 as listenerMinutes, "
            "count(*) as listeners by detail.language"
        ],
        "listenerMinutes desc",
    ),
    "segments-per-session": (
        ['`detail-type` = "BroadcastCompleted"'],
        [
            "count_distinct(detail.sequence) as segments, sum(detail.delivered) as deliveries, "
            "sum(detail.failed) as failedDeliveries by detail.sessionId"
        ],
        "segments desc",
    ),
    "failures-by-reason": (
        [
            '`detail-type` = "TranscriptRejected" or '
            '(`detail-type` = "BroadcastCompleted" and detail.failed > 0)'
        ],
        ["count(*) as failures by `detail-type`, coalesce(detail.code, 'BROADCAST_FAILED')"],
        "failures desc",
    ),
}


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A rule target that is just the log group's ARN (the policy is created beside it)."""

    def __init__(self, arn: str) -> None:
        self._arn = arn

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        del rule, id
        return events.RuleTargetConfig(arn=self._arn)


class Analytics(Construct):
    """Subscribes ``rules`` (the wiring's rules without a function) to analytics sinks."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rules: Sequence[events.Rule],
        retention: logs.RetentionDays,
        firehose_to_s3: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # EventBridge delivers only to log groups named /aws/events/….
        self.log_group = logs.LogGroup(
            self,
            "Events",
            log_group_name=f"/aws/events/{stack.stack_name}/analytics",
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        target_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.resource_policy = logs.ResourcePolicy(
            self,
            "EventsDelivery",
            policy_statements=[
                iam.PolicyStatement(
                    sid="EventBridgeDelivery",
                    principals=[
                        iam.ServicePrincipal("events.amazonaws.com"),
                        iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                    ],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": [r.rule_arn for r in rules]}},
                )
            ],
        )
        for rule in rules:
            # No dependency rule → policy: the policy's condition names the rule (a cycle);
            # EventBridge retries delivery for 24 h while the policy is being created.
            rule.add_target(_LogGroupTarget(target_arn))
        self.queries = {
            name: logs.QueryDefinition(
                self,
                f"Query-{name}",
                query_definition_name=f"polycast/{stack.stack_name}/{name}",
                query_string=logs.QueryString(
                    filter_statements=filters, stats_statements=stats, sort=sort
                ),
                log_groups=[self.log_group],
            )
            for name, (filters, stats, sort) in QUERIES.items()
        }
        self.lake: s3.Bucket | None = None
        if firehose_to_s3:
            self._data_lake(rules)

    def _data_lake(self, rules: Sequence[events.Rule]) -> None:
        """Every subscribed event, gzipped JSON in S3 by hour: for Athena and friends."""
        self.lake = PrivateBucket(
            self,
            "Lake",
            removal_policy=RemovalPolicy.RETAIN,
            why_no_access_logs=(
                "Only Firehose writes this bucket (one role); enable CloudTrail S3 data events "
                "if reads by analysts need an audit trail."
            ),
        )
        stream = firehose.DeliveryStream(
            self,
            "Delivery",
            destination=firehose.S3Bucket(
                self.lake,
                data_output_prefix="events/!{timestamp:yyyy/MM/dd/HH}/",
                error_output_prefix="errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
                buffering_interval=Duration.minutes(5),
                buffering_size=Size.mebibytes(5),
                compression=firehose.Compression.GZIP,
            ),
            encryption=firehose.StreamEncryption.aws_owned_key(),
        )
        acknowledge(
            stream,
            "AwsSolutions-IAM5",
            "Firehose writes objects under generated keys in its one bucket.",
            findings=[
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                f"Resource::<{Stack.of(self).get_logical_id(self.lake.node.default_child)}.Arn>/*",  # type: ignore[arg-type]
            ],
        )
        acknowledge(
            Stack.of(self),
            "CloudFormation-Validate::W7001",
            "aws_kinesisfirehose adds a region → CIDR mapping for Redshift and Splunk "
            "destinations that an S3 destination never reads.",
        )
        for rule in rules:
            rule.add_target(targets.FirehoseDeliveryStream(stream))
