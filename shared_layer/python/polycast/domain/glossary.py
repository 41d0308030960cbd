"""Session glossaries: Amazon Translate's custom-terminology CSV, parsed and checked.

The file: a header row of language codes, the source language first, then one term
a row (the source term, then its translation per target language; an empty cell
leaves that language to the engine). Checked against Amazon Translate's documented
quotas ("Guidelines and quotas" and ``TerminologyData``): a file of at most 10 MB,
at most 10 target languages, each term at most 200 bytes. A session stores its
glossary beside its DynamoDB item, so the stored file is capped lower
(:data:`MAX_STORED_BYTES`, well under the 400 KB item limit). Every problem is reported
with its line number, all at once.

Pure: no I/O. Deployed, the CLI imports it as a terminology named
:func:`terminology_name`; locally the engines apply it (docs/engines.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

from polycast.errors import PolycastError

TRANSLATE_MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_STORED_BYTES = 256 * 1024
MAX_TARGET_LANGUAGES = 10
MAX_TERM_BYTES = 200
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class GlossaryError(PolycastError):
    """A glossary file that cannot be used; ``problems`` are ``line N: …`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems[:20]), code="INVALID_GLOSSARY")


@dataclass(frozen=True)
class GlossaryRef:
    """What the session item holds about its glossary (the terms live beside it)."""

    name: str
    digest: str
    terms: int
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Glossary:
    source: str
    targets: tuple[str, ...]
    # One tuple per term: the source term, then one cell per target ("" = none).
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    def terms_for(self, target: str) -> list[tuple[str, str]]:
        """(source term, target term) pairs for ``target``, longest source term first."""
        if target not in self.targets:
            return []
        column = 1 + self.targets.index(target)
        pairs = [(row[0], row[column]) for row in self.rows if row[column]]
        return sorted(pairs, key=lambda pair: -len(pair[0]))

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow((self.source, *self.targets))
        writer.writerows(self.rows)
        return out.getvalue()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_csv().encode("utf-8")).hexdigest()[:16]

    def ref(self, session_id: str) -> GlossaryRef:
        return GlossaryRef(
            name=terminology_name(session_id),
            digest=self.digest,
            terms=len(self.rows),
            languages=(self.source, *self.targets),
        )


def terminology_name(session_id: str) -> str:
    """The Amazon Translate terminology of a session (pattern ``^([A-Za-z0-9-]_?)+$``)."""
    return "polycast-" + re.sub(r"_+", "_", session_id).strip("_")


def parse_glossary(
    data: bytes | str, *, source: str | None = None, max_bytes: int = MAX_STORED_BYTES
) -> Glossary:
    """The glossary in ``data``, or :class:`GlossaryError` naming every bad line.

    ``source``: the session's language, which must head the first column.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > TRANSLATE_MAX_FILE_BYTES:
        raise GlossaryError([f"file is larger than Amazon Translate's 10 MB ({len(raw)} bytes)"])
    if len(raw) > max_bytes:
        raise GlossaryError(
            [f"file is {len(raw)} bytes; a session stores at most {max_bytes} bytes"]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GlossaryError([f"file is not UTF-8 (byte {exc.start})"]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    try:
        lines = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise GlossaryError([f"line {reader.line_num}: {exc}"]) from exc
    lines = [(n, row) for n, row in lines if any(cell.strip() for cell in row)]
    if not lines:
        raise GlossaryError(["line 1: no header row (language codes, the source first)"])
    header_line, header = lines[0]
    header = [cell.strip() for cell in header]
    _check_header(header_line, header, source, problems)
    rows: list[tuple[str, ...]] = []
    seen: dict[str, int] = {}
    for number, row in lines[1:]:
        cells = tuple(cell.strip() for cell in row)
        if len(cells) != len(header):
            problems.append(f"line {number}: {len(cells)} cells, the header has {len(header)}")
            continue
        if not cells[0]:
            problems.append(f"line {number}: no source term in the first column")
            continue
        for language, cell in zip(header, cells, strict=True):
            if len(cell.encode("utf-8")) > MAX_TERM_BYTES:
                problems.append(
                    f"line {number}: the {language} term is longer than {MAX_TERM_BYTES} bytes"
                )
        key = cells[0].casefold()
        if key in seen:
            problems.append(f"line {number}: {cells[0]!r} repeats line {seen[key]}")
            continue
        seen[key] = number
        rows.append(cells)
    if not problems and not rows:
        problems.append(f"line {header_line}: no terms after the header")
    if problems:
        raise GlossaryError(problems)
    return Glossary(source=header[0], targets=tuple(header[1:]), rows=tuple(rows))


def _check_header(line: int, header: list[str], source: str | None, problems: list[str]) -> None:
    for column, code in enumerate(header, start=1):
        if not _LANGUAGE.match(code):
            problems.append(f"line {line}: column {column} {code!r} is not a language code")
    if len(header) < 2:
        problems.append(f"line {line}: the header needs the source and at least one target")
    if len(header) - 1 > MAX_TARGET_LANGUAGES:
        problems.append(
            f"line {line}: {len(header) - 1} target languages; Amazon Translate takes "
            f"at most {MAX_TARGET_LANGUAGES}"
        )
    if len(set(header)) != len(header):
        problems.append(f"line {line}: a language appears twice")
    if source is not None and header and header[0] != source:
        problems.append(
            f"line {line}: the first column is {header[0]!r}; the session speaks {source!r}"
        )
