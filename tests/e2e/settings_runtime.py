"""``LocalRuntime`` with settings overrides, in its own process, until SIGTERM.

``polycast local`` takes no settings on its command line; the issue-6 end-to-end
tests need a few (reference-audio audience, slice size, no listener cap), so they
start the same runtime through this script:

    python settings_runtime.py <aws-port> <ws-port> <state-dir> '<json overrides>'
"""

from __future__ import annotations

import faulthandler
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from polycast_kit.local.runtime import LocalRuntime


def main(argv: list[str]) -> int:
    aws_port, ws_port, state_dir, overrides = argv[1:5]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    runtime = LocalRuntime(
        aws_port=int(aws_port),
        ws_port=int(ws_port),
        state_dir=Path(state_dir),
        settings_overrides=json.loads(overrides),
        log_level="WARNING",
    )
    runtime.start()
    try:
        stop.wait()
    finally:
        # A stop that hangs prints every thread's stack into the runtime's log (which
        # the tests show when it does not exit in time) instead of leaving no trace.
        faulthandler.dump_traceback_later(60, exit=False)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
