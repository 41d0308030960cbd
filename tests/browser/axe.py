"""axe-core (from the npm registry, ``node_modules/axe-core``) run inside a page.

The source is evaluated with ``page.evaluate`` through the DevTools protocol, so the
page's Content-Security-Policy stays as it is (``add_script_tag`` would be refused,
and ``bypass_csp`` would test a page no listener gets). Every rule axe ships runs
(WCAG 2.0/2.1/2.2 A and AA, plus best practices); none is disabled. A serious or
critical violation fails the test; moderate and minor ones are reported as warnings,
so they show in the test output.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")

RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return {
    version: axe.version,
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    })),
  };
}"""


class AxeFinding(UserWarning):
    """A moderate or minor axe-core violation: listed, not failed."""


@cache
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(
            f"axe-core is not installed ({AXE} missing): run `npm install` in the repository "
            "(`make setup` does it; package.json lists axe-core)"
        )
    return AXE.read_text()


def check_page(page: Any, state: str) -> list[dict[str, Any]]:
    """Run axe on the page as it is now; fail on serious/critical, warn on the rest."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result = page.evaluate(RUN)
    violations = result["violations"]
    failing = [v for v in violations if v["impact"] in FAILING]
    for finding in violations:
        if finding["impact"] not in FAILING:
            warnings.warn(
                AxeFinding(f"[{state}] {finding['impact']} {finding['id']}: {finding['help']}"),
                stacklevel=2,
            )
    assert not failing, f"axe-core {result['version']} in state {state!r}:\n" + json.dumps(
        failing, indent=2, ensure_ascii=False
    )
    return violations
