"""Remember moto's CamelCase → snake_case conversions.

moto converts names character by character (``camelcase_to_underscores``): once per
request for the action, and for SQS some 17 times each time it reads a queue's
attributes — which EventBridge's delivery to an SQS target and every SendMessage
do, several times each. In a local talk that was about a third of the CPU moto
spends on SQS (docs/local.md, "Where the time goes"). The conversion depends on
its argument alone, and the arguments are a few hundred API and attribute names,
so one cache answers them all.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

_MARK = "_polycast_cached"
NAMES_CACHED = 4096
# The modules of the services the runtime uses that call it by their own binding.
_USERS = ("moto.core.utils", "moto.core.responses", "moto.sqs.models")


def cache_name_conversions() -> None:
    """Replace the function in the modules that bind it (idempotent)."""
    utils = importlib.import_module("moto.core.utils")
    convert = utils.camelcase_to_underscores
    if getattr(convert, _MARK, False):
        return
    cached: Any = functools.lru_cache(maxsize=NAMES_CACHED)(convert)
    setattr(cached, _MARK, True)
    for name in _USERS:
        module = importlib.import_module(name)
        if getattr(module, "camelcase_to_underscores", None) is convert:
            setattr(module, "camelcase_to_underscores", cached)  # noqa: B010 - moto's module
