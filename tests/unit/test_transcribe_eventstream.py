"""The event-stream encoder, held to botocore's decoder (which AWS clients use)."""

from __future__ import annotations

import json
import struct
from binascii import crc32

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from polycast.schemas import validate
from polycast_kit.transcribe import eventstream
from polycast_kit.transcribe.eventstream import FrameError

names = st.text(min_size=1, max_size=40).filter(lambda s: 0 < len(s.encode()) < 256)
values = st.text(max_size=200)


def _botocore_decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(m.headers), bytes(m.payload)) for m in buffer]


@settings(max_examples=150, deadline=None)
@given(headers=st.dictionaries(names, values, max_size=6), payload=st.binary(max_size=4096))
def test_botocore_decodes_what_we_encode(headers: dict[str, str], payload: bytes) -> None:
    frame = eventstream.encode(headers, payload)
    assert _botocore_decode(frame) == [(headers, payload)]
    decoded = eventstream.decode(frame)
    assert (decoded.headers, decoded.payload) == (headers, payload)


def test_frames_concatenate_like_a_stream() -> None:
    frames = [eventstream.audio_event(bytes([i]) * 10) for i in range(3)]
    assert [p for _, p in _botocore_decode(b"".join(frames))] == [bytes([i]) * 10 for i in range(3)]


def test_audio_event_has_transcribes_headers() -> None:
    frame = eventstream.decode(eventstream.audio_event(b"\x01\x02"))
    assert frame.headers == {
        ":message-type": "event",
        ":event-type": "AudioEvent",
        ":content-type": "application/octet-stream",
    }
    assert frame.payload == b"\x01\x02"


def test_exception_frame_matches_its_schema() -> None:
    frame = eventstream.decode(eventstream.exception("BadRequestException", "wrong rate"))
    assert frame.message_type == "exception"
    assert frame.exception_type == "BadRequestException"
    validate("transcribe/exception", frame.json())
    assert frame.json() == {"Message": "wrong rate"}


def test_json_event_round_trip() -> None:
    body = {"Transcript": {"Results": []}}
    frame = eventstream.decode(eventstream.json_event("TranscriptEvent", body))
    assert (frame.event_type, frame.json()) == ("TranscriptEvent", body)
    validate("transcribe/TranscriptEvent", frame.json())


def test_known_bytes() -> None:
    """An independent check of the layout: prelude, prelude CRC, headers, payload, CRC."""
    frame = eventstream.encode({"a": "b"}, b"xy")
    header = b"\x01a\x07\x00\x01b"
    total = 12 + len(header) + 2 + 4
    prelude = struct.pack(">II", total, len(header))
    body = prelude + struct.pack(">I", crc32(prelude)) + header + b"xy"
    assert frame == body + struct.pack(">I", crc32(body))


@pytest.mark.parametrize("position", [2, 9, 20, -6, -1])
def test_any_corrupt_byte_is_detected(position: int) -> None:
    frame = bytearray(eventstream.audio_event(b"\x00" * 64))
    frame[position] ^= 0x40
    with pytest.raises(FrameError):
        eventstream.decode(bytes(frame))


def test_botocore_agrees_that_corruption_is_corruption() -> None:
    frame = bytearray(eventstream.audio_event(b"\x00" * 64))
    frame[-10] ^= 1
    with pytest.raises(ChecksumMismatch):
        _botocore_decode(bytes(frame))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        json.dumps({"action": "audio"}).encode(),
        b"\x00" * 64,
        eventstream.audio_event(b"abc")[:-1],
        eventstream.audio_event(b"abc") * 2,
    ],
    ids=["empty", "short", "json-text", "zeros", "truncated", "two-frames"],
)
def test_what_is_not_one_event_stream_frame_is_refused(data: bytes) -> None:
    with pytest.raises(FrameError):
        eventstream.decode(data)


def test_non_string_header_is_refused() -> None:
    # A header of type 0 (bool true) is valid event-stream but not what Transcribe sends.
    header = b"\x01a\x00"
    total = 12 + len(header) + 4
    prelude = struct.pack(">II", total, len(header))
    body = prelude + struct.pack(">I", crc32(prelude)) + header
    with pytest.raises(FrameError, match="not a string"):
        eventstream.decode(body + struct.pack(">I", crc32(body)))


def test_oversized_header_name_is_refused() -> None:
    with pytest.raises(FrameError):
        eventstream.encode({"x" * 256: "v"}, b"")
