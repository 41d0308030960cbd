"""``cdk synth`` through the CDK CLI (the one ``make setup`` installs from npm) works.

This runs the app the way a fresh clone does: ``cdk.json`` → ``.venv/bin/python -m
infra.app``, from the repository root. Layer bundling (pip, network) is skipped with
the app's own context flag; the CLI refuses ``aws:``-prefixed context keys.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


def test_cdk_cli_synthesizes_both_stacks(tmp_path: Path) -> None:
    assert CDK.exists(), "the CDK CLI is missing: run `make setup` (npm install)"
    env = {
        **os.environ,
        "PATH": f"{CDK.parent}{os.pathsep}{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}"
        + os.environ.get("PATH", ""),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [
            str(CDK),
            "synth",
            "--quiet",
            "--no-notices",
            "--no-version-reporting",
            "-c",
            "polycast:skipLayerBundling=true",
            "-o",
            str(outdir),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for stack in ("PolycastState", "PolycastPipeline"):
        template = json.loads((outdir / f"{stack}.template.json").read_text())
        assert template["Resources"]
    report = json.loads((outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []
