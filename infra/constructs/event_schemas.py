"""The EventBridge schema registry: one schema per file in ``schemas/events/``.

Files are read at synth time, so a new event type needs only its schema file.
Schema names follow EventBridge's discovered-schema convention, ``<source>@<DetailType>``.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_eventschemas as eventschemas
from constructs import Construct

from infra.options import REPO_ROOT
from polycast import wiring

EVENT_SCHEMAS_DIR = REPO_ROOT / "schemas" / "events"
SCHEMA_TYPE = "JSONSchemaDraft4"


def schema_name(path: Path) -> str:
    """``schemas/events/SegmentReady.json`` → ``polycast@SegmentReady``."""
    return f"{wiring.SOURCE}@{path.stem}"


class EventSchemas(Construct):
    """A registry per stack holding every event schema, as consumers discover them."""

    def __init__(
        self, scope: Construct, construct_id: str, *, directory: Path = EVENT_SCHEMAS_DIR
    ) -> None:
        super().__init__(scope, construct_id)
        self.registry = eventschemas.CfnRegistry(
            self,
            "Registry",
            registry_name=f"{Stack.of(self).stack_name}-events",
            description="Polycast events on the polycast bus (JSON Schema draft-04)",
        )
        self.schemas: dict[str, eventschemas.CfnSchema] = {}
        for path in sorted(directory.glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            schema = eventschemas.CfnSchema(
                self,
                path.stem,
                registry_name=self.registry.attr_registry_name,
                schema_name=schema_name(path),
                type=SCHEMA_TYPE,
                content=json.dumps(document, separators=(",", ":")),
                description=str(document.get("description", ""))[:256] or None,
            )
            self.schemas[path.stem] = schema
