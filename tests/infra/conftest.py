"""One synthesized app per test session: the first synth in a process takes seconds.

Layer bundling (pip) is skipped with ``polycast:skipLayerBundling``; everything else
is the app exactly as ``cdk synth`` builds it, with cdk.json's context and cdk-nag.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@dataclass
class Synthesized:
    """A synthesized app: its output directory, templates and construct tree."""

    outdir: Path
    app: Any
    templates: dict[str, dict[str, Any]]

    @property
    def state(self) -> dict[str, Any]:
        from infra.app import STATE_STACK

        return self.templates[STATE_STACK]

    @property
    def pipeline(self) -> dict[str, Any]:
        from infra.app import PIPELINE_STACK

        return self.templates[PIPELINE_STACK]

    def resources(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        template = self.templates[stack]
        return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


def synthesize(outdir: Path, **extra_context: Any) -> Synthesized:
    from infra.app import build_app

    context = {**cdk_json_context(), "polycast:skipLayerBundling": True, **extra_context}
    app = build_app(context=context, outdir=str(outdir))
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    return Synthesized(outdir=outdir, app=app, templates=templates)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def synth_with_firehose(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with the optional analytics data lake, for the tests that need it."""
    return synthesize(
        tmp_path_factory.mktemp("cdk-out-firehose"),
        **{"polycast:analyticsFirehose": True, "polycast:shardCount": 2},
    )
