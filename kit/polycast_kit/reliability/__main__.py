"""``python -m polycast_kit.reliability``: the same as ``polycast reliability``."""

from __future__ import annotations

import sys

from polycast_kit.cli.reliability import main

if __name__ == "__main__":
    sys.exit(main())
