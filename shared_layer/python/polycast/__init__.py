"""Polycast: broadcast live speech across languages.

Subpackages, by reach:

- ``domain``   pure Python: records, sessions, emotion → SSML, cache keys, sequencing.
- ``services`` the orchestrator, broadcaster and connection service, written against ``ports``.
- ``adapters`` ``aws`` (boto3), ``local`` (Apertium, espeak-ng) and ``memory`` (fakes for tests).
- ``local``    the embedded runtime behind ``polycast local``.
- ``cli``      the ``polycast`` command.
"""

__version__ = "0.1.0"
