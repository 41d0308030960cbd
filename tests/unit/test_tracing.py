"""The handlers' Tracer: X-Ray when deployed, no ``aws_xray_sdk`` import where tracing
is off. Each case imports a real handler in a fresh interpreter (Powertools keeps the
Tracer's configuration per process), with the environment Lambda or a laptop gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(p.parent.name for p in (ROOT / "stream_processors").glob("*/handler.py"))

PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("h", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
handled = None
if sys.argv[2] == "call":
    @module.tracer.capture_lambda_handler
    def handler(event, context):
        return {"ok": event["n"]}
    handled = handler({"n": 1}, None)
print(json.dumps({
    "xray": "aws_xray_sdk.core" in sys.modules,
    "provider": type(module.tracer.provider).__module__,
    "disabled": bool(module.tracer.disabled),
    "handled": handled,
}))
"""


def probe(handler: str, env: dict[str, str], mode: str = "import") -> dict[str, object]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "PYTHONPATH": f"{ROOT / 'shared_layer' / 'python'}:{ROOT}",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    path = ROOT / "stream_processors" / handler / "handler.py"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), mode],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("handler", HANDLERS)
def test_off_lambda_the_tracer_imports_no_xray(handler: str) -> None:
    result = probe(handler, {})
    assert result == {
        "xray": False,
        "provider": "polycast.tracing",
        "disabled": True,
        "handled": None,
    }


def test_trace_disabled_in_lambda_imports_no_xray_and_the_handler_still_runs() -> None:
    env = {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = probe("transcript_processor", env, mode="call")
    assert result["xray"] is False
    assert result["handled"] == {"ok": 1}


def test_deployed_with_active_tracing_the_tracer_is_x_ray() -> None:
    result = probe("transcript_processor", {"LAMBDA_TASK_ROOT": "/var/task"})
    assert result["xray"] is True
    assert result["disabled"] is False
    assert str(result["provider"]).startswith("aws_xray_sdk")
