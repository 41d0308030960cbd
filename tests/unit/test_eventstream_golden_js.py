"""The speaker page's event-stream codec (web/transcribe-eventstream.js) against botocore.

Golden frames come from a tiny independent encoder (``tests/browser/eventstream_golden.py``:
``struct`` and ``zlib.crc32``). botocore's decoder must read them, and must read the frames
the JS encoder writes for the same headers and payload, which must be the same bytes.
The JS side runs under Node (``tests/browser/eventstream-encode.mjs``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / "tests" / "browser" / "eventstream_golden.py"
JS_ENCODER = ROOT / "tests" / "browser" / "eventstream-encode.mjs"


def _golden() -> Any:
    spec = importlib.util.spec_from_file_location("eventstream_golden", HELPER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN = _golden()
CASES: list[dict[str, Any]] = GOLDEN.cases()


def botocore_decode(frame: bytes) -> tuple[dict[str, Any], bytes]:
    buffer = EventStreamBuffer()
    buffer.add_data(frame)
    messages: list[Any] = list(buffer)
    assert len(messages) == 1
    return dict(messages[0].headers), bytes(messages[0].payload)


@pytest.fixture(scope="module")
def js_frames() -> dict[str, str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (Debian package 'nodejs'); it runs the page's JS")
    result = subprocess.run(
        [node, str(JS_ENCODER)],
        input=json.dumps(CASES),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {case["name"]: case["frameHex"] for case in json.loads(result.stdout)}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_botocore_decodes_the_golden_frame(case: dict[str, Any]) -> None:
    headers, payload = botocore_decode(bytes.fromhex(case["frameHex"]))
    assert headers == dict(map(tuple, case["headers"]))
    assert payload.hex() == case["payloadHex"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_js_encoder_writes_the_golden_bytes_and_botocore_reads_them(
    case: dict[str, Any], js_frames: dict[str, str]
) -> None:
    written = js_frames[case["name"]]
    assert written == case["frameHex"]
    headers, payload = botocore_decode(bytes.fromhex(written))
    assert headers == dict(map(tuple, case["headers"]))
    assert payload.hex() == case["payloadHex"]


def test_a_corrupt_golden_frame_is_refused_by_botocore() -> None:
    frame = bytearray.fromhex(CASES[0]["frameHex"])
    frame[-6] ^= 0xFF
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(Exception, match="(?i)crc|checksum"):
        list(buffer)
