"""Split text at sentence boundaries to fit a service's per-request limits.

Translate takes at most 10,000 UTF-8 bytes per TranslateText; Polly bills at most
3,000 characters of text per SynthesizeSpeech (6,000 with the SSML tags). Text
over a limit is cut into runs of whole sentences, each within the limit, so a
sentence is never cut in the middle (that would change its translation and its
intonation). A single sentence over the limit cannot be split this way: that is
:class:`SentenceTooLong`, and the caller reports it instead.
"""

from __future__ import annotations

import re

TRANSLATE_MAX_BYTES = 10_000
POLLY_MAX_BILLED_CHARS = 3_000

# A sentence ends at . ! ? … (or their CJK forms), optionally followed by closing
# quotes or brackets, then whitespace — or right after a CJK full stop.
_SENTENCE_END = re.compile(r"(?<=[.!?…][\"'”’»)\]])\s+|(?<=[.!?…])\s+|(?<=[。！？])\s*")


class SentenceTooLong(ValueError):
    """One sentence alone is over the limit: it cannot be split at a sentence boundary."""


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, whitespace between them dropped, none empty."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece.strip()]


def _size(text: str, *, in_bytes: bool) -> int:
    return len(text.encode("utf-8")) if in_bytes else len(text)


def split_text(text: str, limit: int, *, in_bytes: bool = False) -> list[str]:
    """Runs of whole sentences, each at most ``limit`` characters (or UTF-8 bytes).

    Text already within the limit comes back unchanged, as one piece. Raises
    :class:`SentenceTooLong` when one sentence is over the limit on its own.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if _size(text, in_bytes=in_bytes) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in sentences(text):
        if _size(sentence, in_bytes=in_bytes) > limit:
            raise SentenceTooLong(
                f"a sentence of {_size(sentence, in_bytes=in_bytes)} "
                f"{'bytes' if in_bytes else 'characters'} is over the limit of {limit}"
            )
        joined = f"{current} {sentence}" if current else sentence
        if _size(joined, in_bytes=in_bytes) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = sentence
    if current:
        pieces.append(current)
    return pieces
