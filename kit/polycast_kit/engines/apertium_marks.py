"""No engine markup reaches a listener: English contractions are spelled out before
Apertium sees them, and the words Apertium still marks get a documented fallback.

Apertium marks what it could not do: ``*word`` (unknown to the analyser: the word
is the hop's own input), ``@word`` (no entry in the bilingual dictionary: the hop's
input lemma) and ``#form`` (the generator could not inflect: a lemma or a broken
form such as "Prpers"). The pipelines run with marks on (``lt-proc -g``), so each
marked word is found, and replaced by the rule of docs/engines.md:

* the source word it came from (found by translating the hop's input words one by
  one and seeing which one yields the same mark); on the second hop of a pivot
  route (French, Italian, … through Spanish) that is the *English* word whose
  Spanish translation was the unknown one, so no Spanish leaks into French;
* when no source word is found: the marked text without its mark for ``*`` and
  ``@`` (it is an input word), and nothing for ``#`` (a half-generated form is
  never shown).
"""

from __future__ import annotations

import re
from collections.abc import Callable

MARKS = "*#@"
# A mark directly before a word (after a space, an apostrophe as in "un'*parola", or
# the start of the text).
MARKED = re.compile(r"(?<![\w*#@])([*#@])([^\W_][\w'’-]*)")
WORD = re.compile(r"[^\W_][\w'’-]*")

# English contractions → full forms Apertium's English analyser knows. Order matters:
# specific forms before the generic suffixes.
_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\blet's\b", "let us"),
    (r"\bcan't\b", "cannot"),
    (r"\bwon't\b", "will not"),
    (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"),
    (r"\b(\w+)n't\b", r"\1 not"),
    (r"\b(it|that|there|here|what|where|who|how|he|she)'s\b", r"\1 is"),
    (r"\b(\w+)'re\b", r"\1 are"),
    (r"\b(\w+)'ve\b", r"\1 have"),
    (r"\b(\w+)'ll\b", r"\1 will"),
    (r"\bI'm\b", "I am"),
    (r"\b(I|you|he|she|we|they|it)'d\b", r"\1 would"),
)
_COMPILED = [(re.compile(p, re.IGNORECASE), r) for p, r in _CONTRACTIONS]


def _keep_case(original: str, replacement: str) -> str:
    if original[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def normalize_english(text: str) -> str:
    """Contractions spelled out ("Let's" → "Let us", "don't" → "do not"); possessive
    ``'s`` ("the speaker's voice") is left alone, Apertium handles it."""
    text = text.replace("’", "'")
    for pattern, replacement in _COMPILED:
        text = pattern.sub(_expander(replacement), text)
    return text


def _expander(replacement: str) -> Callable[[re.Match[str]], str]:
    def expand(match: re.Match[str]) -> str:
        return _keep_case(match.group(0), match.expand(replacement))

    return expand


def has_marks(text: str) -> bool:
    return MARKED.search(text) is not None


def count_marked(text: str) -> int:
    return len(MARKED.findall(text))


def source_word_of(
    mark: str, word: str, hop_input: str, translate_word: Callable[[str], str]
) -> str | None:
    """The input word of this hop whose translation alone carries the same mark."""
    wanted = f"{mark}{word}".lower()
    candidates: list[str] = WORD.findall(hop_input)
    for candidate in dict.fromkeys(candidates):
        alone = translate_word(candidate).lower()
        if wanted in alone:
            return candidate
    return None


def repair(
    output: str,
    hop_input: str,
    translate_word: Callable[[str], str],
    to_original: Callable[[str], str | None] = lambda word: word,
) -> str:
    """``output`` with every marked word replaced by the rule in the module docstring.

    ``translate_word`` runs one word through this hop; ``to_original`` maps a word of
    this hop's input back to the sentence's original (English) word, or None.
    """

    def replace(match: re.Match[str]) -> str:
        mark, word = match.group(1), match.group(2)
        source = source_word_of(mark, word, hop_input, translate_word)
        if source is not None:
            return to_original(source) or source
        return "" if mark == "#" else word

    return tidy(MARKED.sub(replace, output))


def tidy(text: str) -> str:
    """Apertium leaves two spaces where a word went, and a space before a final mark."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r" +([,.;:!?])", r"\1", text).strip()
