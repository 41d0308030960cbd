"""Alarms (the seed's four plus the pipeline's own), their SNS topic, and the dashboard.

The pipeline's metrics are EMF from Powertools in namespace ``TranslationPipeline``
with the single default dimension ``service`` — the emitting function's service
name (``transcript-processor``, ``broadcaster``); rates are percentages (0–100).
Translation metrics come from the processor; ``BroadcastSuccessRate`` from both:
the processor's is the share of SegmentReady events published, the broadcaster's
the share of deliveries to listeners (the seed's meaning, which the alarm uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from polycast import wiring

NAMESPACE = wiring.METRICS_NAMESPACE
PERIOD = Duration.minutes(5)

CACHE_HIT_RATE_MIN = 30.0
BROADCAST_SUCCESS_RATE_MIN = 95.0
FAILED_LANGUAGES_MAX_PERCENT = 10.0
ITERATOR_AGE_MAX_MS = 60_000


def pipeline_metric(name: str, service: str, statistic: str = "Average") -> cw.Metric:
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=PERIOD,
    )


def failed_languages_percent(service: str) -> cw.MathExpression:
    """Failed languages as a share of all languages attempted (processed + failed)."""
    return cw.MathExpression(
        expression="100 * failed / (processed + failed)",
        using_metrics={
            "failed": pipeline_metric("FailedLanguagesCount", service, "Sum"),
            "processed": pipeline_metric("LanguagesProcessed", service, "Sum"),
        },
        label="Failed languages (%)",
        period=PERIOD,
    )


class Observability(Construct):
    """Everything an on-call person looks at; every alarm notifies ``topic``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.Function],
        processor: lambda_.Function,
        processor_service: str,
        broadcaster_service: str,
        queues: Sequence[sqs.IQueue],
        websocket_api: apigwv2.WebSocketApi,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._processor_service = processor_service
        self._broadcaster_service = broadcaster_service
        key = kms.Key(
            self,
            "TopicKey",
            description="Polycast alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # CloudWatch alarms publish to an encrypted topic only if they may use its key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "Alarms", display_name="Polycast alarms", master_key=key, enforce_ssl=True
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: dict[str, cw.Alarm] = {}

        self._alarm(
            "CacheHitRateLow",
            pipeline_metric("CacheHitRate", processor_service),
            CACHE_HIT_RATE_MIN,
            cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            "Translation cache hit rate below 30 %",
        )
        self._alarm(
            "BroadcastSuccessRateLow",
            pipeline_metric("BroadcastSuccessRate", broadcaster_service),
            BROADCAST_SUCCESS_RATE_MIN,
            cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            "Fewer than 95 % of deliveries to listeners succeeded",
        )
        self._alarm(
            "SegmentPublishRateLow",
            pipeline_metric("BroadcastSuccessRate", processor_service),
            BROADCAST_SUCCESS_RATE_MIN,
            cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            "Fewer than 95 % of SegmentReady events reached the bus",
        )
        self._alarm(
            "FailedLanguagesHigh",
            failed_languages_percent(processor_service),
            FAILED_LANGUAGES_MAX_PERCENT,
            cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            "More than 10 % of languages failed (translate or synthesize)",
        )
        self._alarm(
            "TranscriptIteratorAgeHigh",
            processor.metric("IteratorAge", statistic="Maximum", period=PERIOD),
            ITERATOR_AGE_MAX_MS,
            cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            "The processor is more than a minute behind the transcript stream",
        )
        for queue in queues:
            self._alarm(
                f"{queue.node.id}NotEmpty",
                queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=PERIOD
                ),
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                f"Messages waiting in {queue.node.id}: records or events that failed for good",
            )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors",
                function.metric_errors(statistic="Sum", period=PERIOD),
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                f"{name} invocations failed",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(statistic="Sum", period=PERIOD),
                0,
                cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                f"{name} invocations were throttled",
            )
        self.dashboard = self._dashboard(functions, processor, queues, websocket_api)

    def _alarm(
        self,
        alarm_id: str,
        metric: cw.IMetric,
        threshold: float,
        comparison: cw.ComparisonOperator,
        description: str,
    ) -> None:
        alarm = cw.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            # No traffic is not an incident: a quiet pipeline emits no metrics.
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms[alarm_id] = alarm

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.Function],
        processor: lambda_.Function,
        queues: Sequence[sqs.IQueue],
        websocket_api: apigwv2.WebSocketApi,
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        proc, bcast = self._processor_service, self._broadcaster_service
        api_metric = {"namespace": "AWS/ApiGateway", "period": PERIOD, "statistic": "Sum"}
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Cache hit and broadcast success (%)",
                left=[
                    pipeline_metric("CacheHitRate", proc).with_(label="Cache hit rate"),
                    pipeline_metric("BroadcastSuccessRate", bcast).with_(label="Deliveries"),
                    pipeline_metric("BroadcastSuccessRate", proc).with_(label="Segments published"),
                ],
                left_y_axis=cw.YAxisProps(min=0, max=100),
            ),
            cw.GraphWidget(
                title="Languages per period",
                left=[
                    pipeline_metric("LanguagesProcessed", proc, "Sum"),
                    pipeline_metric("FailedLanguagesCount", proc, "Sum"),
                ],
                right=[failed_languages_percent(proc)],
            ),
            cw.GraphWidget(
                title="Processing duration (ms)",
                left=[
                    pipeline_metric("ProcessingDuration", proc, "p50"),
                    pipeline_metric("ProcessingDuration", proc, "p95"),
                    pipeline_metric("ProcessingDuration", proc, "Maximum"),
                ],
            ),
            cw.GraphWidget(
                title="Listeners",
                left=[pipeline_metric("ListenerCount", proc, "Maximum")],
                right=[
                    cw.Metric(
                        metric_name=name,
                        dimensions_map={"ApiId": websocket_api.api_id},
                        **api_metric,  # type: ignore[arg-type]
                    )
                    for name in ("ConnectCount", "MessageCount", "ClientError")
                ],
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="Transcript stream lag (ms)",
                left=[processor.metric("IteratorAge", statistic="Maximum", period=PERIOD)],
            ),
            cw.GraphWidget(
                title="Failed for good (messages waiting)",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=PERIOD
                    )
                    for q in queues
                ],
            ),
            *(
                cw.GraphWidget(
                    title=f"{name}: invocations, errors, throttles, p95 duration",
                    left=[
                        fn.metric_invocations(period=PERIOD),
                        fn.metric_errors(period=PERIOD),
                        fn.metric_throttles(period=PERIOD),
                    ],
                    right=[fn.metric_duration(statistic="p95", period=PERIOD)],
                )
                for name, fn in functions.items()
            ),
        )
        return dashboard
