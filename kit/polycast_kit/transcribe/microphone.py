"""The terminal speaker's microphone: 16 kHz mono 16-bit PCM chunks, or a clear reason.

``sounddevice`` (PortAudio) when it is installed, else ``arecord`` (Debian
``alsa-utils``). No capture device is said plainly, with what to do.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

SAMPLE_RATE = 16000
CHUNK_MS = 100
CHUNK_BYTES = CHUNK_MS * 32


class NoMicrophone(RuntimeError):
    """No capture device (or no way to read one); the message says what to do."""


def _sounddevice() -> Any | None:
    try:
        return importlib.import_module("sounddevice")
    except (ImportError, OSError):  # not installed, or PortAudio missing
        return None


def describe_capture() -> str:
    """Which capture path will be used; raises NoMicrophone when there is none."""
    sd = _sounddevice()
    if sd is not None:
        try:
            device = sd.query_devices(kind="input")
        except Exception as exc:  # PortAudioError and friends
            raise NoMicrophone(f"no microphone: {exc}; connect one and try again") from exc
        return f"sounddevice: {device.get('name', 'default input')}"
    arecord = shutil.which("arecord")
    if arecord is None:
        raise NoMicrophone(
            "no microphone support: install alsa-utils (arecord) or pip install sounddevice"
        )
    listed = subprocess.run(  # noqa: S603 - fixed binary
        [arecord, "-l"], capture_output=True, text=True, timeout=10, check=False
    )
    if "card" not in listed.stdout:
        raise NoMicrophone(
            "no microphone: arecord finds no capture device on this machine; connect one, "
            "or speak a recording with --file talk.wav"
        )
    return "arecord: default capture device"


async def microphone_chunks() -> AsyncIterator[bytes]:
    """100 ms chunks from the default capture device until cancelled."""
    describe_capture()
    sd = _sounddevice()
    if sd is not None:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def captured(data: Any, frames: int, when: Any, status: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, bytes(data))

        stream = sd.RawInputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            blocksize=CHUNK_BYTES // 2,
            callback=captured,
        )
        with stream:
            while True:
                yield await queue.get()
    arecord = shutil.which("arecord") or "arecord"
    process = await asyncio.create_subprocess_exec(
        *(arecord, "-q", "-f", "S16_LE", "-r", str(SAMPLE_RATE), "-c", "1", "-t", "raw"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        while True:
            chunk = await process.stdout.read(CHUNK_BYTES)
            if not chunk:
                problem = (await process.stderr.read()).decode(errors="replace").strip()
                raise NoMicrophone(f"the microphone stopped: {problem or 'arecord ended'}")
            yield chunk
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
