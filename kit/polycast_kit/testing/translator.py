"""In-memory Translator: deterministic output, scriptable failures."""

from __future__ import annotations

import threading
from collections import Counter

from polycast.domain.translation_settings import TranslationSettings
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
        self.settings_seen: list[tuple[str, TranslationSettings]] = []
        self._throttles: Counter[str] = Counter()
        self._lock = threading.Lock()

    def throttle(self, target: str, times: int) -> None:
        with self._lock:
            self._throttles[target] += times

    def translate(
        self,
        text: str,
        *,
        source: str,
        target: str,
        settings: TranslationSettings | None = None,
    ) -> str:
        """With ``settings``: glossary terms become ``<term>`` as given, and the
        settings are kept in ``settings_seen`` for assertions."""
        with self._lock:
            self.calls.append((source, target))
            if settings is not None:
                self.settings_seen.append((target, settings))
            if self._throttles[target] > 0:
                self._throttles[target] -= 1
                raise Throttled(f"translation to {target} throttled")
        if target in self.fail_languages:
            raise PolycastError(f"translation to {target} failed", code="TRANSLATION_FAILED")
        if settings is not None and settings.glossary is not None:
            for term, translated in settings.glossary.terms_for(target):
                text = text.replace(term, f"<{translated}>")
        return f"[{target}] {text}"

    def calls_for(self, target: str) -> int:
        return sum(1 for _, t in self.calls if t == target)
