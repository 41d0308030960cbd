"""The listener page (``web/``) on AWS: a private bucket behind CloudFront.

The files are deployed as they are (no build step), with a ``config.json`` generated
beside them at deploy time: the page reads the WebSocket URL and the language list
from it, exactly as it does from the local gateway's ``/config.json``. CloudFront
reads the bucket through Origin Access Control, answers HTTPS only and adds security
headers, including a Content-Security-Policy that narrows the page's own ``<meta>``
policy to this deployment's WebSocket and audio hosts. ``/sessions/*`` goes to the
session-check API (uncached), so the page's session check is same-origin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Aws, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.nag import acknowledge, finding_of
from infra.constructs.private_bucket import PrivateBucket
from polycast.adapters.aws.transcribe_url import aws_endpoint

# What never ships: Node's module marker, tests, tooling, and a config.json of the
# checkout's own (the deployed one is generated).
WEB_EXCLUDES = [
    "package.json",
    "package-lock.json",
    "node_modules",
    "config.json",
    "*.test.js",
    "*.spec.js",
    "test",
    "tests",
    "__tests__",
    "*.md",
    ".*",
]

# The files carry no content hash in their names: browsers revalidate after a few
# minutes, and every deploy invalidates CloudFront's copy.
BROWSER_CACHE = Duration.minutes(5)


# Where the distribution forwards the session check (``wiring.SESSION_CHECK_ROUTE``).
SESSION_CHECK_PATTERN = "/sessions/*"


def page_config(
    *,
    websocket_url: str,
    languages: Sequence[str],
    source_language: str,
    session_check_url: str | None = None,
) -> dict[str, Any]:
    """The page's ``config.json`` (docs/listener-page.md).

    ``sessionCheckUrl`` is a template with ``{sessionId}`` (``web/session-check.js``);
    null tells the page there is no check, so it words refusals generically.
    ``exportUrl`` is null: the deployed stack serves no transcripts over HTTP (organizers
    run ``polycast session export --stack …``, docs/organizers.md), so the page's
    "session ended" panel offers no download links (``web/transcript-links.js``).
    """
    return {
        "websocketUrl": websocket_url,
        "languages": list(languages),
        "sourceLanguage": source_language,
        "sessionCheckUrl": session_check_url,
        "exportUrl": None,
    }


def content_security_policy(
    *, websocket_origin: str, audio_origins: Sequence[str], transcribe_origin: str = ""
) -> str:
    """The page's ``<meta>`` policy with ``connect-src`` / ``media-src`` narrowed.

    A browser enforces both policies, so this header can only take away: scripts and
    styles stay same-origin, the socket may reach only this API, audio only the audio
    bucket (presigned URLs) and the page's own blobs; the speaker page's recognition
    stream only Amazon Transcribe streaming in the stack's region.
    """
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {websocket_origin} {transcribe_origin}".rstrip(),
            "media-src 'self' blob: " + " ".join(audio_origins),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class ListenerPage(Construct):
    """``web/`` plus a generated ``config.json`` in a private bucket, served by CloudFront."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        web_root: Path,
        config: Mapping[str, Any],
        websocket_origin: str,
        audio_origins: Sequence[str],
        log_retention: logs.RetentionDays,
        session_check_domain: str | None = None,
    ) -> None:
        """``session_check_domain``: the session-check API's host, served at
        ``/sessions/*``; the deployed ``config.json`` then names that URL."""
        super().__init__(scope, construct_id)
        # Holds only what the deployment below puts there: emptied by it on delete.
        self.bucket = PrivateBucket(
            self,
            "Bucket",
            removal_policy=RemovalPolicy.DESTROY,
            why_no_access_logs=(
                "The bucket holds only the page's static files, written by the deployment "
                "and read by CloudFront alone (Origin Access Control); an object-level audit "
                "trail is CloudTrail's S3 data events, and viewers' requests are CloudFront's."
            ),
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Polycast listener page: CSP, HSTS, nosniff, no framing, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        websocket_origin=websocket_origin,
                        audio_origins=audio_origins,
                        transcribe_origin=aws_endpoint(Stack.of(self).region),
                    ),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )
        additional_behaviors: dict[str, cloudfront.BehaviorOptions] = {}
        if session_check_domain is not None:
            # Never cached (the answer changes as sessions start and end); the query
            # string (targetLanguage, joinCode) goes to the API, the Host header not.
            additional_behaviors[SESSION_CHECK_PATTERN] = cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin(
                    session_check_domain,
                    protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.headers,
                compress=True,
            )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Polycast listener page",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            additional_behaviors=additional_behaviors or None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
        )
        self._acknowledge_distribution()
        if session_check_domain is not None:
            config = {**config, "sessionCheckUrl": self.session_check_url}
        self.deploy_logs = logs.LogGroup(
            self, "DeployLogs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Files",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(web_root), exclude=WEB_EXCLUDES),
                # Source.data, not json_data: jsii drops None, and the page needs an
                # explicit ``"sessionCheckUrl": null``. Tokens in the text become markers
                # that the deployment replaces with their deployed values.
                s3deploy.Source.data("config.json", json.dumps(dict(config))),
            ],
            cache_control=[
                s3deploy.CacheControl.set_public(),
                s3deploy.CacheControl.max_age(BROWSER_CACHE),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            retain_on_delete=False,
            log_group=self.deploy_logs,
            memory_limit=256,
        )
        self._acknowledge_deployment_function()

    @property
    def url(self) -> str:
        """``https://<id>.cloudfront.net/``: where listeners open the page."""
        return f"https://{self.distribution.distribution_domain_name}/"

    @property
    def session_check_url(self) -> str:
        """``https://<id>.cloudfront.net/sessions/{sessionId}``: ``sessionCheckUrl``."""
        return f"{self.url}{SESSION_CHECK_PATTERN[1:-1]}{{sessionId}}"

    def _acknowledge_distribution(self) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Listeners may be anywhere: a broadcast is meant to be heard by whoever has the "
            "session link, so the page is not geo-restricted.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves a handful of cached static files with no origin compute "
            "and no forms posting to it; the WebSocket API it points at is throttled per "
            "stage. Attach a web ACL (web_acl_id) where an organization requires WAF.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "No CloudFront access logs on purpose: listeners are anonymous, and a log line "
            "would store each viewer's IP address with the page's query string, which "
            "carries the session id and, for protected sessions, the join code. Request "
            "counts and error rates come from CloudFront's CloudWatch metrics.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Served on the default *.cloudfront.net certificate, for which CloudFront fixes "
            "the viewer security policy at TLSv1 (a minimum protocol cannot be set); attach a "
            "custom domain and certificate to require TLSv1.2_2021.",
        )

    def _acknowledge_deployment_function(self) -> None:
        """BucketDeployment's provider is a stack-level singleton Lambda with CDK's policy.

        Each wildcard it holds is named: object-level actions on the CDK asset bucket
        (read the page's zip) and on the page bucket (copy, prune), and CloudFront
        invalidations, which have no resource-level permissions.
        """
        stack = Stack.of(self)
        provider = next(
            child
            for child in stack.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        qualifier = (
            getattr(stack.synthesizer, "bootstrap_qualifier", None)
            or self.node.try_get_context("@aws-cdk/core:bootstrapQualifier")
            or DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        asset_bucket = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
            "${Qualifier}", qualifier
        )
        asset_objects = finding_of(self, f"arn:{Aws.PARTITION}:s3:::{Fn.sub(asset_bucket)}/*")
        page_objects = finding_of(self, f"{self.bucket.bucket_arn}/*")
        acknowledge(
            provider,
            "AwsSolutions-IAM4",
            "CDK's BucketDeployment provider uses AWSLambdaBasicExecutionRole to write its own "
            "logs; it runs only while CloudFormation deploys the page.",
            findings=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole"
            ],
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM5",
            "CDK's BucketDeployment provider reads the page's zip from the CDK asset bucket, "
            "copies it into the page bucket and prunes what the page no longer has "
            "(object-level wildcards on those two buckets only), then invalidates the "
            "distribution (CloudFront invalidations have no resource-level permissions).",
            findings=[
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                f"Resource::{asset_objects}",
                f"Resource::{page_objects}",
                "Resource::*",
            ],
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "The runtime of CDK's BucketDeployment provider is chosen by aws-cdk-lib and moves "
            "forward with it; it runs only while CloudFormation deploys the page.",
        )
