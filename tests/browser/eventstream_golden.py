"""Golden event-stream frames for the speaker page's JS codec, built from the spec.

A tiny independent encoder (``struct`` and ``zlib.crc32`` only, no botocore, no kit)
writes the frames Transcribe's protocol uses; ``tests/unit/test_eventstream_golden_js.py``
checks that botocore decodes them, and the JS tests that ``web/transcribe-eventstream.js``
decodes them and encodes the same bytes. Run as a script it prints the cases as JSON
(the Node test reads them from there).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

STRING = 7


def frame(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """``total | headers length | prelude CRC | headers | payload | message CRC``."""
    head = b""
    for name, value in headers:
        raw_name, raw_value = name.encode(), value.encode()
        head += struct.pack(">B", len(raw_name)) + raw_name
        head += struct.pack(">BH", STRING, len(raw_value)) + raw_value
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


AUDIO = [
    (":message-type", "event"),
    (":event-type", "AudioEvent"),
    (":content-type", "application/octet-stream"),
]
TRANSCRIPT = [
    (":message-type", "event"),
    (":event-type", "TranscriptEvent"),
    (":content-type", "application/json"),
]
EXCEPTION = [
    (":message-type", "exception"),
    (":exception-type", "BadRequestException"),
    (":content-type", "application/json"),
]
RESULT = {
    "Transcript": {
        "Results": [
            {
                "ResultId": "r1",
                "StartTime": 0.5,
                "EndTime": 1.75,
                "IsPartial": True,
                "Alternatives": [
                    {
                        "Transcript": "Un café, naïve – señor",
                        "Items": [
                            {
                                "StartTime": 0.5,
                                "EndTime": 0.9,
                                "Type": "pronunciation",
                                "Content": "Un",
                                "Stable": True,
                            },
                        ],
                    }
                ],
            }
        ]
    }
}


def cases() -> list[dict[str, Any]]:
    """Each case: headers, payload and the frame, as hex."""
    samples = struct.pack("<6h", 0, 1, -1, 32767, -32768, 1000)
    inputs: list[tuple[str, list[tuple[str, str]], bytes]] = [
        ("audio", AUDIO, samples),
        ("audio-end", AUDIO, b""),
        ("audio-100ms", AUDIO, bytes(range(256)) * 12 + bytes(128)),
        ("transcript", TRANSCRIPT, json.dumps(RESULT, ensure_ascii=False).encode()),
        ("exception", EXCEPTION, json.dumps({"Message": "sample-rate must be 16000"}).encode()),
    ]
    return [
        {
            "name": name,
            "headers": [list(pair) for pair in headers],
            "payloadHex": payload.hex(),
            "frameHex": frame(headers, payload).hex(),
        }
        for name, headers, payload in inputs
    ]


if __name__ == "__main__":
    print(json.dumps(cases()))
