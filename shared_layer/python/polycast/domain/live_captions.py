"""Which part of a growing sentence is translated for its live caption, and when.

Translating every partial result is what makes translation the biggest cost of
live captions: each one re-translates the whole sentence so far, so a sentence of
n words costs ~n²/2 words. The rule here keeps the extra cost linear and well
under the finals' own, and keeps the caption stable (it only ever grows):

* Only the **stable** prefix (the words the recognizer will not revise) is
  captioned; the unstable tail never is, so a revision never erases a caption.
* The stable words not yet captioned are translated as one **chunk** appended to
  the caption, and only when the chunk is a clause — it ends at a clause boundary
  (``,`` ``;`` ``:`` ``.`` ``?`` ``!`` …) and holds at least
  :data:`MIN_CLAUSE_WORDS` words — or when it reached :data:`MAX_CHUNK_WORDS`
  words without one. A clause translates well on its own; a short fragment does
  not, and is the most likely to be translated again differently by the final.
* Where the stable prefix did not grow past the last chunk, the caption is
  reused as it is: nothing is translated.

The final transcript of the sentence is translated whole, as always (its quality
does not depend on the chunks), and replaces the caption. Measured by the
``partials`` bench scenario (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CLAUSE_WORDS = 3
MAX_CHUNK_WORDS = 6
CLAUSE_END = (",", ";", ":", ".", "?", "!", "…", "—", "–", ")", '"', "»", "”")


def stable_words(text: str) -> list[str]:
    return text.split()


def ends_clause(word: str) -> bool:
    return word.endswith(CLAUSE_END)


@dataclass
class CaptionDraft:
    """One (sentence, language) caption so far: the source words it covers and
    their translation."""

    covered_words: int = 0
    text: str = ""

    def extended(self, translated_chunk: str, words: int) -> CaptionDraft:
        text = f"{self.text} {translated_chunk}".strip() if translated_chunk else self.text
        return CaptionDraft(covered_words=self.covered_words + words, text=text)


@dataclass(frozen=True)
class Chunk:
    """The stable source words to translate next, and how many there are."""

    text: str
    words: int


def next_chunk(
    stable_text: str,
    covered_words: int,
    *,
    min_clause_words: int = MIN_CLAUSE_WORDS,
    max_chunk_words: int = MAX_CHUNK_WORDS,
) -> Chunk | None:
    """The chunk to translate now, or None (wait for more stable words).

    The chunk ends at the LAST clause boundary among the new stable words (so one
    call may take several short clauses at once); without one, it is taken only
    once it reached ``max_chunk_words``.
    """
    new = stable_words(stable_text)[covered_words:]
    if not new:
        return None
    for end in range(len(new), 0, -1):
        if end >= min_clause_words and ends_clause(new[end - 1]):
            return Chunk(" ".join(new[:end]), end)
    if len(new) >= max_chunk_words:
        return Chunk(" ".join(new), len(new))
    return None
