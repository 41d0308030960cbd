"""What must outlive a redeploy: the tables from the wiring and the audio bucket."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.private_bucket import PrivateBucket
from infra.constructs.tagging import tag_wiring
from polycast import wiring

_ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def _attribute(key: wiring.Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class PipelineTables(Construct):
    """One DynamoDB table per ``wiring.TABLES`` entry: on-demand, PITR, encrypted, TTL.

    ``tables`` maps the wiring's logical id (``"Sessions"``) to the table.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, tables: Sequence[wiring.Table]
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in tables:
            table = dynamodb.Table(
                self,
                spec.logical_id,
                partition_key=_attribute(spec.partition_key),
                sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=spec.ttl_attribute,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            tag_wiring(table, spec.logical_id)
            self.tables[spec.logical_id] = table


class AudioStore(Construct):
    """Synthesized audio too large to travel inline (claim check), kept for about a day.

    Listeners fetch objects through pre-signed URLs, so the bucket stays private and
    only answers cross-origin GETs.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, listener_origins: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = PrivateBucket(
            self,
            "Bucket",
            removal_policy=RemovalPolicy.RETAIN,
            why_no_access_logs=(
                "Objects live one day and are read through short-lived pre-signed URLs; "
                "server access logs would outlive the data they describe. Use CloudTrail S3 "
                "data events when an audit trail is required."
            ),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-audio",
                    expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=list(listener_origins),
                    allowed_headers=["*"],
                    max_age=3600,
                )
            ],
        )
