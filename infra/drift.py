"""Drift between ``polycast.wiring`` and the synthesized templates, as readable messages.

The local runtime builds from the wiring; the CDK app builds from it too. This check
reads the *templates* (not the constructs), so anything that slips between the two
— a hand-edited setting, a missing route, a renamed env var — shows up here. The
template tests assert it returns nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from polycast import wiring

Template = Mapping[str, Any]

WIRING_METADATA = "polycast:wiring"
"""Resource metadata naming the wiring entry a resource was built from (``tag_wiring``)."""


def tagged(template: Template, resource_type: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Resources of one type by their ``polycast:wiring`` name → (logical id, resource)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        name = resource.get("Metadata", {}).get(WIRING_METADATA)
        if resource["Type"] == resource_type and name is not None:
            found[name] = (logical_id, resource)
    return found


def _attr_type(props: Mapping[str, Any], name: str) -> str | None:
    for attr in props.get("AttributeDefinitions", []):
        if attr["AttributeName"] == name:
            return str(attr["AttributeType"])
    return None


def _key_schema(pk: wiring.Key, sk: wiring.Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": pk.name, "KeyType": "HASH"}]
    if sk is not None:
        schema.append({"AttributeName": sk.name, "KeyType": "RANGE"})
    return schema


def _table_drift(state: Template, spec: wiring.Table) -> Iterator[str]:
    tables = tagged(state, "AWS::DynamoDB::Table")
    if spec.logical_id not in tables:
        yield f"table {spec.logical_id}: not in the template"
        return
    _, resource = tables[spec.logical_id]
    props = resource["Properties"]
    where = f"table {spec.logical_id}"
    if props.get("KeySchema") != _key_schema(spec.partition_key, spec.sort_key):
        yield f"{where}: key schema {props.get('KeySchema')} != wiring"
    keys = [spec.partition_key, spec.sort_key] + [
        k for i in spec.indexes for k in (i.partition_key, i.sort_key)
    ]
    for key in keys:
        if key is not None and _attr_type(props, key.name) != key.type:
            yield f"{where}: attribute {key.name} type {_attr_type(props, key.name)} != {key.type}"
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    if set(indexes) != {i.name for i in spec.indexes}:
        yield f"{where}: GSIs {sorted(indexes)} != {[i.name for i in spec.indexes]}"
    for index in spec.indexes:
        if index.name in indexes:
            schema = _key_schema(index.partition_key, index.sort_key)
            if indexes[index.name]["KeySchema"] != schema:
                yield f"{where}: GSI {index.name} key schema != wiring"
    ttl = props.get("TimeToLiveSpecification") or {}
    expected_ttl = (
        {"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else {}
    )
    if ttl != expected_ttl:
        yield f"{where}: TTL {ttl} != {expected_ttl}"


def _function_drift(pipeline: Template, spec: wiring.Function) -> Iterator[str]:
    functions = tagged(pipeline, "AWS::Lambda::Function")
    if spec.logical_id not in functions:
        yield f"function {spec.logical_id}: not in the template"
        return
    props = functions[spec.logical_id][1]["Properties"]
    where = f"function {spec.logical_id}"
    for field, expected in (
        ("Handler", spec.handler),
        ("MemorySize", spec.memory_mb),
        ("Timeout", spec.timeout_seconds),
    ):
        if props.get(field) != expected:
            yield f"{where}: {field} {props.get(field)!r} != {expected!r}"
    env = set(props.get("Environment", {}).get("Variables", {}))
    if env != set(spec.env_vars):
        yield (
            f"{where}: env vars differ: missing {sorted(set(spec.env_vars) - env)}, "
            f"extra {sorted(env - set(spec.env_vars))}"
        )


def _ref(value: Any) -> str | None:
    """The logical id a ``Ref`` / ``Fn::GetAtt`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def _mentions(value: Any, logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(value)


def _source_drift(pipeline: Template, source: wiring.KinesisSource) -> Iterator[str]:
    mappings = [
        r["Properties"]
        for r in pipeline["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    if len(mappings) != 1:
        yield f"event source: {len(mappings)} mappings, wiring has 1"
        return
    props = mappings[0]
    expected = {
        "BatchSize": source.batch_size,
        "MaximumBatchingWindowInSeconds": source.max_batching_window_seconds,
        "ParallelizationFactor": source.parallelization_factor,
        "BisectBatchOnFunctionError": source.bisect_batch_on_error,
        "MaximumRetryAttempts": source.retry_attempts,
        "MaximumRecordAgeInSeconds": source.max_record_age_seconds,
        "StartingPosition": source.starting_position,
        "FunctionResponseTypes": ["ReportBatchItemFailures"]
        if source.report_batch_item_failures
        else None,
    }
    for field, value in expected.items():
        if props.get(field) != value:
            yield f"event source: {field} {props.get(field)!r} != {value!r}"
    functions = tagged(pipeline, "AWS::Lambda::Function")
    target = functions.get(source.function.logical_id, ("?", {}))[0]
    if _ref(props.get("FunctionName")) != target:
        yield f"event source: targets {props.get('FunctionName')}, not {source.function.logical_id}"
    queues = tagged(pipeline, "AWS::SQS::Queue")
    queue = queues.get(source.on_failure.logical_id, ("?", {}))[0]
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if _ref(destination) != queue:
        yield f"event source: on-failure destination is not queue {source.on_failure.logical_id}"


def _rule_drift(pipeline: Template, spec: wiring.Rule) -> Iterator[str]:
    rules = tagged(pipeline, "AWS::Events::Rule")
    if spec.logical_id not in rules:
        yield f"rule {spec.logical_id}: not in the template"
        return
    props = rules[spec.logical_id][1]["Properties"]
    if props.get("EventPattern") != spec.event_pattern:
        yield f"rule {spec.logical_id}: pattern {props.get('EventPattern')} != {spec.event_pattern}"
    if spec.target_function is not None:
        functions = tagged(pipeline, "AWS::Lambda::Function")
        target = functions.get(spec.target_function.logical_id, ("?", {}))[0]
        arns = [_ref(t.get("Arn")) for t in props.get("Targets", [])]
        if target not in arns:
            yield f"rule {spec.logical_id}: no target {spec.target_function.logical_id}"


def _apis(pipeline: Template, protocol: str) -> list[str]:
    """Logical ids of the ``WEBSOCKET`` or ``HTTP`` APIs."""
    return [
        logical_id
        for logical_id, r in pipeline["Resources"].items()
        if r["Type"] == "AWS::ApiGatewayV2::Api" and r["Properties"].get("ProtocolType") == protocol
    ]


def _routes_of(pipeline: Template, api_id: str) -> dict[str, dict[str, Any]]:
    """An API's routes by route key."""
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in pipeline["Resources"].values()
        if r["Type"] == "AWS::ApiGatewayV2::Route" and _ref(r["Properties"].get("ApiId")) == api_id
    }


def _integration_of(route: Mapping[str, Any]) -> str:
    """The logical id of the integration a route targets (``integrations/<id>``)."""
    return next((p["Ref"] for p in route["Target"]["Fn::Join"][1] if isinstance(p, dict)), "?")


def _route_drift(pipeline: Template, routes: tuple[wiring.Route, ...]) -> Iterator[str]:
    resources = pipeline["Resources"]
    apis = _apis(pipeline, "WEBSOCKET")
    if [resources[a]["Properties"].get("RouteSelectionExpression") for a in apis] != [
        wiring.ROUTE_SELECTION_EXPRESSION
    ]:
        yield "websocket: route selection expression != wiring"
    found = _routes_of(pipeline, apis[0]) if len(apis) == 1 else {}
    if set(found) != {r.route_key for r in routes}:
        yield f"websocket: routes {sorted(found)} != {sorted(r.route_key for r in routes)}"
    functions = tagged(pipeline, "AWS::Lambda::Function")
    integration_ids: list[str] = []
    for route in routes:
        props = found.get(route.route_key)
        if props is None:
            continue
        integration_id = _integration_of(props)
        integration_ids.append(integration_id)
        integration = resources.get(integration_id, {}).get("Properties", {})
        target = functions.get(route.function.logical_id, ("?", {}))[0]
        if not _mentions(integration.get("IntegrationUri"), target):
            name = route.function.logical_id
            yield f"websocket: route {route.route_key} does not integrate {name}"
    if len(set(integration_ids)) != len(integration_ids):
        yield "websocket: routes share an integration (each needs its own invoke permission)"


def _session_check_drift(pipeline: Template, route: wiring.Route) -> Iterator[str]:
    """The HTTP API: exactly the session-check route, integrating its function."""
    apis = _apis(pipeline, "HTTP")
    if len(apis) != 1:
        yield f"session check: {len(apis)} HTTP APIs, wiring has 1"
        return
    found = _routes_of(pipeline, apis[0])
    if set(found) != {route.route_key}:
        yield f"session check: routes {sorted(found)} != [{route.route_key!r}]"
        return
    integration = pipeline["Resources"].get(_integration_of(found[route.route_key]), {})
    target = tagged(pipeline, "AWS::Lambda::Function").get(route.function.logical_id, ("?", {}))[0]
    if not _mentions(integration.get("Properties", {}).get("IntegrationUri"), target):
        name = route.function.logical_id
        yield f"session check: route {route.route_key} does not integrate {name}"


def _schedule_drift(pipeline: Template, spec: wiring.Schedule) -> Iterator[str]:
    """A rule on the default bus, with the wiring's expression, invoking its function."""
    rules = tagged(pipeline, "AWS::Events::Rule")
    where = f"schedule {spec.logical_id}"
    if spec.logical_id not in rules:
        yield f"{where}: not in the template"
        return
    props = rules[spec.logical_id][1]["Properties"]
    if props.get("ScheduleExpression") != spec.expression:
        yield f"{where}: expression {props.get('ScheduleExpression')!r} != {spec.expression!r}"
    if "EventBusName" in props or "EventPattern" in props:
        yield f"{where}: not a plain schedule on the default bus"
    if props.get("State", "ENABLED") != "ENABLED":
        yield f"{where}: state {props.get('State')}"
    functions = tagged(pipeline, "AWS::Lambda::Function")
    target = functions.get(spec.function.logical_id, ("?", {}))[0]
    if [_ref(t.get("Arn")) for t in props.get("Targets", [])] != [target]:
        yield f"{where}: targets are not exactly {spec.function.logical_id}"


def drift(
    state: Template,
    pipeline: Template,
    wiring_: wiring.Wiring = wiring.WIRING,
    session_check: wiring.Route = wiring.SESSION_CHECK_ROUTE,
) -> list[str]:
    """Every disagreement between the wiring and the two templates; empty when they agree."""
    found: list[str] = []
    for table in wiring_.tables:
        found.extend(_table_drift(state, table))
    for function in wiring_.functions:
        found.extend(_function_drift(pipeline, function))
    found.extend(_source_drift(pipeline, wiring_.kinesis_source))
    for rule in wiring_.rules:
        found.extend(_rule_drift(pipeline, rule))
    for schedule in wiring_.schedules:
        found.extend(_schedule_drift(pipeline, schedule))
    scheduled = {s.logical_id for s in wiring_.schedules}
    for name, (_, resource) in tagged(pipeline, "AWS::Events::Rule").items():
        if "ScheduleExpression" in resource["Properties"] and name not in scheduled:
            found.append(f"schedule {name}: in the template, not in the wiring")
    found.extend(_route_drift(pipeline, wiring_.routes))
    found.extend(_session_check_drift(pipeline, session_check))
    return found


def drift_in(cdk_out: Path, state_stack: str, pipeline_stack: str) -> list[str]:
    """``drift`` for a cloud assembly directory (e.g. ``cdk.out``)."""
    state = json.loads((cdk_out / f"{state_stack}.template.json").read_text())
    pipeline = json.loads((cdk_out / f"{pipeline_stack}.template.json").read_text())
    return drift(state, pipeline)
