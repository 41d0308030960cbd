"""The listeners' WebSocket API: routes from the wiring, one Lambda integration per route."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.nag import acknowledge
from infra.constructs.tagging import tag_wiring
from polycast import wiring

STAGE_NAME = "live"

# No connection ids, query strings or message bodies: request id, route, status, timing.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


def _route_id(route_key: str) -> str:
    """``$connect`` → ``Connect``, ``catchUp`` → ``CatchUp``: a valid construct id."""
    name = route_key.lstrip("$")
    return name[0].upper() + name[1:]


class WebSocketApi(Construct):
    """API, ``live`` stage (throttled, access-logged) and, via ``add_routes``, the routes.

    Created before the functions so they can receive the stage's callback URL
    (``API_GATEWAY_ENDPOINT``); the routes are added once the functions exist.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rate_limit: int,
        burst_limit: int,
        log_retention: logs.RetentionDays,
        account_logging_role: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            description="Polycast listeners: ?sessionId=…&targetLanguage=…",
            route_selection_expression=wiring.ROUTE_SELECTION_EXPRESSION,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn,
            format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
        )
        if account_logging_role:
            self._account_logging_role(cfn_stage)
        self.integrations: dict[str, integrations.WebSocketLambdaIntegration] = {}
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "Listeners are anonymous by design (docs/deploy.md): the $connect handler admits only "
            "known, live sessions with a valid language and the join code when one is set; "
            "WebSocket APIs authorize at $connect only, so the other routes run on admitted "
            "connections.",
        )

    def _account_logging_role(self, cfn_stage: apigwv2.CfnStage) -> None:
        """API Gateway writes access logs only once the account names a CloudWatch role."""
        role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        acknowledge(
            role,
            "AwsSolutions-IAM4",
            "The AWS managed policy is the documented way to let API Gateway write logs for "
            "the account; it grants log writing only.",
            findings=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        cfn_stage.add_resource_dependency(account)

    @property
    def url(self) -> str:
        """``wss://…/live``: what listeners connect to."""
        return self.stage.url

    @property
    def origin(self) -> str:
        """``wss://<api>.execute-api.<region>.<suffix>``: the socket's origin, for a CSP."""
        stack = Stack.of(self)
        return f"wss://{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"

    @property
    def callback_url(self) -> str:
        """``https://…/live``: the @connections management endpoint (API_GATEWAY_ENDPOINT)."""
        return self.stage.callback_url

    def add_routes(
        self, routes: Sequence[wiring.Route], functions: Mapping[str, lambda_.IFunction]
    ) -> None:
        """One route per wiring entry, each with its own integration (and invoke permission)."""
        for route in routes:
            route_id = _route_id(route.route_key)
            integration = integrations.WebSocketLambdaIntegration(
                f"{route_id}Integration", functions[route.function.logical_id]
            )
            created = self.api.add_route(route.route_key, integration=integration)
            tag_wiring(created, f"route:{route.route_key}")
            self.integrations[route.route_key] = integration
