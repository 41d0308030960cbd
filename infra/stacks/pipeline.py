"""The stateless stack: code, wiring and observability; redeploys (or is rebuilt) freely."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.analytics import Analytics
from infra.constructs.broadcasting import Broadcasting
from infra.constructs.event_schemas import EventSchemas
from infra.constructs.functions import PipelineFunctions, service_of
from infra.constructs.grants import GrantTargets
from infra.constructs.listener_page import ListenerPage, page_config
from infra.constructs.observability import Observability
from infra.constructs.schedules import Schedules
from infra.constructs.session_check_api import SessionCheckApi
from infra.constructs.transcript_stream import TranscriptSource
from infra.constructs.websocket_api import WebSocketApi
from infra.options import REPO_ROOT, DeployOptions
from infra.stacks.stateful import PipelineState
from polycast.config import Settings
from polycast.wiring import BROADCASTER, SESSION_CHECK_ROUTE, WIRING, Env

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def retention_days(days: int) -> logs.RetentionDays:
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"log retention must be one of {sorted(_RETENTION)} days") from None


class PipelineStack(Stack):
    """Functions, event source, bus and rules, schedules, WebSocket API, session-check
    API, registry, alarms, analytics, and the listener page."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state: PipelineState,
        options: DeployOptions,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        retention = retention_days(options.log_retention_days)

        broadcasting = Broadcasting(
            self, "Broadcasting", archive_retention_days=options.archive_retention_days
        )
        websocket = WebSocketApi(
            self,
            "WebSocket",
            rate_limit=options.websocket_rate_limit,
            burst_limit=options.websocket_burst_limit,
            log_retention=retention,
            account_logging_role=options.api_gateway_account_role,
        )
        environment = {
            # Tunables (and the metrics namespace): the package's own defaults, so local
            # and deployed agree.
            **Settings().as_env(),
            **{t.env_var: state.tables[t.logical_id].table_name for t in WIRING.tables},
            Env.EVENT_BUS_NAME: broadcasting.bus.event_bus_name,
            Env.AUDIO_BUCKET_NAME: state.audio_bucket.bucket_name,
            Env.TRANSCRIPT_STREAM_NAME: state.stream.stream_name,
            Env.API_GATEWAY_ENDPOINT: websocket.callback_url,
            Env.FINAL_CAPTION_FIRST: "1" if options.final_caption_first else "0",
        }
        functions = PipelineFunctions(
            self,
            "Functions",
            functions=WIRING.functions,
            environment=environment,
            targets=GrantTargets(
                table_arns=state.table_arns,
                audio_bucket_arn=state.audio_bucket_arn,
                bus=broadcasting.bus,
                stream_arn=state.stream_arn,
                stream_key_arn=state.stream_key_arn,
                websocket_stage=websocket.stage,
            ),
            log_retention=retention,
            bundle_layer=not options.skip_layer_bundling,
        )
        websocket.add_routes(WIRING.routes, functions.functions)
        session_check = SessionCheckApi(
            self,
            "SessionCheck",
            route=SESSION_CHECK_ROUTE,
            functions=functions.functions,
            log_retention=retention,
        )
        Schedules(self, "Schedules", schedules=WIRING.schedules, functions=functions.functions)
        source = TranscriptSource(
            self,
            "TranscriptSource",
            source=WIRING.kinesis_source,
            stream=state.stream,
            function=functions.functions[WIRING.kinesis_source.function.logical_id],
            enhanced_fan_out=options.enhanced_fan_out,
        )
        subscriptions = broadcasting.add_rules(WIRING.rules, functions.functions)
        Analytics(
            self,
            "Analytics",
            rules=subscriptions,
            retention=retention,
            firehose_to_s3=options.analytics_firehose,
        )
        EventSchemas(self, "EventSchemas")
        observability = Observability(
            self,
            "Observability",
            functions=functions.functions,
            processor=functions.functions[WIRING.kinesis_source.function.logical_id],
            processor_service=service_of(WIRING.kinesis_source.function),
            broadcaster_service=service_of(BROADCASTER),
            queues=[source.on_failure_queue, broadcasting.dead_letters],
            websocket_api=websocket.api,
            alarm_email=options.alarm_email,
        )

        audio_bucket = state.audio_bucket.bucket_name
        page = ListenerPage(
            self,
            "ListenerPage",
            web_root=REPO_ROOT / "web",
            config=page_config(
                websocket_url=websocket.url,
                languages=options.listener_languages,
                source_language=options.source_language,
            ),
            websocket_origin=websocket.origin,
            # Presigned URLs name the bucket on the global or the regional S3 endpoint.
            audio_origins=[
                f"https://{audio_bucket}.s3.amazonaws.com",
                f"https://{audio_bucket}.s3.{self.region}.amazonaws.com",
            ],
            log_retention=retention,
            session_check_domain=session_check.domain_name,
        )

        CfnOutput(self, "WebSocketUrl", value=websocket.url, description="Listeners connect here")
        CfnOutput(
            self,
            "ListenerPageUrl",
            value=page.url,
            description="The listener page: add ?sessionId=<id>&targetLanguage=<code>",
        )
        CfnOutput(
            self,
            "SessionCheckUrl",
            value=page.session_check_url,
            description="The listener page's session check (served by the page's distribution)",
        )
        CfnOutput(self, "ManagementEndpoint", value=websocket.callback_url)
        # The seed's outputs: its infrastructure tests (and deploy scripts) read them.
        processor = functions.functions[WIRING.kinesis_source.function.logical_id]
        CfnOutput(
            self,
            "TranslationProcessorFunctionName",
            value=processor.function_name,
            description="The transcript processor (direct invoke takes the seed's event)",
        )
        CfnOutput(self, "TranslationProcessorFunctionArn", value=processor.function_arn)
        CfnOutput(
            self,
            "SharedLayerArn",
            value=functions.layer.layer_version_arn,
            description="The polycast package as a Lambda layer",
        )
        CfnOutput(self, "EventBusName", value=broadcasting.bus.event_bus_name)
        CfnOutput(self, "ArchiveName", value=broadcasting.archive.archive_name)
        CfnOutput(self, "AlarmTopicArn", value=observability.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=observability.dashboard.dashboard_name)
