"""In-memory Translator: deterministic output, scriptable failures."""

from __future__ import annotations

import threading
from collections import Counter

from polycast.errors import PolycastError, Throttled


class FakeTranslator:
    """Translates ``text`` to ``"[es] text"``.

    ``fail_languages``: targets that always fail (a non-transient error).
    ``throttle(target, n)``: the next ``n`` calls for ``target`` raise Throttled.
    ``calls`` records every (source, target) asked, for "called once" assertions.
    """

    def __init__(self, *, fail_languages: set[str] | None = None) -> None:
        self.fail_languages = set(fail_languages or ())
        self.calls: list[tuple[str, str]] = []
        self._throttles: Counter[str] = Counter()
        self._lock = threading.Lock()

    def throttle(self, target: str, times: int) -> None:
        with self._lock:
            self._throttles[target] += times

    def translate(self, text: str, *, source: str, target: str) -> str:
        with self._lock:
            self.calls.append((source, target))
            if self._throttles[target] > 0:
                self._throttles[target] -= 1
                raise Throttled(f"translation to {target} throttled")
        if target in self.fail_languages:
            raise PolycastError(f"translation to {target} failed", code="TRANSLATION_FAILED")
        return f"[{target}] {text}"

    def calls_for(self, target: str) -> int:
        return sum(1 for _, t in self.calls if t == target)
