"""A session's transcript as captions: timed cues and the TXT, SRT, WebVTT, JSON writers.

Input: the session's ``SegmentReady`` details for one language (from the Segments
buffer or the bus's archive), in any order and possibly repeated. Timings come from
what the speaker side measured, never from a segment's index:

* when every segment carries ``startMs`` (the speaker page and ``polycast speak``
  send it: milliseconds into the talk's audio), cues start there and end at
  ``endMs``;
* otherwise cues are placed by the segments' timestamps — the transcript's own
  ``spokenAt`` when the producer sent one, else the time the pipeline emitted it —
  relative to the first segment, which starts at 00:00:00.
A cue without an end lasts its reading time (150 words a minute, at least 1.5 s),
cut short where the next cue starts. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FORMATS = ("txt", "srt", "vtt", "json")
_MIN_CUE_MS = 1500
_MS_PER_WORD = 400  # 150 words a minute


@dataclass(frozen=True)
class Cue:
    sequence: int
    start_ms: int
    end_ms: int
    text: str


def _epoch_ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _reading_ms(text: str) -> int:
    return max(_MIN_CUE_MS, len(text.split()) * _MS_PER_WORD)


def cues(details: Iterable[Mapping[str, Any]], *, source: bool = False) -> list[Cue]:
    """Timed cues in sequence order; ``source``: the speaker's own text instead."""
    by_sequence: dict[int, Mapping[str, Any]] = {}
    for detail in details:
        by_sequence.setdefault(int(detail["sequence"]), detail)
    ordered = [by_sequence[n] for n in sorted(by_sequence)]
    if not ordered:
        return []
    measured = all(isinstance(d.get("startMs"), int) for d in ordered)
    starts: list[int] = []
    ends: list[int | None] = []
    if measured:
        starts = [int(d["startMs"]) for d in ordered]
        ends = [d.get("endMs") if isinstance(d.get("endMs"), int) else None for d in ordered]
    else:
        times = [_epoch_ms(d.get("spokenAt")) or _epoch_ms(d.get("emittedAt")) for d in ordered]
        known = [t for t in times if t is not None]
        zero = min(known) if known else 0
        last = 0
        for t in times:  # a segment with no time at all sits where the previous one did
            last = t - zero if t is not None else last
            starts.append(last)
        ends = [None] * len(ordered)
    out = []
    for i, detail in enumerate(ordered):
        text = str(detail["sourceText" if source else "text"])
        start = starts[i]
        end = ends[i]
        if end is None or end <= start:
            end = start + _reading_ms(text)
            later = [s for s in starts[i + 1 :] if s > start]
            if later:
                end = min(end, later[0])
        out.append(Cue(int(detail["sequence"]), start, end, text))
    return out


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _one_line(text: str) -> str:
    # A blank line ends a cue in SRT and WebVTT; "-->" would start a timing line.
    return " ".join(text.split()).replace("-->", "->")


def to_srt(items: list[Cue]) -> str:
    blocks = [
        f"{n}\n{_clock(c.start_ms, ',')} --> {_clock(c.end_ms, ',')}\n{_one_line(c.text)}\n"
        for n, c in enumerate(items, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(items: list[Cue], *, language: str) -> str:
    head = f"WEBVTT\nLanguage: {language}\n"
    blocks = [
        f"{c.sequence}\n{_clock(c.start_ms, '.')} --> {_clock(c.end_ms, '.')}\n"
        f"{_one_line(c.text)}\n"
        for c in items
    ]
    return "\n".join([head, *blocks])


def to_txt(items: list[Cue]) -> str:
    return "".join(f"[{_clock(c.start_ms, '.')[:8]}] {_one_line(c.text)}\n" for c in items)


def to_json(items: list[Cue], *, session_id: str, language: str, source: bool) -> str:
    document = {
        "sessionId": session_id,
        "language": language,
        "source": source,
        "segments": [
            {"sequence": c.sequence, "startMs": c.start_ms, "endMs": c.end_ms, "text": c.text}
            for c in items
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render(
    items: list[Cue], fmt: str, *, session_id: str, language: str, source: bool = False
) -> str:
    if fmt == "srt":
        return to_srt(items)
    if fmt == "vtt":
        return to_vtt(items, language=language)
    if fmt == "txt":
        return to_txt(items)
    if fmt == "json":
        return to_json(items, session_id=session_id, language=language, source=source)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
