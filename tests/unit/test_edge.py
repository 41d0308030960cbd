"""The handlers' shared edge: the per-container service and an action's body."""

from __future__ import annotations

from polycast.edge import PerContainer, action_body


def test_the_service_is_built_once_per_container_and_can_be_swapped() -> None:
    built: list[object] = []

    def build() -> object:
        built.append(object())
        return built[-1]

    service = PerContainer(build)
    assert service() is service() is built[0]
    assert len(built) == 1

    fake = object()
    service.use(fake)
    assert service() is fake
    service.use(None)  # forget it: the next call builds afresh
    assert service() is built[1]


def test_an_action_body_is_a_json_object_or_empty() -> None:
    assert action_body('{"action": "ping"}', max_chars=100) == {"action": "ping"}
    assert action_body('{"action": "ping"}', max_chars=10) == {}  # over the limit: unread
    assert action_body("not json", max_chars=100) == {}
    assert action_body("[1, 2]", max_chars=100) == {}
    assert action_body("", max_chars=100) == {}
    assert action_body(None, max_chars=100) == {}


def test_per_container_builds_once_when_first_calls_come_at_once() -> None:
    """The local gateway runs route handlers in threads: 64 first calls at once must
    share one build (each used to build its own clients, ~30 s handlers at 500 joins)."""
    import threading
    import time

    from polycast.edge import PerContainer

    builds: list[int] = []
    start = threading.Barrier(64)

    def build() -> object:
        builds.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive meanwhile
        return object()

    cached: PerContainer[object] = PerContainer(build)
    got: list[object] = []

    def call() -> None:
        start.wait()
        got.append(cached())

    threads = [threading.Thread(target=call) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(got) == 64
    assert all(value is got[0] for value in got)
