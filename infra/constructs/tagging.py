"""Marks each synthesized resource with the wiring entry it was built from.

Template tests find resources by this metadata instead of guessing logical ids, so
a test can hold every wiring entry against exactly one resource.
"""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct

from infra.drift import WIRING_METADATA


def tag_wiring(construct: IConstruct, name: str) -> None:
    """Add ``polycast:wiring: <name>`` to the construct's CloudFormation resource."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to tag")
    resource.add_metadata(WIRING_METADATA, name)
