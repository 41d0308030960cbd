"""How a session wants its translations: glossary, formality, profanity masking.

Amazon Translate takes these as ``TerminologyNames`` (one per request) and
``Settings`` (``Formality``, ``Profanity: MASK``); the local engines apply the
glossary and the masking themselves and have no formality variants
(docs/organizers.md). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from polycast.domain.glossary import Glossary

FORMALITIES = ("formal", "informal")
# Targets for which Amazon Translate honours Formality ("Setting formality").
FORMALITY_LANGUAGES = frozenset(
    {"nl", "fr", "fr-CA", "de", "hi", "it", "ja", "ko", "pt-PT", "es", "es-MX"}
)
# What Amazon Translate puts in place of a masked word, and what the local engines use.
PROFANITY_MASK = "?$#@$"


@dataclass(frozen=True)
class TranslationSettings:
    glossary: Glossary | None = None
    terminology: str | None = None  # the glossary's Amazon Translate name
    formality: str | None = None  # "formal" | "informal"
    profanity: bool = False  # mask profane words

    def uses_glossary(self, target: str) -> bool:
        return self.glossary is not None and target in self.glossary.targets

    def formality_for(self, target: str) -> str | None:
        return self.formality if target in FORMALITY_LANGUAGES else None

    def variant(self, target: str) -> str:
        """What changes the translation to ``target``: part of its cache key."""
        parts = []
        if self.uses_glossary(target) and self.glossary is not None:
            parts.append(f"g={self.glossary.digest}")
        formality = self.formality_for(target)
        if formality:
            parts.append(f"f={formality}")
        if self.profanity:
            parts.append("p=mask")
        return ",".join(parts)


NO_SETTINGS = TranslationSettings()
