"""One construct per concern, each built from ``polycast.wiring`` where the wiring speaks.

Import from the submodules, e.g. ``from infra.constructs.websocket_api import WebSocketApi``.
(This package is ``infra.constructs``; the CDK base library stays plain ``constructs``.)
"""
