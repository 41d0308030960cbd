"""The synthesized templates and ``polycast.wiring`` agree, entry by entry.

``infra.drift`` reads the templates; these tests assert it finds nothing, and that
it does find a disagreement when the wiring changes (so it cannot pass vacuously).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from infra.drift import drift, tagged
from polycast import wiring

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_templates_match_the_wiring(synth: Any) -> None:
    assert drift(synth.state, synth.pipeline) == []


def test_every_wiring_entry_is_tagged_once(synth: Any) -> None:
    tables = tagged(synth.state, "AWS::DynamoDB::Table")
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    rules = tagged(synth.pipeline, "AWS::Events::Rule")
    assert set(tables) == {t.logical_id for t in wiring.WIRING.tables}
    assert set(functions) == {f.logical_id for f in wiring.WIRING.functions}
    assert set(rules) == {r.logical_id for r in (*wiring.WIRING.rules, *wiring.WIRING.schedules)}
    routes = tagged(synth.pipeline, "AWS::ApiGatewayV2::Route")
    expected = (*wiring.WIRING.routes, wiring.SESSION_CHECK_ROUTE)
    assert set(routes) == {f"route:{r.route_key}" for r in expected}


def _replace_function(w: wiring.Wiring, logical_id: str, **changes: object) -> wiring.Wiring:
    functions = tuple(
        dataclasses.replace(f, **changes) if f.logical_id == logical_id else f  # type: ignore[arg-type]
        for f in w.functions
    )
    return dataclasses.replace(w, functions=functions)


def test_drift_is_reported_when_the_session_check_route_changes(synth: Any) -> None:
    moved = wiring.Route("GET /session/{sessionId}")
    found = drift(synth.state, synth.pipeline, session_check=moved)
    assert any(m.startswith("session check: routes") for m in found), found
    elsewhere = wiring.Route("GET /sessions/{sessionId}", function=wiring.BROADCASTER)
    found = drift(synth.state, synth.pipeline, session_check=elsewhere)
    assert any(m.startswith("session check: route GET") for m in found), found


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (
            lambda w: _replace_function(w, "Broadcaster", memory_mb=2048),
            "function Broadcaster: MemorySize 1024 != 2048",
        ),
        (
            lambda w: _replace_function(w, "TranscriptProcessor", timeout_seconds=60),
            "function TranscriptProcessor: Timeout 30 != 60",
        ),
        (
            lambda w: _replace_function(w, "ConnectionHandler", handler="app.main"),
            "function ConnectionHandler: Handler 'handler.lambda_handler' != 'app.main'",
        ),
        (
            lambda w: _replace_function(
                w, "Broadcaster", env_vars=(*wiring.BROADCASTER.env_vars, "NEW_SETTING")
            ),
            "function Broadcaster: env vars differ: missing ['NEW_SETTING'], extra []",
        ),
        (
            lambda w: dataclasses.replace(
                w, kinesis_source=dataclasses.replace(w.kinesis_source, batch_size=10)
            ),
            "event source: BatchSize 100 != 10",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                kinesis_source=dataclasses.replace(w.kinesis_source, bisect_batch_on_error=False),
            ),
            "event source: BisectBatchOnFunctionError True != False",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                rules=(
                    dataclasses.replace(wiring.BROADCAST_RULE, detail_types=("SegmentReady",)),
                    wiring.ANALYTICS_RULE,
                ),
            ),
            "rule BroadcastRule: pattern",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                rules=(
                    wiring.BROADCAST_RULE,
                    dataclasses.replace(
                        wiring.ANALYTICS_RULE,
                        detail_types=(*wiring.ANALYTICS_RULE.detail_types, "SegmentReady"),
                    ),
                ),
            ),
            "rule AnalyticsRule: pattern",
        ),
        (
            lambda w: dataclasses.replace(w, routes=(*w.routes, wiring.Route("mute"))),
            "websocket: routes",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                schedules=(
                    dataclasses.replace(
                        wiring.SESSION_SWEEP_SCHEDULE, expression="rate(5 minutes)"
                    ),
                ),
            ),
            "schedule SessionSweepSchedule: expression",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                schedules=(
                    dataclasses.replace(wiring.SESSION_SWEEP_SCHEDULE, function=wiring.BROADCASTER),
                ),
            ),
            "schedule SessionSweepSchedule: targets",
        ),
        (
            lambda w: dataclasses.replace(w, schedules=()),
            "schedule SessionSweepSchedule: in the template, not in the wiring",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                tables=tuple(
                    dataclasses.replace(t, ttl_attribute="ttl") if t.logical_id == "Sessions" else t
                    for t in w.tables
                ),
            ),
            "table Sessions: TTL",
        ),
        (
            lambda w: dataclasses.replace(
                w,
                tables=tuple(
                    dataclasses.replace(t, indexes=()) if t.logical_id == "Connections" else t
                    for t in w.tables
                ),
            ),
            "table Connections: GSIs",
        ),
    ],
)
def test_drift_is_reported_when_the_wiring_changes(
    synth: Any, changed: object, expected: str
) -> None:
    changed_wiring = changed(wiring.WIRING)  # type: ignore[operator]
    found = drift(synth.state, synth.pipeline, changed_wiring)
    assert any(message.startswith(expected) for message in found), found


TEXT_FIELDS = {"text", "sourceText", "transcriptText"}


def _detail_fields(detail_type: str) -> set[str]:
    schema = json.loads((REPO_ROOT / "schemas" / "events" / f"{detail_type}.json").read_text())
    detail = schema.get("properties", {}).get("detail", schema)
    return set(detail.get("properties", {}))


def test_text_event_types_are_exactly_those_whose_schema_carries_text() -> None:
    """A new event type with a text field must be declared, or analytics would store it."""
    carrying_text = {t for t in wiring.EVENT_TYPES if _detail_fields(t) & TEXT_FIELDS}
    assert carrying_text == set(wiring.TEXT_EVENT_TYPES)


def test_analytics_rule_forwards_every_event_without_transcript_text(synth: Any) -> None:
    rules = tagged(synth.pipeline, "AWS::Events::Rule")
    pattern = rules["AnalyticsRule"][1]["Properties"]["EventPattern"]
    assert pattern["source"] == [wiring.SOURCE]
    assert set(pattern["detail-type"]) == set(wiring.EVENT_TYPES) - set(wiring.TEXT_EVENT_TYPES)
    assert not {"SegmentReady", "BroadcastSlice"} & set(pattern["detail-type"])
    for detail_type in pattern["detail-type"]:
        assert not _detail_fields(detail_type) & TEXT_FIELDS, detail_type


def test_tables_have_the_wiring_keys_gsi_and_ttl(synth: Any) -> None:
    tables = tagged(synth.state, "AWS::DynamoDB::Table")
    connections = tables["Connections"][1]["Properties"]
    (gsi,) = connections["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "sessionId-targetLanguage-index"
    assert gsi["KeySchema"] == [
        {"AttributeName": "sessionId", "KeyType": "HASH"},
        {"AttributeName": "targetLanguage", "KeyType": "RANGE"},
    ]
    for spec in wiring.WIRING.tables:
        _, resource = tables[spec.logical_id]
        props = resource["Properties"]
        assert resource["DeletionPolicy"] == "Retain"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }


def test_each_function_ships_its_code_dir_and_the_layer(synth: Any) -> None:
    functions = tagged(synth.pipeline, "AWS::Lambda::Function")
    # The other layer is the AWS CLI of the listener page's BucketDeployment provider.
    layers = synth.resources("PolycastPipeline", "AWS::Lambda::LayerVersion")
    (layer_id,) = [k for k in layers if k.startswith("FunctionsSharedLayer")]
    assets = json.loads((synth.outdir / "PolycastPipeline.assets.json").read_text())["files"]
    for spec in wiring.WIRING.functions:
        props = functions[spec.logical_id][1]["Properties"]
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        asset_hash = props["Code"]["S3Key"].removesuffix(".zip")
        staged = synth.outdir / assets[asset_hash]["source"]["path"]
        source = REPO_ROOT / spec.code_dir
        expected = {p.name for p in source.iterdir() if p.name != "__pycache__"}
        assert {p.name for p in staged.iterdir()} == expected, spec.code_dir


def test_layer_asset_is_the_shared_package_with_schemas(synth: Any) -> None:
    (layer,) = [
        v
        for k, v in synth.resources("PolycastPipeline", "AWS::Lambda::LayerVersion").items()
        if k.startswith("FunctionsSharedLayer")
    ]
    assets = json.loads((synth.outdir / "PolycastPipeline.assets.json").read_text())["files"]
    staged = (
        synth.outdir
        / assets[layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")]["source"]["path"]
    )
    package = Path(staged) / "python" / "polycast"
    assert (package / "wiring.py").is_file()
    schemas = package / "schemas_dir" / "events"
    assert not schemas.is_symlink(), "the layer must carry the schemas, not a link to them"
    assert {p.name for p in schemas.glob("*.json")} == {
        p.name for p in (REPO_ROOT / "schemas" / "events").glob("*.json")
    }
    assert not list(Path(staged).rglob("*.egg-info"))


def test_every_event_schema_file_is_registered(synth: Any) -> None:
    schemas = synth.resources("PolycastPipeline", "AWS::EventSchemas::Schema")
    registered = {s["Properties"]["SchemaName"]: s["Properties"] for s in schemas.values()}
    files = sorted((REPO_ROOT / "schemas" / "events").glob("*.json"))
    assert files, "schemas/events/ is empty"
    assert set(registered) == {f"polycast@{f.stem}" for f in files}
    for path in files:
        props = registered[f"polycast@{path.stem}"]
        assert props["Type"] == "JSONSchemaDraft4"
        assert json.loads(props["Content"]) == json.loads(path.read_text())
    assert set(wiring.EVENT_TYPES) <= {f.stem for f in files}


def test_layer_hash_covers_the_schemas_behind_the_symlink() -> None:
    from infra.constructs.layer import layer_files

    package = REPO_ROOT / "shared_layer" / "python" / "polycast"
    shipped = {str(p.relative_to(package)) for p in layer_files(package)}
    for schema in (REPO_ROOT / "schemas" / "events").glob("*.json"):
        assert f"schemas_dir/events/{schema.name}" in shipped
    assert "wiring.py" in shipped
