"""The example events in docs/analytics.md are valid against schemas/events/ (one per type)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from polycast import schemas, wiring

pytestmark = pytest.mark.infra

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


def _examples() -> dict[str, dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    events = [json.loads(block) for block in blocks]
    return {str(e["detail-type"]): e for e in events if e.get("source") == wiring.SOURCE}


def test_analytics_doc_has_an_example_for_every_event_type() -> None:
    assert set(_examples()) == set(wiring.EVENT_TYPES)


@pytest.mark.parametrize("detail_type", wiring.EVENT_TYPES)
def test_analytics_doc_example_matches_its_schema(detail_type: str) -> None:
    event = _examples()[detail_type]
    schemas.validate(f"events/{detail_type}", event)
