"""AWS event-stream framing: the encoder botocore lacks, and a strict one-frame decoder.

A message is ``total length (4) | headers length (4) | prelude CRC32 (4) | headers |
payload | message CRC32 (4)``, big-endian; each header is ``name length (1) | name |
type (1) | value`` and Transcribe uses only string headers (type 7: ``length (2) |
UTF-8``). ``botocore.eventstream`` decodes; the tests hold this encoder to it.
"""

from __future__ import annotations

import json
import struct
from binascii import crc32
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.eventstream import EventStreamBuffer, ParserError

_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_STRING_TYPE = 7
MAX_FRAME_BYTES = 16 * 1024 * 1024  # the format's own ceiling
MAX_HEADER_VALUE_BYTES = 32767


class FrameError(ValueError):
    """Bytes that are not exactly one well-formed event-stream message."""


@dataclass(frozen=True)
class Frame:
    headers: dict[str, str]
    payload: bytes

    @property
    def message_type(self) -> str:
        return self.headers.get(":message-type", "")

    @property
    def event_type(self) -> str:
        return self.headers.get(":event-type", "")

    @property
    def exception_type(self) -> str:
        return self.headers.get(":exception-type", "")

    def json(self) -> Any:
        return json.loads(self.payload.decode("utf-8"))


def _header(name: str, value: str) -> bytes:
    name_bytes = name.encode("utf-8")
    value_bytes = value.encode("utf-8")
    if not 0 < len(name_bytes) < 256:
        raise FrameError(f"header name must be 1–255 bytes: {name!r}")
    if len(value_bytes) > MAX_HEADER_VALUE_BYTES:
        raise FrameError(f"header {name!r} value too long")
    return (
        struct.pack(">B", len(name_bytes))
        + name_bytes
        + struct.pack(">BH", _STRING_TYPE, len(value_bytes))
        + value_bytes
    )


def encode(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers."""
    header_bytes = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(header_bytes) + len(payload) + _CRC.size
    if total > MAX_FRAME_BYTES:
        raise FrameError(f"message of {total} bytes is over the format's limit")
    prelude = _PRELUDE.pack(total, len(header_bytes))
    head = prelude + _CRC.pack(crc32(prelude))
    body = head + header_bytes + payload
    return body + _CRC.pack(crc32(body))


def audio_event(pcm: bytes) -> bytes:
    """An ``AudioEvent`` carrying raw PCM; an empty one ends the stream."""
    return encode(
        {
            ":message-type": "event",
            ":event-type": "AudioEvent",
            ":content-type": "application/octet-stream",
        },
        pcm,
    )


def json_event(event_type: str, body: Any) -> bytes:
    """An event with a JSON payload, such as ``TranscriptEvent``."""
    return encode(
        {
            ":message-type": "event",
            ":event-type": event_type,
            ":content-type": "application/json",
        },
        json.dumps(body, separators=(",", ":")).encode("utf-8"),
    )


def exception(exception_type: str, message: str) -> bytes:
    """An exception frame as Transcribe sends it (``{"Message": …}``)."""
    return encode(
        {
            ":message-type": "exception",
            ":exception-type": exception_type,
            ":content-type": "application/json",
        },
        json.dumps({"Message": message}).encode("utf-8"),
    )


def decode(data: bytes) -> Frame:
    """Exactly one message, checked by botocore (lengths and both CRCs).

    Anything else — a text frame's bytes, a truncated or corrupt frame, two frames
    glued together, non-string headers — raises :class:`FrameError`.
    """
    if len(data) < _PRELUDE.size + 2 * _CRC.size:
        raise FrameError(f"{len(data)} bytes is shorter than an event-stream prelude")
    total, _ = _PRELUDE.unpack_from(data)
    if total != len(data):
        raise FrameError(f"frame says {total} bytes but {len(data)} arrived")
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    try:
        messages = list(buffer)
    except (ParserError, KeyError, IndexError, ValueError, struct.error) as error:
        raise FrameError(f"not an event-stream message: {type(error).__name__}") from None
    if len(messages) != 1:
        raise FrameError("expected exactly one event-stream message")
    message: Any = messages[0]
    headers: dict[str, str] = {}
    for name, value in message.headers.items():
        if not isinstance(value, str):
            raise FrameError(f"header {name!r} is not a string")
        headers[name] = value
    return Frame(headers=headers, payload=bytes(message.payload))
