"""Acknowledging cdk-nag findings: every acknowledgement names the finding and says why.

cdk-nag v3 reports through CDK's policy validation (``Validations``); an
acknowledgement applies to the construct and everything below it, per finding id
(``AwsSolutions-IAM5[Resource::*]``), never to a whole rule by prefix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str, findings: Sequence[str] = ()) -> None:
    """Acknowledge ``rule`` (or each of its ``findings``) on ``scope`` and its children."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule}: give a real reason, not {reason!r}")
    ids = [f"{rule}[{finding}]" for finding in findings] or [rule]
    Validations.of(scope).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))


def finding_of(scope: IConstruct, value: str) -> str:
    """How cdk-nag names a resource in a finding: ``<Logical.Arn>/index/*``, ``Stack:Export/*``.

    Mirrors cdk-nag's ``flattenCfnReference`` so acknowledgements can be computed from
    the same tokens the policy uses instead of copied from a report.
    """
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(i) for i in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
