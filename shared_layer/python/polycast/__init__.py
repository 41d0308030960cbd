"""Polycast: broadcast live speech across languages — the runtime that ships.

This package is the Lambda layer: only what runs on AWS.

- ``domain``      pure Python: records, sessions, emotion → SSML, cache keys, sequencing.
- ``ports``       the Protocols services depend on.
- ``services``    the processor, orchestrator, broadcaster and connection service.
- ``adapters``    ``aws``: boto3 implementations of the ports.
- ``composition`` picks adapters for each function, once per container.
- ``wiring``      the one definition of tables, functions, sources, rules and routes.

The developer and organizer kit (CLI, local runtime and engines, fakes, bench) is the
separate ``polycast_kit`` package, which depends on this one and never the reverse.
"""

__version__ = "0.1.0"
