"""Make moto's PutEvents cheap enough to keep up with a churning audience.

For every rule an event matches, moto's ``put_events`` hands each target's input
paths to ``EventTemplateParser.parse``, which compiles every JSONPath again with
``jsonpath_ng.ext.parse`` — and that call builds a new PLY parser each time (about
1 ms per path on an idle core; 8 default paths per target). The local bus has an
archive besides its rules, so a ``ListenerJoined`` reaches two targets: 16 parser
builds, ~34 ms of CPU per PutEvents (18 ms without the archive), all under the
embedded AWS's one-at-a-time EventBridge lock, where a 500-listener churn (one
event per connect and disconnect) queues its requests.

The paths are a handful of constants, and a compiled expression is only read by
``find``: one cache of compiled paths makes a PutEvents ~7 ms, archive or not.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

_MARK = "_polycast_cached"
PATHS_CACHED = 256


def cache_event_paths() -> None:
    """Cache ``jsonpath_ng.ext.parse`` (which moto imports at each call) once per
    process; idempotent."""
    ext = importlib.import_module("jsonpath_ng.ext")
    parse = ext.parse
    if getattr(parse, _MARK, False):
        return
    cached: Any = functools.lru_cache(maxsize=PATHS_CACHED)(parse)
    setattr(cached, _MARK, True)
    setattr(ext, "parse", cached)  # noqa: B010 - the module moto imports it from
