"""A session's glossary and profanity masking around the Apertium engine.

Glossary (docs/engines.md, "Glossaries"): every source term found in the sentence
(whole words, case-insensitive, longest term first) is replaced by a number token
such as ``90417`` before Apertium sees the sentence. Apertium analyses digits as a
number and passes them through every stage and every hop of a pivot route
untouched, in place; after translation each token is replaced by the term's
target-language form. A sentence that already holds such a number gets tokens from
another range. Terms with no target cell are left to the engine.

Profanity (``Settings.Profanity: MASK`` on Amazon Translate): every word of the
output that is on the target language's list becomes ``?$#@$`` as Translate masks
it. The lists are short and plain (a starting point, extendable per deployment with
``POLYCAST_PROFANITY_FILE``: lines of ``language,word``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache

from polycast.domain.glossary import Glossary
from polycast.domain.translation_settings import PROFANITY_MASK

PROFANITY_FILE_ENV = "POLYCAST_PROFANITY_FILE"
_TOKEN_BASE = 90417

# Common profanity per target language (lower case). Deliberately short.
_PROFANITY: dict[str, frozenset[str]] = {
    "en": frozenset({"damn", "shit", "fuck", "fucking", "bastard", "bitch", "crap"}),
    "es": frozenset({"mierda", "joder", "puta", "puto", "cabrón", "coño", "maldito", "maldita"}),
    "fr": frozenset({"merde", "putain", "connard", "salaud", "foutre", "maudit", "maudite"}),
    "ca": frozenset({"merda", "collons", "puta", "cabró"}),
    "gl": frozenset({"merda", "carallo", "puta"}),
    "pt": frozenset({"merda", "porra", "caralho", "puta", "maldito", "maldita"}),
    "it": frozenset({"merda", "cazzo", "puttana", "stronzo", "maledetto", "maledetta"}),
    "ro": frozenset({"rahat", "dracu", "naiba"}),
}
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def protect_terms(text: str, glossary: Glossary, target: str) -> tuple[str, dict[str, str]]:
    """``text`` with each glossary term replaced by a number token; token → target term."""
    pairs = glossary.terms_for(target)
    if not pairs:
        return text, {}
    base = _TOKEN_BASE
    while str(base)[:3] in text:
        base += 100_000
    replacements: dict[str, str] = {}
    for source_term, target_term in pairs:
        pattern = re.compile(rf"(?<![\w]){re.escape(source_term)}(?![\w])", re.IGNORECASE)
        if not pattern.search(text):
            continue
        token = str(base + len(replacements))
        replacements[token] = target_term
        text = pattern.sub(token, text)
    return text, replacements


def restore_terms(text: str, replacements: dict[str, str]) -> str:
    for token, term in replacements.items():
        text = re.sub(rf"(?<!\d){token}(?!\d)", term.replace("\\", "\\\\"), text)
    return text


def with_glossary(
    translate: Callable[[str], str], text: str, glossary: Glossary | None, target: str
) -> str:
    """Translate ``text`` with ``translate`` and the glossary applied around it."""
    if glossary is None:
        return translate(text)
    protected, replacements = protect_terms(text, glossary, target)
    return restore_terms(translate(protected), replacements)


@cache
def _extra_words() -> dict[str, frozenset[str]]:
    path = os.environ.get(PROFANITY_FILE_ENV)
    if not path:
        return {}
    words: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            language, _, word = line.strip().partition(",")
            if language and word:
                words.setdefault(language.strip(), set()).add(word.strip().lower())
    return {language: frozenset(found) for language, found in words.items()}


def profane_words(language: str) -> frozenset[str]:
    return _PROFANITY.get(language, frozenset()) | _extra_words().get(language, frozenset())


def mask_profanity(text: str, language: str) -> str:
    words = profane_words(language)
    if not words:
        return text

    def mask(match: re.Match[str]) -> str:
        return PROFANITY_MASK if match.group(0).lower() in words else match.group(0)

    return _WORD.sub(mask, text)
