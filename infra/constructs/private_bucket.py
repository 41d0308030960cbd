"""A private S3 bucket: the one place its security settings are decided.

Every bucket Polycast deploys is encrypted (SSE-S3), refuses non-TLS requests, blocks
all public access and disables ACLs (the owner owns every object); what differs —
lifecycle, CORS, whether it outlives the stack — is passed in. Server access logs are
off, and each bucket says why in its cdk-nag acknowledgement (``AwsSolutions-S1``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge


class PrivateBucket(s3.Bucket):
    """``s3.Bucket`` with the private settings fixed; other ``s3.Bucket`` options pass
    through. A subclass, not a wrapper, so the bucket keeps its logical id."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        why_no_access_logs: str,
        **options: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
            **options,
        )
        acknowledge(self, "AwsSolutions-S1", why_no_access_logs)
