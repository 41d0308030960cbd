"""The Lambda functions, one per ``wiring.FUNCTIONS`` entry, on the shared layer.

Each function gets its own role holding only the statements its wiring grants map
to (``infra.constructs.grants``), its own log group with a retention, exactly the
environment variables the wiring lists, and X-Ray tracing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.grants import WILDCARD_REASONS, GrantTargets, statements_for
from infra.constructs.layer import ARCHITECTURE, RUNTIME, shared_layer
from infra.constructs.nag import acknowledge, finding_of
from infra.constructs.tagging import tag_wiring
from infra.options import REPO_ROOT
from polycast import wiring

XRAY_REASON = "X-Ray trace segments and telemetry have no resource-level permissions."
_CODE_EXCLUDES = ["__pycache__", "*.pyc", "tests", ".mypy_cache"]


def service_of(spec: wiring.Function) -> str:
    """The Powertools service name; defined once in the wiring."""
    return spec.service_name


class PipelineFunctions(Construct):
    """``functions`` maps the wiring's logical id (``"Broadcaster"``) to the function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[wiring.Function],
        environment: Mapping[str, str],
        targets: GrantTargets,
        log_retention: logs.RetentionDays,
        bundle_layer: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = shared_layer(self, "SharedLayer", bundle=bundle_layer)
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in functions:
            missing = [
                name
                for name in spec.env_vars
                if name not in environment and name != wiring.Env.POWERTOOLS_SERVICE_NAME
            ]
            if missing:
                raise ValueError(f"{spec.logical_id}: no value for env vars {missing}")
            log_group = logs.LogGroup(
                self,
                f"{spec.logical_id}Logs",
                retention=log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            role = iam.Role(
                self,
                f"{spec.logical_id}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Polycast {spec.logical_id}: only what polycast.wiring grants it",
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="Logs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                )
            )
            wildcards: dict[str, list[str]] = {"Resource::*": [XRAY_REASON]}
            for grant in spec.grants:
                for statement in statements_for(grant, targets):
                    role.add_to_principal_policy(statement)
                    for resource in statement.resources:
                        finding = f"Resource::{finding_of(self, resource)}"
                        if "*" in finding:
                            wildcards.setdefault(finding, []).append(WILDCARD_REASONS[grant])
            for finding, reasons in wildcards.items():
                acknowledge(role, "AwsSolutions-IAM5", " ".join(dict.fromkeys(reasons)), [finding])
            function = lambda_.Function(
                self,
                spec.logical_id,
                description=spec.description[:256],
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=lambda_.Code.from_asset(
                    str(REPO_ROOT / spec.code_dir), exclude=_CODE_EXCLUDES
                ),
                layers=[self.layer],
                memory_size=spec.memory_mb,
                timeout=Duration.seconds(spec.timeout_seconds),
                environment={
                    name: service_of(spec)
                    if name == wiring.Env.POWERTOOLS_SERVICE_NAME
                    else environment[name]
                    for name in spec.env_vars
                },
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
            )
            tag_wiring(function, spec.logical_id)
            acknowledge(
                function,
                "AwsSolutions-L1",
                "Runtime pinned to Python 3.12 on purpose: the shared layer's wheels are built "
                "for exactly this version (pip --python-version); upgrades move runtime and "
                "layer together.",
            )
            self.functions[spec.logical_id] = function
            self.log_groups[spec.logical_id] = log_group
