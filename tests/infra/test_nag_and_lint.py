"""cdk-nag (AwsSolutions) and cfn-lint on the synthesized app.

cdk-nag v3 runs as a CDK policy-validation plugin on every synth: an unacknowledged
error already fails ``app.synth()``; these tests also refuse unacknowledged warnings
and acknowledgements without a reason, and prove the pack is really wired in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
# CDK emits DependsOn on a role's default policy that a GetAtt already implies.
ACCEPTED_LINT_RULES = {"W3005"}
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def _violations(outdir: Path) -> list[str]:
    report_file = outdir / "validation-report.json"
    assert report_file.is_file(), "policy validation did not run"
    report = json.loads(report_file.read_text())
    return [
        f"{plugin['pluginName']}: {violation['severity']} {violation['ruleName']} at "
        + ", ".join(c["constructPath"] for c in violation["violatingConstructs"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


def test_no_unacknowledged_nag_findings(synth: Any) -> None:
    assert _violations(synth.outdir) == []


def test_no_unacknowledged_findings_with_the_data_lake(synth_with_firehose: Any) -> None:
    assert _violations(synth_with_firehose.outdir) == []


def test_every_acknowledgement_names_a_rule_and_a_reason(synth: Any) -> None:
    acknowledged: dict[str, str] = {}
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == ACKNOWLEDGED:
                for rule, reason in entry.data.items():
                    acknowledged[f"{construct.node.path} {rule}"] = reason
    assert acknowledged, "expected the acknowledgements the app makes"
    for where, reason in acknowledged.items():
        assert "AwsSolutions-" in where or "CloudFormation-Validate::" in where, where
        assert len(reason) >= 40, f"{where}: reason too thin: {reason!r}"


def test_the_nag_pack_fails_a_non_compliant_resource(tmp_path: Path) -> None:
    """Guards against a synth that passes only because the pack is not attached."""
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bad")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="AwsSolutions-SQS"):
        app.synth()


@pytest.mark.parametrize("stack", ["PolycastState", "PolycastPipeline"])
def test_cfn_lint_finds_no_errors(synth: Any, stack: str) -> None:
    template = synth.outdir / f"{stack}.template.json"
    result = subprocess.run(
        [str(CFN_LINT), "--format", "json", str(template)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert not result.returncode & 1, result.stderr  # 1: cfn-lint itself failed
    assert result.stdout.strip(), result.stderr
    findings = json.loads(result.stdout)
    unexpected = [
        f"{f['Rule']['Id']} {f['Message']}"
        for f in findings
        if f["Rule"]["Id"] not in ACCEPTED_LINT_RULES
        and (f["Level"] == "Error" or f["Rule"]["Id"].startswith("W"))
    ]
    assert unexpected == []


def test_no_construct_warnings(synth: Any) -> None:
    """CDK's own warnings (an ignored setting, a deprecated prop) fail the build too."""
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    found = []
    for artifact in manifest["artifacts"].values():
        metadata = dict(artifact.get("metadata") or {})
        if "additionalMetadataFile" in artifact:
            metadata |= json.loads((synth.outdir / artifact["additionalMetadataFile"]).read_text())
        found += [
            f"{path}: {entry['data']}"
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
        ]
    assert found == []
