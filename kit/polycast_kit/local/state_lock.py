"""One runtime per state folder: an exclusive ``flock`` on ``<state dir>/local.lock``.

The lock is held for the runtime's whole life through an open file descriptor, so
the operating system frees it when the process ends in any way, ``kill -9``
included: a stale lock never blocks the next start. The file itself stays (removing
a lock file races with the next locker); it holds the owner's PID and ports so a
refused second runtime can name the running one.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

LOCK_FILE = "local.lock"


class StateDirBusy(RuntimeError):
    """Another runtime holds the state folder; says which one and what to do."""

    def __init__(self, state_dir: Path, owner: dict[str, Any]) -> None:
        pid = owner.get("pid", "?")
        ports = ", ".join(
            f"{name} {owner[key]}"
            for key, name in (("awsPort", "AWS port"), ("wsPort", "WebSocket port"))
            if owner.get(key)
        )
        running = f"PID {pid}" + (f", {ports}" if ports else "")
        super().__init__(
            f"another polycast local is running on {state_dir} ({running}); stop it first, "
            "or give this one its own --state-dir"
        )
        self.owner = owner


class StateDirLock:
    """Exclusive, non-blocking lock of one state folder."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`StateDirBusy` naming the holder."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateDirBusy(self.state_dir, read_owner(self.path)) from None
        self._fd = fd
        self.describe()

    def describe(self, **ports: int) -> None:
        """Write who holds the lock (PID, and the ports once bound)."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), **ports}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


def read_owner(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
