"""The CDK app: ``cdk synth`` / ``cdk deploy --all`` from the repository root.

Two stacks: ``PolycastState`` (stream, tables, bucket; retained) and
``PolycastPipeline`` (everything that can be rebuilt). cdk-nag's AwsSolutions pack
validates every synth; an unacknowledged error fails it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a script (`python infra/app.py`): put the repo root first, so that
    # `constructs` is the CDK library and not this app's `infra/constructs/` folder.
    _root = str(Path(__file__).resolve().parent.parent)
    sys.path[:] = [_root, *(p for p in sys.path if Path(p).resolve() != Path(_root) / "infra")]

import os
from typing import Any

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from infra.options import DeployOptions
from infra.stacks.pipeline import PipelineStack
from infra.stacks.stateful import StatefulStack

STATE_STACK = "PolycastState"
PIPELINE_STACK = "PolycastPipeline"


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """Both stacks, with cdk-nag attached. Tests pass ``context`` and ``outdir``."""
    app = App(context=context, outdir=outdir)
    options = DeployOptions.from_context(app.node)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    state = StatefulStack(
        app,
        STATE_STACK,
        options=options,
        env=env,
        description="Polycast data: transcript stream, tables, audio bucket (retained)",
        termination_protection=False,
    )
    pipeline = PipelineStack(
        app,
        PIPELINE_STACK,
        state=state.state,
        options=options,
        env=env,
        description=(
            "Polycast pipeline: functions, bus, WebSocket API, alarms, analytics, listener page"
        ),
    )
    pipeline.add_stack_dependency(state)
    Tags.of(app).add("app", "polycast")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
