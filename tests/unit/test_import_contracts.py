"""The import-linter contracts (pyproject.toml, run by ``make lint``) keep up with the tree.

A forbidden contract lists what may not be imported; "the domain imports nothing of
ours but errors" holds only while that list names every other module of the package.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import polycast

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def runtime_modules() -> set[str]:
    return {f"polycast.{info.name}" for info in pkgutil.iter_modules(polycast.__path__)}


def test_the_domain_contract_forbids_every_other_module_of_the_runtime() -> None:
    forbidden = set(contracts()["domain-is-pure"]["forbidden_modules"])
    allowed = {"polycast.domain", "polycast.errors"}
    assert runtime_modules() - allowed <= forbidden
    assert {"polycast_kit", "stream_processors"} <= forbidden


def test_every_handler_folder_is_under_the_handler_contracts() -> None:
    handlers = {path.parent.name for path in (ROOT / "stream_processors").glob("*/handler.py")}
    assert handlers, "no handlers found"
    assert contracts()["thin-handlers"]["source_modules"] == ["stream_processors"]
    assert contracts()["handlers-independent"]["modules"] == ["stream_processors.*.handler"]
    assert not (ROOT / "stream_processors" / "__init__.py").exists()  # a namespace package
