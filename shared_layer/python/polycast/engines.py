"""Which translation and speech engines a process offers, by name (``POLYCAST_ENGINES``).

The shipped package knows only Amazon Translate and Polly (``aws``). Whoever runs the
handlers elsewhere registers its own engines under a name before it loads them — the
developer kit's local runtime registers Apertium and espeak-ng under ``local``
(``polycast_kit.engines.register``) — so the runtime never imports the kit. The
composition root asks here which engines to build and which languages listeners may
ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from polycast.config import Settings
from polycast.domain.languages import SUPPORTED_LANGUAGES
from polycast.ports import Synthesizer, Translator


class EngineSet(Protocol):
    """A translator and synthesizer that live together (and are closed together)."""

    @property
    def translator(self) -> Translator: ...

    @property
    def synthesizer(self) -> Synthesizer: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class EngineProvider:
    """Engines other than AWS's, registered by whoever runs the handlers."""

    build: Callable[[], EngineSet]
    languages: Callable[[], Collection[str]]


_ENGINE_PROVIDERS: dict[str, EngineProvider] = {}


def register_engines(name: str, provider: EngineProvider) -> None:
    """Make ``POLYCAST_ENGINES=<name>`` build ``provider``'s engines in this process."""
    _ENGINE_PROVIDERS[name] = provider


def engine_provider(settings: Settings) -> EngineProvider:
    try:
        return _ENGINE_PROVIDERS[settings.engines]
    except KeyError:
        raise ValueError(
            f"POLYCAST_ENGINES={settings.engines!r}: no engines registered under that name "
            "in this process (the local runtime registers 'local' when it starts)"
        ) from None


def supported_target_languages(settings: Settings) -> Collection[str]:
    """What listeners may ask for: Translate's list, or what the registered engines reach."""
    if settings.engines == "aws":
        return SUPPORTED_LANGUAGES
    try:
        return frozenset(engine_provider(settings).languages())
    except OSError:
        return SUPPORTED_LANGUAGES
