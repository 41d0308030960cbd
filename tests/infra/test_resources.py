"""What each stack deploys, setting by setting (issue 4: stream, tables, bucket, bus,
WebSocket API, alarms, dashboard, log retention, analytics). Outputs and buckets:
``test_outputs_and_buckets.py``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.drift import tagged
from polycast import wiring

pytestmark = pytest.mark.infra

STATE = "PolycastState"
PIPELINE = "PolycastPipeline"


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def props(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return only(resources)[1]["Properties"]


# --- stateful stack ---------------------------------------------------------------------


def test_stateful_resources_are_retained(synth: Any) -> None:
    for resource_type in (
        "AWS::Kinesis::Stream",
        "AWS::KMS::Key",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
    ):
        for logical_id, resource in synth.resources(STATE, resource_type).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
            assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_stream_is_kms_encrypted_and_on_demand_by_default(synth: Any) -> None:
    stream = props(synth.resources(STATE, "AWS::Kinesis::Stream"))
    key_id, key = only(synth.resources(STATE, "AWS::KMS::Key"))
    assert stream["StreamEncryption"] == {
        "EncryptionType": "KMS",
        "KeyId": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in stream
    assert key["Properties"]["EnableKeyRotation"] is True


def test_shard_count_context_provisions_shards(synth_with_firehose: Any) -> None:
    stream = props(synth_with_firehose.resources(STATE, "AWS::Kinesis::Stream"))
    assert stream["ShardCount"] == 2
    assert stream["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


# --- pipeline stack: functions ----------------------------------------------------------


def test_every_function_has_its_own_log_group_with_retention(synth: Any) -> None:
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    log_groups = synth.resources(PIPELINE, "AWS::Logs::LogGroup")
    for name, (_, function) in functions.items():
        group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[group_id]["Properties"]["RetentionInDays"] == 30, name
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert all("RetentionInDays" in g["Properties"] for g in log_groups.values())


def test_environment_carries_resource_names_and_the_callback_url(synth: Any) -> None:
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    for spec in (wiring.BROADCASTER, wiring.CONNECTION_HANDLER):
        env = functions[spec.logical_id][1]["Properties"]["Environment"]["Variables"]
        endpoint = json.dumps(env["API_GATEWAY_ENDPOINT"])
        assert endpoint.startswith('{"Fn::Join": ["", ["https://"')
        assert "/live" in endpoint
    env = functions["TranscriptProcessor"][1]["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "TranslationPipeline"
    assert env["CACHE_TTL_SECONDS"] == "3600"
    assert env["MAX_CACHE_ENTRIES"] == "10000"
    assert "Fn::ImportValue" in json.dumps(env["SESSIONS_TABLE_NAME"])
    assert env["FINAL_CAPTION_FIRST"] == "1"  # the caption ahead of Polly, by default
    broadcaster = functions["Broadcaster"][1]["Properties"]["Environment"]["Variables"]
    assert broadcaster["MAX_CONCURRENT_BROADCASTS"] == "100"


def test_on_failure_queue_is_encrypted(synth: Any) -> None:
    for name, (_, queue) in tagged(synth.pipeline, "AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name


# --- bus, rules, archive ----------------------------------------------------------------


def test_bus_is_named_polycast_with_an_archive(synth: Any) -> None:
    bus_id, bus = only(synth.resources(PIPELINE, "AWS::Events::EventBus"))
    assert bus["Properties"]["Name"] == wiring.BUS_NAME
    archive = props(synth.resources(PIPELINE, "AWS::Events::Archive"))
    assert archive["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["EventPattern"] == {"source": [wiring.SOURCE]}
    assert archive["RetentionDays"] == 30


def test_broadcaster_rule_retries_then_dead_letters(synth: Any) -> None:
    rules = tagged(synth.pipeline, "AWS::Events::Rule")
    (target,) = rules["BroadcastRule"][1]["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}
    assert "DeadLetterConfig" in target
    (invoke,) = [
        c["Properties"]
        for c in synth.resources(PIPELINE, "AWS::Lambda::EventInvokeConfig").values()
        if _mentions(c["Properties"]["FunctionName"], _function_id(synth, "Broadcaster"))
    ]
    assert (
        invoke["DestinationConfig"]["OnFailure"]["Destination"] == target["DeadLetterConfig"]["Arn"]
    )


def _function_id(synth: Any, name: str) -> str:
    return tagged(synth.pipeline, "AWS::Lambda::Function")[name][0]


def _mentions(value: Any, logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(value)


@pytest.mark.parametrize("spec", wiring.SCHEDULES, ids=lambda s: s.logical_id)
def test_each_schedule_invokes_its_function_on_the_default_bus(
    synth: Any, spec: wiring.Schedule
) -> None:
    rule = tagged(synth.pipeline, "AWS::Events::Rule")[spec.logical_id][1]["Properties"]
    assert rule["ScheduleExpression"] == spec.expression
    assert "EventBusName" not in rule
    function_id = _function_id(synth, spec.function.logical_id)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # The next pass is the retry: short retries, no queue of stale passes.
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 60
    (invoke,) = [
        c["Properties"]
        for c in synth.resources(PIPELINE, "AWS::Lambda::EventInvokeConfig").values()
        if _mentions(c["Properties"]["FunctionName"], function_id)
    ]
    assert invoke["MaximumRetryAttempts"] == 0
    permissions = [
        p["Properties"]
        for p in synth.resources(PIPELINE, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
        and _mentions(p["Properties"]["FunctionName"], function_id)
    ]
    rule_id = tagged(synth.pipeline, "AWS::Events::Rule")[spec.logical_id][0]
    assert [p["SourceArn"] for p in permissions] == [{"Fn::GetAtt": [rule_id, "Arn"]}]


# --- WebSocket API ----------------------------------------------------------------------


def _stage(synth: Any, protocol: str) -> dict[str, Any]:
    (api_id,) = [
        k
        for k, v in synth.resources(PIPELINE, "AWS::ApiGatewayV2::Api").items()
        if v["Properties"]["ProtocolType"] == protocol
    ]
    (stage,) = [
        s["Properties"]
        for s in synth.resources(PIPELINE, "AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["ApiId"] == {"Ref": api_id}
    ]
    return stage


def test_stage_is_throttled_and_access_logged(synth: Any) -> None:
    stage = _stage(synth, "WEBSOCKET")
    assert stage["StageName"] == "live"
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": 1000,
        "ThrottlingRateLimit": 500,
    }
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert "requestId" in log_format
    assert not any("connectionId" in v for v in log_format.values())


def test_every_route_can_invoke_its_function(synth: Any) -> None:
    permissions = [
        p["Properties"]
        for p in synth.resources(PIPELINE, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    source_arns = json.dumps([p["SourceArn"] for p in permissions])
    for route in wiring.ROUTES:
        assert f"/*{route.route_key}" in source_arns, route.route_key


# --- session-check HTTP API -------------------------------------------------------------


def test_session_check_api_has_only_the_wirings_route_to_its_function(synth: Any) -> None:
    routes = tagged(synth.pipeline, "AWS::ApiGatewayV2::Route")
    route_key = wiring.SESSION_CHECK_ROUTE.route_key
    _, route = routes[f"route:{route_key}"]
    api_id = route["Properties"]["ApiId"]["Ref"]
    api = synth.pipeline["Resources"][api_id]["Properties"]
    assert api["ProtocolType"] == "HTTP"
    # Served through the page's distribution (same origin): no CORS to get wrong.
    assert "CorsConfiguration" not in api
    on_api = [r for r in routes.values() if r[1]["Properties"]["ApiId"] == {"Ref": api_id}]
    assert [r[1]["Properties"]["RouteKey"] for r in on_api] == [route_key]
    integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
    integration = synth.pipeline["Resources"][integration_id]["Properties"]
    assert integration["PayloadFormatVersion"] == "2.0"
    function_id = _function_id(synth, wiring.SESSION_CHECK_ROUTE.function.logical_id)
    assert _mentions(integration["IntegrationUri"], function_id)
    permissions = [
        p["Properties"]["SourceArn"]
        for p in synth.resources(PIPELINE, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert "/*/*/sessions/{sessionId}" in json.dumps(permissions)


def test_session_check_stage_is_throttled_and_access_logged_without_join_codes(
    synth: Any,
) -> None:
    stage = _stage(synth, "HTTP")
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    throttle = stage["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] > 0
    assert throttle["ThrottlingBurstLimit"] >= throttle["ThrottlingRateLimit"]
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert "requestId" in log_format
    values = " ".join(log_format.values())
    for leaky in ("path", "querystring", "sourceIp", "joinCode"):
        assert leaky not in values, leaky


# --- registry, alarms, dashboard, analytics, outputs ------------------------------------


def test_schema_registry_holds_the_schemas(synth: Any) -> None:
    registry_id, _ = only(synth.resources(PIPELINE, "AWS::EventSchemas::Registry"))
    for schema in synth.resources(PIPELINE, "AWS::EventSchemas::Schema").values():
        assert schema["Properties"]["RegistryName"] == {"Fn::GetAtt": [registry_id, "RegistryName"]}


def _alarms(synth: Any) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"] for k, v in synth.resources(PIPELINE, "AWS::CloudWatch::Alarm").items()
    }


def test_seed_alarms_in_translation_pipeline_namespace(synth: Any) -> None:
    alarms = list(_alarms(synth).values())
    by_metric = {
        (a.get("MetricName"), a["Dimensions"][0]["Value"]): a
        for a in alarms
        if a.get("Namespace") == "TranslationPipeline"
    }
    cache = by_metric["CacheHitRate", "transcript-processor"]
    assert (cache["Threshold"], cache["ComparisonOperator"]) == (30, "LessThanThreshold")
    broadcast = by_metric["BroadcastSuccessRate", "broadcaster"]
    assert (broadcast["Threshold"], broadcast["ComparisonOperator"]) == (95, "LessThanThreshold")
    (failed,) = [a for a in alarms if "Metrics" in a]
    assert failed["Threshold"] == 10
    assert failed["ComparisonOperator"] == "GreaterThanThreshold"
    stats = [m["MetricStat"]["Metric"] for m in failed["Metrics"] if "MetricStat" in m]
    assert {m["MetricName"] for m in stats} == {"FailedLanguagesCount", "LanguagesProcessed"}
    assert {m["Namespace"] for m in stats} == {"TranslationPipeline"}


def test_metric_dimensions_match_each_functions_service_name(synth: Any) -> None:
    """Powertools puts ``service`` on every metric; alarms must ask for the same value."""
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    services = {
        name: f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for name, (_, f) in functions.items()
    }
    assert services == {f.logical_id: f.service_name for f in wiring.FUNCTIONS}
    assert len(set(services.values())) == len(services), "service names must differ"
    dimensions = {
        a["Dimensions"][0]["Value"]
        for a in _alarms(synth).values()
        if a.get("Namespace") == "TranslationPipeline"
    }
    assert dimensions <= set(services.values())


def test_operational_alarms_cover_lag_queues_and_every_function(synth: Any) -> None:
    alarms = list(_alarms(synth).values())
    metrics = [(a.get("Namespace"), a.get("MetricName")) for a in alarms]
    assert ("AWS/Lambda", "IteratorAge") in metrics
    assert metrics.count(("AWS/SQS", "ApproximateNumberOfMessagesVisible")) == 2
    for name in ("Errors", "Throttles"):
        assert metrics.count(("AWS/Lambda", name)) == len(wiring.FUNCTIONS)


@pytest.mark.parametrize("spec", wiring.FUNCTIONS, ids=lambda f: f.logical_id)
def test_each_functions_errors_alarm_watches_that_function(
    synth: Any, spec: wiring.Function
) -> None:
    function_id = _function_id(synth, spec.logical_id)
    watching = [
        a
        for a in _alarms(synth).values()
        if a.get("MetricName") == "Errors"
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    ]
    assert len(watching) == 1, spec.logical_id


def test_every_alarm_notifies_the_encrypted_topic(synth: Any) -> None:
    topic_id, topic = only(synth.resources(PIPELINE, "AWS::SNS::Topic"))
    assert "KmsMasterKeyId" in topic["Properties"]
    for name, alarm in _alarms(synth).items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    only(synth.resources(PIPELINE, "AWS::CloudWatch::Dashboard"))


def test_analytics_rule_delivers_to_a_log_group_with_saved_queries(synth: Any) -> None:
    rules = tagged(synth.pipeline, "AWS::Events::Rule")
    (target,) = rules["AnalyticsRule"][1]["Properties"]["Targets"]
    assert ":log-group:" in json.dumps(target["Arn"])
    policy = json.dumps(props(synth.resources(PIPELINE, "AWS::Logs::ResourcePolicy")))
    assert "events.amazonaws.com" in policy
    assert "logs:PutLogEvents" in policy
    queries = {
        q["Properties"]["Name"].rsplit("/", 1)[-1]: q["Properties"]["QueryString"]
        for q in synth.resources(PIPELINE, "AWS::Logs::QueryDefinition").values()
    }
    assert set(queries) == {
        "listener-minutes-per-language",
        "segments-per-session",
        "failures-by-reason",
    }
    assert not synth.resources(PIPELINE, "AWS::KinesisFirehose::DeliveryStream")


def test_firehose_flag_adds_a_data_lake_target(synth_with_firehose: Any) -> None:
    stream = props(synth_with_firehose.resources(PIPELINE, "AWS::KinesisFirehose::DeliveryStream"))
    assert "ExtendedS3DestinationConfiguration" in stream
    rules = tagged(synth_with_firehose.pipeline, "AWS::Events::Rule")
    targets = rules["AnalyticsRule"][1]["Properties"]["Targets"]
    assert len(targets) == 2
