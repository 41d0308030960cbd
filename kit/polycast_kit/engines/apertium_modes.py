"""Which Apertium translation directions exist here, and how to reach a language.

Pure functions over mode names and mode text, so discovery is unit-testable;
the only I/O is :func:`read_installed_modes`, which lists a modes directory.
"""

from __future__ import annotations

import os
import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODES_DIR = "/usr/share/apertium/modes"
MODES_DIR_ENV = "APERTIUM_MODES_DIR"
DEFAULT_PIVOT = "es"

# Apertium names pairs with ISO 639-3 codes (eng-spa) or 639-1 codes (en-gl).
# Polycast speaks 639-1 wherever a 2-letter code exists.
ISO639_3_TO_1: Mapping[str, str] = {
    "afr": "af",
    "arg": "an",
    "bel": "be",
    "bul": "bg",
    "cat": "ca",
    "ces": "cs",
    "cym": "cy",
    "dan": "da",
    "deu": "de",
    "ell": "el",
    "eng": "en",
    "epo": "eo",
    "eus": "eu",
    "fin": "fi",
    "fra": "fr",
    "gle": "ga",
    "glg": "gl",
    "hbs": "sh",
    "hin": "hi",
    "isl": "is",
    "ita": "it",
    "kaz": "kk",
    "mkd": "mk",
    "mlt": "mt",
    "nld": "nl",
    "nno": "nn",
    "nob": "nb",
    "oci": "oc",
    "pol": "pl",
    "por": "pt",
    "ron": "ro",
    "rus": "ru",
    "slk": "sk",
    "slv": "sl",
    "spa": "es",
    "swe": "sv",
    "tat": "tt",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
}

_MODE_NAME = re.compile(
    r"^(?P<src>[a-z]{2,3})-(?P<tgt>[a-z]{2,3})(?:_(?P<variant>[A-Za-z0-9_]+))?$"
)


def iso639_1(code: str) -> str:
    """The 2-letter code for a language code (``spa``, ``es``, ``es-MX`` → ``es``).

    Apertium has no regional directions worth choosing between here, so a region
    suffix is dropped; codes without a 2-letter form are kept as they are.
    """
    code = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return ISO639_3_TO_1.get(code, code)


@dataclass(frozen=True)
class ModeName:
    """A parsed translation mode name such as ``eng-cat_valencia``."""

    name: str
    source: str
    target: str
    variant: str | None


def parse_mode_name(name: str) -> ModeName | None:
    """None for names that are not a plain translation direction (``eco-es-fr``, ``x-y-tagger``)."""
    match = _MODE_NAME.match(name)
    if match is None:
        return None
    return ModeName(name, iso639_1(match["src"]), iso639_1(match["tgt"]), match["variant"])


@dataclass(frozen=True)
class Mode:
    """A translation direction and the shell pipeline (mode file text) that runs it."""

    name: str
    pipeline: str
    experimental: bool = False


@dataclass(frozen=True)
class Route:
    """How one (source, target) pair is translated: one mode, or two through the pivot."""

    source: str
    target: str
    modes: tuple[Mode, ...]
    pivot: str | None = None

    def describe(self) -> str:
        names = " + ".join(
            m.name + (" (experimental)" if m.experimental else "") for m in self.modes
        )
        return f"{self.source}->{self.target}: {names}"


@dataclass
class ModeCatalog:
    """The installed directions, keyed by (source, target) in ISO 639-1."""

    modes: dict[tuple[str, str], Mode] = field(default_factory=dict)
    pivot: str = DEFAULT_PIVOT

    @classmethod
    def from_modes(cls, modes: Iterable[Mode], *, pivot: str = DEFAULT_PIVOT) -> ModeCatalog:
        """One mode per direction: the plain one over variants (eng-cat, not eng-cat_valencia)."""
        chosen: dict[tuple[str, str], tuple[bool, bool, str, Mode]] = {}
        for mode in modes:
            parsed = parse_mode_name(mode.name)
            if parsed is None or parsed.source == parsed.target:
                continue
            rank = (mode.experimental, parsed.variant is not None, mode.name, mode)
            key = (parsed.source, parsed.target)
            if key not in chosen or rank[:3] < chosen[key][:3]:
                chosen[key] = rank
        return cls({key: rank[3] for key, rank in chosen.items()}, pivot=pivot)

    def route(self, source: str, target: str) -> Route | None:
        source, target = iso639_1(source), iso639_1(target)
        direct = self.modes.get((source, target))
        if direct is not None:
            return Route(source, target, (direct,))
        first = self.modes.get((source, self.pivot))
        second = self.modes.get((self.pivot, target))
        if first is not None and second is not None:
            return Route(source, target, (first, second), pivot=self.pivot)
        return None

    def targets(self, source: str) -> list[str]:
        """Reachable targets: the pivot first, then direct pairs, then pivoted ones (each A-Z)."""
        source = iso639_1(source)
        direct = sorted(t for (s, t) in self.modes if s == source)
        pivoted: list[str] = []
        if (source, self.pivot) in self.modes:
            pivoted = sorted(
                t for (s, t) in self.modes if s == self.pivot and t != source and t not in direct
            )
        ordered = sorted(direct, key=lambda t: (t != self.pivot, t))
        return ordered + pivoted

    def sources(self) -> list[str]:
        return sorted({s for (s, _) in self.modes})

    def source_only(self, source: str) -> list[str]:
        """Languages installed only as a *source* (e.g. ro-es without es-ro): not reachable."""
        reachable = set(self.targets(source)) | {iso639_1(source)}
        return sorted({s for (s, _) in self.modes} - reachable)


# Stage programs that take -z. apertium-wblank-mode adds -z to the same tools.
_NULL_FLUSH_TOOLS = ("lt-", "apertium-", "cg-proc", "lrx-proc", "lsx-proc", "hfst-proc", "rtx-proc")


def null_flush_pipeline(mode_text: str) -> str:
    """Rewrite a mode pipeline so every Apertium stage runs in null-flush mode (``-z``).

    In null-flush mode each stage processes a NUL-terminated chunk and flushes it,
    so one long-lived pipeline can translate sentence after sentence.
    """
    stages = []
    for raw in mode_text.strip().split("|"):
        stage = raw.strip()
        if not stage:
            continue
        command, _, rest = stage.partition(" ")
        flags = rest.split()
        apertium_tool = command.startswith(_NULL_FLUSH_TOOLS)
        if apertium_tool and "-z" not in flags and "--null-flush" not in flags:
            rest = f"-z {rest}".strip()
        stages.append(f"{command} {rest}".strip())
    return " | ".join(stages)


def pipeline_commands(mode_text: str, *, marks: bool = False) -> list[list[str]]:
    """The argv of each null-flush stage, ready to chain without a shell.

    Mode files leave two holes: ``$1``, the generator's flag (``-n``: no marks for
    unknown words, what ``apertium -u`` passes; ``-g`` with ``marks``: ``*``, ``@``
    and ``#`` kept, so the translator can repair them, see ``apertium_marks``) and
    ``$2``, the tagger's (unused).
    """
    holes = {"$1": "-g" if marks else "-n", "$2": ""}
    commands = []
    for stage in null_flush_pipeline(mode_text).split(" | "):
        argv = [holes.get(arg, arg) for arg in shlex.split(stage)]
        commands.append([arg for arg in argv if arg])
    return commands


def modes_dir_from_env(modes_dir: str | os.PathLike[str] | None = None) -> Path:
    return Path(modes_dir or os.environ.get(MODES_DIR_ENV) or DEFAULT_MODES_DIR)


def read_installed_modes(modes_dir: Path) -> list[Mode]:
    """Every ``*.mode`` file in the modes directory (what ``apertium -l`` lists)."""
    if not modes_dir.is_dir():
        return []
    return [
        Mode(path.stem, path.read_text(encoding="utf-8").strip())
        for path in sorted(modes_dir.glob("*.mode"))
    ]


def read_uninstalled_modes(data_dir: Path) -> list[Mode]:
    """Directions a pair declares in its ``modes.xml`` with ``install="no"``.

    Debian's apertium-es-ro ships the es-ro data but no es-ro.mode, because upstream
    does not consider that direction release quality. These are opt-in only.
    """
    modes: list[Mode] = []
    for modes_xml in sorted(data_dir.glob("apertium-*/modes.xml")):
        try:
            root = ET.parse(modes_xml).getroot()  # noqa: S314 - system package data
        except ET.ParseError:
            continue
        for element in root.iter("mode"):
            name = element.get("name", "")
            if element.get("install") != "no" or parse_mode_name(name) is None:
                continue
            modes.append(
                Mode(name, pipeline_from_modes_xml(element, modes_xml.parent), experimental=True)
            )
    return modes


def pipeline_from_modes_xml(mode: ET.Element, pair_dir: Path) -> str:
    """The mode-file text for one ``<mode>`` element of a pair's ``modes.xml``."""
    stages = []
    for program in mode.iter("program"):
        files = [shlex.quote(str(pair_dir / f.get("name", ""))) for f in program.iter("file")]
        stages.append(" ".join([program.get("name", ""), *files]))
    return " | ".join(stages)


def discover(
    modes_dir: str | os.PathLike[str] | None = None,
    *,
    pivot: str = DEFAULT_PIVOT,
    experimental: bool = False,
) -> ModeCatalog:
    """The catalog of this machine's Apertium directions."""
    directory = modes_dir_from_env(modes_dir)
    modes = read_installed_modes(directory)
    if experimental:
        installed = {m.name for m in modes}
        extra = read_uninstalled_modes(directory.parent)
        modes += [m for m in extra if m.name not in installed]
    return ModeCatalog.from_modes(modes, pivot=pivot)
