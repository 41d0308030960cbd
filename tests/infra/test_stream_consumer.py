"""The transcript event source, both ways: Lambda polling the stream with no batching
window (the default), and an enhanced fan-out consumer behind
``-c polycast:enhancedFanOut=true`` with the mapping on the consumer and the
processor allowed to subscribe to that one consumer."""

from __future__ import annotations

from typing import Any

import pytest

from infra.constructs.transcript_stream import CONSUMER_ACTIONS
from infra.drift import drift, tagged
from polycast import wiring
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_nag_and_lint import _violations

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def synth_fan_out(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-out-efo"), **{"polycast:enhancedFanOut": True})


def mapping(synth: Synthesized) -> dict[str, Any]:
    props: dict[str, Any]
    (props,) = [
        r["Properties"]
        for r in synth.resources(_pipeline(synth), "AWS::Lambda::EventSourceMapping").values()
    ]
    return props


def _pipeline(synth: Synthesized) -> str:
    from infra.app import PIPELINE_STACK

    return PIPELINE_STACK


def processor_statements(synth: Synthesized) -> list[dict[str, Any]]:
    pipeline = synth.pipeline
    function_id = tagged(pipeline, "AWS::Lambda::Function")[
        wiring.TRANSCRIPT_SOURCE.function.logical_id
    ][0]
    role = pipeline["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synth.resources(_pipeline(synth), "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_default_polls_the_stream_with_no_batching_window(synth: Synthesized) -> None:
    props = mapping(synth)
    assert wiring.TRANSCRIPT_SOURCE.max_batching_window_seconds == 0
    assert props["MaximumBatchingWindowInSeconds"] == 0
    assert "Fn::ImportValue" in props["EventSourceArn"]  # the stream, from the state stack
    assert synth.resources(_pipeline(synth), "AWS::Kinesis::StreamConsumer") == {}
    assert not [s for s in processor_statements(synth) if s.get("Sid") == "StreamConsumer"]


def test_enhanced_fan_out_maps_the_processor_to_a_consumer(synth_fan_out: Synthesized) -> None:
    consumers = synth_fan_out.resources(_pipeline(synth_fan_out), "AWS::Kinesis::StreamConsumer")
    ((consumer_id, consumer),) = consumers.items()
    assert "Fn::ImportValue" in consumer["Properties"]["StreamARN"]
    props = mapping(synth_fan_out)
    assert props["EventSourceArn"] == {"Fn::GetAtt": [consumer_id, "ConsumerARN"]}
    assert props["MaximumBatchingWindowInSeconds"] == 0
    (statement,) = [
        s for s in processor_statements(synth_fan_out) if s.get("Sid") == "StreamConsumer"
    ]
    assert sorted(statement["Action"]) == sorted(CONSUMER_ACTIONS)
    assert statement["Resource"] == {"Fn::GetAtt": [consumer_id, "ConsumerARN"]}
    # Everything else still matches the wiring, and cdk-nag has nothing to add.
    assert drift(synth_fan_out.state, synth_fan_out.pipeline) == []
    assert _violations(synth_fan_out.outdir) == []
