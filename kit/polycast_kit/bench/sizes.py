"""Scenario sizes and the progress callback every scenario takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Size = Literal["tiny", "full"]
SIZES: tuple[Size, ...] = ("tiny", "full")
Progress = Callable[[str], None]
