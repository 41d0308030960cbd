"""Word error rate: how far a recognized text is from the script.

WER = (substitutions + deletions + insertions) ÷ words in the reference, by the
word-level edit distance, after lower-casing and dropping punctuation (Transcribe
punctuates and capitalizes, scripts may not; neither is a recognition error).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def normalize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_word in enumerate(hypothesis, start=1):
            current[j] = min(
                previous[j] + 1,  # deletion
                current[j - 1] + 1,  # insertion
                previous[j - 1] + (ref_word != hyp_word),  # substitution or match
            )
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
