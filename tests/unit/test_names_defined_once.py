"""Env var names, listener actions and the metrics namespace: spelled once (wiring),
derived everywhere else; listener actions checked against their JSON Schemas."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from polycast import schemas, wiring
from polycast.config import Settings, metrics_namespace
from polycast.errors import MissingField, PolycastError
from polycast.services.connections import validate_action
from polycast.wiring import LISTENER_ACTIONS, Env

ROOT = Path(__file__).resolve().parents[2]
ENV_NAMES = {v for k, v in vars(Env).items() if not k.startswith("_")}


def test_every_setting_reads_a_variable_the_wiring_names() -> None:
    read = {f.metadata["env"] for f in fields(Settings)}
    assert read <= ENV_NAMES


def test_every_function_gets_only_variables_the_wiring_names() -> None:
    for function in wiring.FUNCTIONS:
        assert set(function.env_vars) <= ENV_NAMES, function.logical_id
    for table in wiring.TABLES:
        assert table.env_var in ENV_NAMES


def test_settings_round_trip_through_the_environment() -> None:
    changed = Settings(
        sessions_table="s",
        max_concurrent_broadcasts=7,
        polly_engine="standard",
        engines="local",
        metrics_namespace="Elsewhere",
    )
    env = changed.as_env()
    assert env[Env.SESSIONS_TABLE_NAME] == "s"
    assert env[Env.POWERTOOLS_METRICS_NAMESPACE] == "Elsewhere"
    assert Env.AWS_REGION not in env  # Lambda's own, never handed out
    assert Settings.from_env(env) == changed
    assert Settings.from_env({}) == Settings()


def test_bad_settings_name_their_variable() -> None:
    with pytest.raises(ValueError, match="MAX_CACHE_ENTRIES"):
        Settings.from_env({Env.MAX_CACHE_ENTRIES: "many"})
    with pytest.raises(ValueError, match="POLYCAST_ENGINES"):
        Settings.from_env({Env.POLYCAST_ENGINES: "gpu"})


def test_the_metrics_namespace_comes_from_configuration() -> None:
    assert Settings().metrics_namespace == metrics_namespace({}) == "TranslationPipeline"
    assert metrics_namespace({Env.POWERTOOLS_METRICS_NAMESPACE: "Mine"}) == "Mine"


def test_no_handler_spells_a_namespace_env_var_or_route_key() -> None:
    literals = {
        "TranslationPipeline",
        *ENV_NAMES,
        *LISTENER_ACTIONS,
        wiring.CONNECT_ROUTE,
        wiring.DISCONNECT_ROUTE,
    }
    spelled = re.compile("|".join(rf"[\"']{re.escape(name)}[\"']" for name in literals))
    for handler in sorted((ROOT / "stream_processors").glob("*/handler.py")):
        assert spelled.findall(handler.read_text(encoding="utf-8")) == [], handler


def test_routes_are_the_listener_and_speaker_actions_and_each_has_a_schema() -> None:
    keys = [r.route_key for r in wiring.ROUTES]
    assert keys == [
        wiring.CONNECT_ROUTE,
        wiring.DISCONNECT_ROUTE,
        wiring.DEFAULT_ROUTE,
        *LISTENER_ACTIONS,
        *wiring.SPEAKER_ACTIONS,
    ]
    # Distinct names: route selection alone sends the speaker's actions to its function.
    assert not set(LISTENER_ACTIONS) & set(wiring.SPEAKER_ACTIONS)
    assert {r.function for r in wiring.ROUTES if r.route_key in wiring.SPEAKER_ACTIONS} == {
        wiring.SPEAKER
    }
    actions = (*LISTENER_ACTIONS, *wiring.SPEAKER_ACTIONS)
    assert schemas.names("actions") == sorted(f"actions/{a}" for a in actions)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "ping"},
        {"action": "catchUp", "fromSequence": 0},
        {"action": "switchLanguage", "targetLanguage": "pt-BR"},
        {"action": "pause"},
        {"action": "resume"},
        {"action": "resume", "fromSequence": 12},
    ],
)
def test_what_the_clients_send_is_valid(body: dict[str, Any]) -> None:
    validate_action(body["action"], body)


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ({"action": "catchUp"}, "MISSING_FIELD", "missing required field: fromSequence"),
        (
            {"action": "catchUp", "fromSequence": "3"},
            "BAD_REQUEST",
            "fromSequence must be an integer",
        ),
        (
            {"action": "catchUp", "fromSequence": True},
            "BAD_REQUEST",
            "fromSequence must be an integer",
        ),
        (
            {"action": "catchUp", "fromSequence": -1},
            "BAD_REQUEST",
            "fromSequence must not be negative",
        ),
        ({"action": "switchLanguage", "targetLanguage": ""}, "MISSING_FIELD", "targetLanguage"),
        (
            {"action": "switchLanguage", "targetLanguage": "<b>"},
            "BAD_REQUEST",
            "targetLanguage must be a language code (like es)",
        ),
        ({"action": "resume", "fromSeq": 3}, "BAD_REQUEST", "resume does not take 'fromSeq'"),
        ({"action": "ping", "x" * 500: 1}, "BAD_REQUEST", "ping does not take 'xxxx"),
    ],
)
def test_a_bad_action_gets_a_clear_error(body: dict[str, Any], error: str, message: str) -> None:
    with pytest.raises(PolycastError) as refused:
        validate_action(body["action"], body)
    assert refused.value.code == error
    assert message in str(refused.value)
    assert len(str(refused.value)) < 200  # never the client's whole value back


def test_a_missing_field_is_named() -> None:
    with pytest.raises(MissingField, match="targetLanguage"):
        validate_action("switchLanguage", {"action": "switchLanguage"})
