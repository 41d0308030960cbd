"""Stack outputs and buckets, asserted through ``aws_cdk.assertions``.

The seed's infrastructure tests read ``TranslationProcessorFunctionName``,
``TranslationProcessorFunctionArn`` and ``SharedLayerArn``; every bucket is built by
``PrivateBucket`` and so carries the same private settings.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.drift import tagged
from polycast import wiring

pytestmark = pytest.mark.infra

STATE = "PolycastState"
PIPELINE = "PolycastPipeline"

PRIVATE_BUCKET = {
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    },
    "PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    },
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
}
TLS_ONLY = Match.object_like(
    {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
)


def template(synth: Any, stack: str) -> Template:
    return Template.from_json(synth.templates[stack])


def test_seed_outputs_name_the_transcript_processor_and_the_shared_layer(synth: Any) -> None:
    pipeline = template(synth, PIPELINE)
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    processor_id, processor = functions[wiring.TRANSCRIPT_SOURCE.function.logical_id]
    (layer,) = processor["Properties"]["Layers"]  # the layer the functions run on

    pipeline.has_output("TranslationProcessorFunctionName", {"Value": {"Ref": processor_id}})
    pipeline.has_output(
        "TranslationProcessorFunctionArn", {"Value": {"Fn::GetAtt": [processor_id, "Arn"]}}
    )
    pipeline.has_output("SharedLayerArn", {"Value": layer})
    pipeline.has_resource("AWS::Lambda::LayerVersion", {})
    assert "Ref" in layer
    assert synth.pipeline["Resources"][layer["Ref"]]["Type"] == "AWS::Lambda::LayerVersion"


def test_the_other_outputs_stay(synth: Any) -> None:
    pipeline = template(synth, PIPELINE)
    for name in (
        "WebSocketUrl",
        "ListenerPageUrl",
        "SessionCheckUrl",
        "ManagementEndpoint",
        "EventBusName",
        "ArchiveName",
        "AlarmTopicArn",
        "DashboardName",
    ):
        pipeline.has_output(name, {})
    pipeline.has_output("WebSocketUrl", {"Value": {"Fn::Join": ["", Match.array_with(["wss://"])]}})
    state = template(synth, STATE)
    for name in ("TranscriptStreamName", "ProducerPolicyArn", "AudioBucketName"):
        state.has_output(name, {})


@pytest.mark.parametrize(
    ("stack", "firehose", "buckets"),
    [(STATE, False, 1), (PIPELINE, False, 1), (PIPELINE, True, 2)],
    ids=["state", "pipeline", "pipeline-with-data-lake"],
)
def test_every_bucket_is_private_encrypted_and_tls_only(
    synth: Any, synth_with_firehose: Any, stack: str, firehose: bool, buckets: int
) -> None:
    synthesized = synth_with_firehose if firehose else synth
    checked = template(synthesized, stack)
    checked.resource_count_is("AWS::S3::Bucket", buckets)
    checked.all_resources_properties("AWS::S3::Bucket", PRIVATE_BUCKET)
    for bucket_id in checked.find_resources("AWS::S3::Bucket"):
        checked.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {"Statement": Match.array_with([TLS_ONLY])},
            },
        )


def test_audio_bucket_is_retained_short_lived_and_readable_cross_origin(synth: Any) -> None:
    template(synth, STATE).has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "LifecycleConfiguration": {
                        "Rules": [Match.object_like({"ExpirationInDays": 1, "Status": "Enabled"})]
                    },
                    "CorsConfiguration": {
                        "CorsRules": [
                            Match.object_like({"AllowedMethods": Match.array_with(["GET"])})
                        ]
                    },
                }
            ),
        },
    )


def test_page_bucket_goes_with_the_stack_and_the_data_lake_stays(synth_with_firehose: Any) -> None:
    pipeline = template(synth_with_firehose, PIPELINE)
    page = pipeline.find_resources("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    lake = pipeline.find_resources("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})
    assert [name.startswith("ListenerPage") for name in page] == [True]
    assert [name.startswith("AnalyticsLake") for name in lake] == [True]
