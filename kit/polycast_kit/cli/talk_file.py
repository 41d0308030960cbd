"""Talk files for ``polycast produce``: JSONL records or plain text, checked line by line.

Every record is validated against ``schemas/records`` before anything is sent, and a
problem names the file, the line and the field (``talk.jsonl:3: sequence: 'four'
is not of type 'integer'``); broken JSON names the file's line and column. Emotion
hints are advisory (docs/emotion-ssml.md): a hint the schema does not know is a
warning, since the pipeline replaces it by its default and delivers the sentence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError

from polycast.domain.records import RECORD_TYPES
from polycast.schemas import validator

DEFAULT_WPM = 150
ADVISORY = "emotionDynamics"


@dataclass
class TimedRecord:
    """One record and when (ms after the talk starts) the speaker said it."""

    offset_ms: float
    record: dict[str, Any]
    line: int = 0
    given_offset: Any = None  # offsetMs as written (checked, never sent)


@dataclass
class TalkCheck:
    """What checking a talk file found: errors stop ``produce`` (unless --force)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class TalkFileError(ValueError):
    """The talk file cannot be sent as it is; ``problems`` are ``file:line: …`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _estimate_ms(text: str, wpm: float) -> float:
    return max(1, len(text.split())) * 60_000 / max(wpm, 40)


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def parse_line(line: str, *, name: str, number: int) -> dict[str, Any]:
    """One non-empty line as a record; broken JSON raises TalkFileError at the file's
    line and column."""
    if not line.lstrip().startswith("{"):
        return {"transcriptText": line.strip()}
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        column = exc.colno  # the line is parsed as written, so this is the file's column
        raise TalkFileError([f"{name}:{number}:{column}: not valid JSON: {exc.msg}"]) from None
    if not isinstance(data, dict):
        raise TalkFileError([f"{name}:{number}: a record must be a JSON object"])
    return data


def talk_records(
    lines: Iterable[str],
    *,
    session_id: str,
    language: str = "en",
    start_sequence: int = 1,
    start_offset_ms: float = 0,
    name: str = "<talk>",
) -> Iterator[TimedRecord]:
    """Records from JSONL or plain text lines, with offsets for pacing (not checked).

    Every record gets ``session_id``; transcripts without ``sequence`` are numbered
    from ``start_sequence``; a line without ``offsetMs`` follows the previous one by
    the time it takes to say it at its ``rateWpm``.
    """
    sequence = start_sequence
    clock = start_offset_ms
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        record = parse_line(raw, name=name, number=number)
        offset = record.pop("offsetMs", None)
        record["sessionId"] = session_id
        kind = record.setdefault("type", "transcript")
        if kind == "transcript":
            record.setdefault("sourceLanguage", language)
            if "sequence" not in record:
                record["sequence"] = sequence
            given = record["sequence"]
            if isinstance(given, int) and not isinstance(given, bool):
                sequence = given + 1
        at = start_offset_ms + _number(offset, clock - start_offset_ms)
        text = record.get("transcriptText")
        emotion = record.get("emotionDynamics")
        wpm = _number(emotion.get("rateWpm"), DEFAULT_WPM) if isinstance(emotion, dict) else 150
        clock = at + _estimate_ms(text, wpm) if isinstance(text, str) and text else at
        yield TimedRecord(at, record, number, offset)


def _field(error: ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [f for f in error.validator_value if f not in error.instance]
        if missing:
            return ".".join(filter(None, (path, missing[0])))
    return path or "record"


def check_records(timed: Iterable[TimedRecord], *, name: str) -> TalkCheck:
    """Validate each record against ``schemas/records/<type>``; advisory hints warn."""
    check = TalkCheck()
    for item in timed:
        record = item.record
        where = f"{name}:{item.line}"
        kind = record.get("type")
        if kind not in RECORD_TYPES:
            check.errors.append(f"{where}: type: {kind!r} is not one of {', '.join(RECORD_TYPES)}")
            continue
        offset = item.given_offset
        if offset is not None and (
            not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0
        ):
            check.errors.append(f"{where}: offsetMs: {offset!r} is not a number of ms >= 0")
        errors = sorted(
            validator(f"records/{kind}").iter_errors(record),
            key=lambda e: (e.validator != "required", list(e.absolute_path)),
        )
        for error in errors:
            message = f"{where}: {_field(error)}: {error.message}"
            if error.absolute_path and error.absolute_path[0] == ADVISORY:
                check.warnings.append(f"{message} (advisory: the default is used)")
            else:
                check.errors.append(message)
    return check


__all__ = [
    "TalkCheck",
    "TalkFileError",
    "TimedRecord",
    "check_records",
    "parse_line",
    "talk_records",
]
