"""The listener page's pure rules (web/reorder.js, web/connection.js) under Node's test
runner: ordering, dedupe, parts, the playback queue, reconnect, ping and renewal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
JS_TESTS = sorted(HERE.glob("*.test.mjs"))


@pytest.mark.parametrize("test_file", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_page_rules(test_file: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (Debian package 'nodejs'); it runs the page's JS tests")
    result = subprocess.run(
        [node, "--test", str(test_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
