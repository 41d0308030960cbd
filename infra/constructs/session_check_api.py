"""The listener page's session check: an HTTP API with the wiring's one route.

A browser cannot read why a WebSocket upgrade was refused, so the page asks
``GET /sessions/{sessionId}?targetLanguage=…[&joinCode=…]`` first
(``wiring.SESSION_CHECK_ROUTE``, the connection handler's ``$connect`` validation
without side effects). The listener page's CloudFront distribution forwards
``/sessions/*`` to this API, so the page calls its own origin: no CORS is configured
(other sites' pages cannot read the answers) and the page's CSP needs no new host.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.nag import acknowledge
from infra.constructs.tagging import tag_wiring
from polycast import wiring

# A page asks once before connecting and once after a refused connect: a large
# audience opening the link together stays well under these.
RATE_LIMIT = 100
BURST_LIMIT = 200

# No paths, query strings (join codes) or source addresses: request id, route, status, timing.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


def method_and_path(route_key: str) -> tuple[apigwv2.HttpMethod, str]:
    """``"GET /sessions/{sessionId}"`` → (``HttpMethod.GET``, ``"/sessions/{sessionId}"``)."""
    method, _, path = route_key.partition(" ")
    if not path.startswith("/"):
        raise ValueError(f"not an HTTP route key: {route_key!r}")
    return apigwv2.HttpMethod[method], path


class SessionCheckApi(Construct):
    """HTTP API, throttled and access-logged ``$default`` stage, and the one route."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        route: wiring.Route,
        functions: Mapping[str, lambda_.IFunction],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            description="Polycast listener page: why would a join be refused?",
            create_default_stage=False,
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
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
        method, path = method_and_path(route.route_key)
        (created,) = self.api.add_routes(
            path=path,
            methods=[method],
            integration=integrations.HttpLambdaIntegration(
                "SessionCheckIntegration", functions[route.function.logical_id]
            ),
        )
        tag_wiring(created, f"route:{route.route_key}")
        self.path = path
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "Listeners are anonymous by design (docs/deploy.md): the session check answers only "
            "whether a join with these parameters would be admitted, exactly what a "
            "$connect attempt would reveal, and has no side effects.",
        )

    @property
    def domain_name(self) -> str:
        """``<api>.execute-api.<region>.<suffix>``: the CloudFront origin."""
        stack = Stack.of(self)
        return f"{self.api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
