"""Apertium behind the ``Translator`` port, with one long-lived pipeline per mode.

Starting ``apertium eng-spa`` costs ~130 ms per call (a dozen processes loading
their transducers); a pipeline kept running in null-flush mode answers a sentence
in a few milliseconds. Each sentence is written as one NUL-terminated chunk and
the translation is read back up to the NUL that every stage passes along.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from typing import IO

from polycast.domain.translation_settings import TranslationSettings
from polycast.errors import PolycastError, TransientError, UnsupportedLanguage
from polycast_kit.engines.apertium_marks import has_marks, normalize_english, repair, tidy
from polycast_kit.engines.apertium_modes import (
    DEFAULT_PIVOT,
    Mode,
    ModeCatalog,
    Route,
    discover,
    iso639_1,
    pipeline_commands,
)
from polycast_kit.engines.glossary_terms import mask_profanity, with_glossary

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0
# Characters with a meaning in Apertium's stream format, escaped the way
# apertium-destxt escapes them, so input text cannot inject stream syntax.
_STREAM_SPECIALS = frozenset("\\[]<>^$/@{}")
# An empty superblank after the text makes lt-proc emit the last token before the
# NUL (without it a final "." stays buffered until the next chunk).
_CHUNK_END = b"[]\0"


def escape_stream(text: str) -> str:
    """Plain text as an Apertium stream: specials escaped, control characters as spaces."""
    out = []
    for ch in text:
        if ch in _STREAM_SPECIALS:
            out.append("\\" + ch)
        elif ch < " " and ch not in "\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def unescape_stream(stream: str) -> str:
    """Stream text back to plain text: superblanks ``[...]`` dropped, escapes undone."""
    out = []
    i, n = 0, len(stream)
    while i < n:
        ch = stream[i]
        if ch == "\\" and i + 1 < n:
            out.append(stream[i + 1])
            i += 2
        elif ch == "[":
            i += 1
            while i < n and stream[i] != "]":
                i += 2 if stream[i] == "\\" else 1
            i += 1
        elif ch == "\0":
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _PipelineDied(Exception):
    pass


class ApertiumPipeline:
    """One mode's stages chained as child processes, used by one caller at a time.

    The stages are chained here rather than by a shell, so every process is this
    one's child: stopped and reaped by :meth:`close`, never left behind.
    """

    def __init__(self, mode: Mode, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.mode = mode
        self.timeout_seconds = timeout_seconds
        self._commands = pipeline_commands(mode.pipeline, marks=True)
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self.starts = 0

    def translate(self, text: str) -> str:
        payload = escape_stream(text).encode("utf-8") + _CHUNK_END
        with self._lock:
            for attempt in (1, 2):
                self._running()
                try:
                    return unescape_stream(self._exchange(payload)).strip()
                except _PipelineDied as died:
                    self._stop()
                    if attempt == 2:
                        raise TransientError(f"apertium {self.mode.name} exited: {died}") from None
                    logger.warning("apertium pipeline %s died; restarting", self.mode.name)
                except TimeoutError:
                    # A half-read chunk would poison the next answer: start afresh next time.
                    self._stop()
                    raise TransientError(
                        f"apertium {self.mode.name} timed out after {self.timeout_seconds:g} s"
                    ) from None
        raise AssertionError("unreachable")

    def start(self) -> None:
        with self._lock:
            self._running()

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def pids(self) -> list[int]:
        """Process ids of the running stages (empty when stopped)."""
        return [p.pid for p in self._procs if p.poll() is None]

    def _running(self) -> None:
        if self._procs and all(p.poll() is None for p in self._procs):
            return
        self._stop()
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        previous: IO[bytes] | int = subprocess.PIPE
        try:
            for argv in self._commands:
                proc = subprocess.Popen(  # noqa: S603 - argv from installed mode files
                    argv,
                    stdin=previous,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                if not isinstance(previous, int):
                    previous.close()  # the next stage holds it now
                assert proc.stdout is not None
                previous = proc.stdout
                self._procs.append(proc)
        except OSError as exc:
            self._stop()
            raise PolycastError(f"cannot start apertium: {exc}", code="ENGINE_UNAVAILABLE") from exc
        for stream in (self._procs[0].stdin, self._procs[-1].stdout):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)
        self.starts += 1

    def _exchange(self, payload: bytes) -> str:
        """Write one chunk and read its translation, never blocking past the deadline."""
        stdin, stdout = self._procs[0].stdin, self._procs[-1].stdout
        assert stdin is not None
        assert stdout is not None
        deadline = time.monotonic() + self.timeout_seconds
        out_fd, in_fd = stdout.fileno(), stdin.fileno()
        received = bytearray()
        pending = memoryview(payload)
        with selectors.DefaultSelector() as selector:
            selector.register(out_fd, selectors.EVENT_READ)
            selector.register(in_fd, selectors.EVENT_WRITE)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                for key, _ in selector.select(remaining):
                    if key.fd == in_fd:
                        try:
                            written = os.write(in_fd, pending)
                        except BrokenPipeError:
                            raise _PipelineDied("stdin closed") from None
                        pending = pending[written:]
                        if not pending:
                            selector.unregister(in_fd)
                        continue
                    chunk = os.read(out_fd, 65536)
                    if not chunk:
                        codes = [p.poll() for p in self._procs]
                        raise _PipelineDied(f"exit statuses {codes}")
                    received += chunk
                    end = received.find(b"\0")
                    if end < 0:
                        continue
                    # A stage that died mid-way makes the next one flush an empty
                    # chunk at EOF: that is not an answer.
                    if self._exited(grace_seconds=0.2 if end == 0 else 0.0):
                        codes = [p.poll() for p in self._procs]
                        raise _PipelineDied(f"exit statuses {codes}")
                    return received[:end].decode("utf-8", errors="replace")

    def _exited(self, *, grace_seconds: float) -> bool:
        """Whether a stage has exited; an empty answer waits briefly for the exit to show."""
        deadline = time.monotonic() + grace_seconds
        while True:
            if any(p.poll() is not None for p in self._procs):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def _stop(self) -> None:
        procs, self._procs = self._procs, []
        for proc in procs:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2)


class ApertiumTranslator:
    """``Translator`` port over the installed Apertium modes, pivoting through Spanish.

    Thread-safe: each mode has its own pipeline and lock, so different languages
    translate in parallel while one mode serves one sentence at a time.
    """

    def __init__(
        self,
        catalog: ModeCatalog | None = None,
        *,
        modes_dir: str | os.PathLike[str] | None = None,
        pivot: str = DEFAULT_PIVOT,
        experimental: bool = False,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.catalog = catalog or discover(modes_dir, pivot=pivot, experimental=experimental)
        self.timeout_seconds = timeout_seconds
        self._pipelines: dict[str, ApertiumPipeline] = {}
        self._pipelines_lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _close_all, self._pipelines)

    def translate(
        self,
        text: str,
        *,
        source: str,
        target: str,
        settings: TranslationSettings | None = None,
    ) -> str:
        """``settings``: the glossary and profanity masking are applied around the
        engine (:mod:`.glossary_terms`); Apertium has no formality variants, so a
        formality setting changes nothing here (docs/organizers.md)."""
        src, tgt = iso639_1(source), iso639_1(target)
        if src == tgt or not text.strip():
            return text
        glossary = settings.glossary if settings is not None else None
        out = with_glossary(lambda t: self._translate(t, src, tgt), text, glossary, target)
        if settings is not None and settings.profanity:
            out = mask_profanity(out, tgt)
        return out

    def _translate(self, text: str, src: str, tgt: str) -> str:
        route = self.route(src, tgt)
        if src == "en":
            text = normalize_english(text)
        original = text
        first = self._pipeline(route.modes[0])

        def to_original(word: str) -> str | None:
            return _original_word(word, original, first.translate)

        for hop, mode in enumerate(route.modes):
            pipeline = self._pipeline(mode)
            translated = pipeline.translate(text)
            if has_marks(translated):
                # Docs/engines.md: the source word; on a pivot's later hop, the English one.
                back = None if hop == 0 else to_original
                translated = repair(translated, text, pipeline.translate, back or _same)
            text = translated
        return tidy(text)

    def route(self, source: str, target: str) -> Route:
        """The modes a translation goes through; UnsupportedLanguage when there are none."""
        route = self.catalog.route(source, target)
        if route is None:
            supported = ", ".join(self.catalog.targets(source)) or "none"
            raise UnsupportedLanguage(
                f"no local translation from {source!r} to {target!r}; "
                f"from {source!r} this machine supports: {supported}"
            )
        return route

    def available_targets(self, source: str = "en") -> list[str]:
        return self.catalog.targets(source)

    def warm_up(self, targets: list[str], *, source: str = "en") -> None:
        """Start the pipelines for these targets now, so the first sentence is fast."""
        for target in targets:
            for mode in self.route(source, target).modes:
                self._pipeline(mode).start()

    def close(self) -> None:
        """Stop every pipeline process (also done when the translator is collected)."""
        _close_all(self._pipelines)

    def __enter__(self) -> ApertiumTranslator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _pipeline(self, mode: Mode) -> ApertiumPipeline:
        with self._pipelines_lock:
            pipeline = self._pipelines.get(mode.name)
            if pipeline is None:
                pipeline = ApertiumPipeline(mode, timeout_seconds=self.timeout_seconds)
                self._pipelines[mode.name] = pipeline
            return pipeline


def _same(word: str) -> str:
    return word


def _original_word(word: str, original: str, first_hop: Callable[[str], str]) -> str | None:
    """The word of the original sentence whose first-hop translation is ``word``."""
    wanted = word.lower()
    candidates: list[str] = re.findall(r"[^\W_][\w'-]*", original)
    for candidate in dict.fromkeys(candidates):
        if first_hop(candidate).strip(" .*#@").lower() == wanted:
            return candidate
    return None


def _close_all(pipelines: dict[str, ApertiumPipeline]) -> None:
    for pipeline in list(pipelines.values()):
        pipeline.close()


def available_targets(
    source: str = "en",
    *,
    modes_dir: str | os.PathLike[str] | None = None,
    experimental: bool = False,
) -> list[str]:
    """ISO 639-1 codes this machine can translate ``source`` into (directly or via Spanish)."""
    return discover(modes_dir, experimental=experimental).targets(source)


__all__ = [
    "ApertiumPipeline",
    "ApertiumTranslator",
    "available_targets",
    "escape_stream",
    "unescape_stream",
]
