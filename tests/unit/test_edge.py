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
