"""One real runtime (``polycast local`` in a subprocess) shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_e2e_support import RunningRuntime, start_runtime, stop_runtime


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    workdir = tmp_path_factory.mktemp("polycast-local")
    running = start_runtime(workdir)
    try:
        yield running
    finally:
        code = stop_runtime(running)
        assert code == 0, f"polycast local exited with {code}:\n{running.log()}"
        assert not (running.state_dir / "local.json").exists()
