"""JSON Schemas of every wire format, loaded once from ``schemas/``.

The schemas ship inside the package (``schemas_dir`` links to the top-level
``schemas/`` folder, and the Lambda layer follows the link), so functions validate
what they accept and tests validate what the code emits against the same files.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator


def schemas_root() -> Path:
    override = os.environ.get("POLYCAST_SCHEMAS_DIR")
    return Path(override) if override else Path(__file__).resolve().parent / "schemas_dir"


@cache
def validator(name: str) -> Draft4Validator:
    """The validator for ``name``, e.g. ``"records/transcript"`` or ``"events/SegmentReady"``."""
    path = schemas_root() / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no schema named {name!r} (looked for {path})")
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def validate(name: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``instance`` does not match ``name``."""
    validator(name).validate(instance)


def validate_event(detail_type: str, detail: Any) -> None:
    """Validate an event detail inside the envelope its schema describes."""
    validate(
        f"events/{detail_type}",
        {"source": "polycast", "detail-type": detail_type, "detail": detail},
    )


def names(kind: str) -> list[str]:
    """Schema names of one kind (``records``, ``events`` or ``messages``)."""
    return sorted(f"{kind}/{p.stem}" for p in (schemas_root() / kind).glob("*.json"))
