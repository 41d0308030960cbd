"""Local engines behind the Translate and Polly ports: Apertium and espeak-ng.

``local_engines()`` is what a composition root calls; ``supported_languages()``
is what the local runtime lists in ``local.json`` and admits at connect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from polycast_kit.engines.apertium import (
    ApertiumPipeline,
    ApertiumTranslator,
    available_targets,
)
from polycast_kit.engines.apertium_modes import (
    DEFAULT_PIVOT,
    ModeCatalog,
    Route,
    discover,
    iso639_1,
    parse_mode_name,
)
from polycast_kit.engines.espeak import EspeakSynthesizer, voice_for
from polycast_kit.engines.espeak_ssml import to_espeak_ssml
from polycast_kit.engines.mp3 import Mp3Info, encode_mp3, mp3_duration_seconds, mp3_info

# Directions a pair ships but does not install (Debian's es-ro: Romanian, which docs/engines.md
# lists among the local languages) are used by default; POLYCAST_APERTIUM_EXPERIMENTAL=0
# turns them off.
EXPERIMENTAL_ENV = "POLYCAST_APERTIUM_EXPERIMENTAL"


def _experimental_from_env() -> bool:
    return os.environ.get(EXPERIMENTAL_ENV, "1").strip().lower() not in {"0", "false", "no"}


@dataclass
class LocalEngines:
    translator: ApertiumTranslator
    synthesizer: EspeakSynthesizer

    def close(self) -> None:
        """Stop the long-lived Apertium pipelines."""
        self.translator.close()


def local_engines(
    *,
    modes_dir: str | os.PathLike[str] | None = None,
    pivot: str = DEFAULT_PIVOT,
    experimental: bool | None = None,
    translate_timeout_seconds: float = 10.0,
    synthesize_timeout_seconds: float = 20.0,
    bitrate_kbps: int = 32,
) -> LocalEngines:
    """The translator and synthesizer for the local runtime (build once per process).

    ``experimental`` (default: ``$POLYCAST_APERTIUM_EXPERIMENTAL``) also uses
    directions a pair declares ``install="no"``, which makes Romanian reachable.
    """
    catalog = discover(
        modes_dir,
        pivot=pivot,
        experimental=_experimental_from_env() if experimental is None else experimental,
    )
    return LocalEngines(
        ApertiumTranslator(catalog, timeout_seconds=translate_timeout_seconds),
        EspeakSynthesizer(bitrate_kbps=bitrate_kbps, timeout_seconds=synthesize_timeout_seconds),
    )


def supported_languages(
    source: str = "en",
    *,
    modes_dir: str | os.PathLike[str] | None = None,
    experimental: bool | None = None,
) -> list[str]:
    """Targets the local engines can translate ``source`` into, in ISO 639-1 codes.

    Every one of them also has an espeak-ng voice (Galician through the Portuguese one).
    """
    return available_targets(
        source,
        modes_dir=modes_dir,
        experimental=_experimental_from_env() if experimental is None else experimental,
    )


def register() -> None:
    """Serve ``POLYCAST_ENGINES=local`` in this process with Apertium and espeak-ng."""
    from polycast.engines import EngineProvider, register_engines

    register_engines("local", EngineProvider(build=local_engines, languages=supported_languages))


__all__ = [
    "EXPERIMENTAL_ENV",
    "ApertiumPipeline",
    "ApertiumTranslator",
    "EspeakSynthesizer",
    "LocalEngines",
    "ModeCatalog",
    "Mp3Info",
    "Route",
    "available_targets",
    "discover",
    "encode_mp3",
    "iso639_1",
    "local_engines",
    "mp3_duration_seconds",
    "mp3_info",
    "parse_mode_name",
    "register",
    "supported_languages",
    "to_espeak_ssml",
    "voice_for",
]
