"""Which voice speaks which language, per engine.

Polly has a neural voice for most languages and a standard voice for many; some
have only one kind, Galician has none. :func:`voice_for` asks for the preferred
engine and falls back to the other Polly engine, so the SSML generator must use
the *returned* voice's engine (a standard voice gets the expressive SSML, a neural
one rate and volume only). None means no voice: the segment goes out as text only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    voice_id: str
    engine: str  # "neural", "standard" or "espeak": also the SSML dialect
    language_code: str | None = None  # Polly's LanguageCode, when a voice speaks several


# language → (neural voice, standard voice); None where Polly has none.
POLLY_VOICES: dict[str, tuple[str | None, str | None]] = {
    "en": ("Joanna", "Joanna"),
    "es": ("Lucia", "Lucia"),
    "es-MX": ("Mia", "Mia"),
    "fr": ("Lea", "Lea"),
    "fr-CA": ("Gabrielle", "Chantal"),
    "de": ("Vicki", "Vicki"),
    "it": ("Bianca", "Bianca"),
    "pt": ("Camila", "Camila"),  # Brazilian Portuguese: Translate's "pt"
    "pt-PT": ("Ines", "Ines"),
    "ca": ("Arlet", None),
    "nl": ("Laura", "Lotte"),
    "pl": ("Ola", "Ewa"),
    "ro": (None, "Carmen"),
    "ru": (None, "Tatyana"),
    "tr": ("Burcu", "Filiz"),
    "ar": ("Hala", "Zeina"),
    "hi": ("Kajal", "Aditi"),
    "ja": ("Takumi", "Mizuki"),
    "ko": ("Seoyeon", "Seoyeon"),
    "zh": ("Zhiyu", "Zhiyu"),
    "sv": ("Elin", "Astrid"),
    "da": ("Sofie", "Naja"),
    "no": ("Ida", "Liv"),
    "fi": ("Suvi", None),
    "cy": (None, "Gwyneth"),
    "is": (None, "Dora"),
    "cs": ("Jitka", None),
    "af": ("Ayanda", None),
}

# Polly LanguageCode for voices that speak more than one language.
POLLY_LANGUAGE_CODES: dict[str, str] = {"hi": "hi-IN", "ar": "ar-AE", "zh": "cmn-CN"}

# Translate's language codes that espeak-ng names differently.
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us",
    "fr": "fr-fr",
    "fr-CA": "fr-fr",
    "es-MX": "es-419",
    "pt": "pt-br",
    "pt-PT": "pt",
    "zh": "cmn",
    "no": "nb",
    "gl": "pt",  # espeak-ng has no Galician voice; Portuguese reads it closest
    "fa-AF": "fa",
    "zh-TW": "cmn",
}


def polly_voice(language: str, engine: str = "neural") -> Voice | None:
    """Preferred engine first, then the other one; None when Polly cannot speak it."""
    neural, standard = POLLY_VOICES.get(language, (None, None))
    order = [("neural", neural), ("standard", standard)]
    if engine == "standard":
        order.reverse()
    for kind, voice_id in order:
        if voice_id:
            return Voice(voice_id, kind, POLLY_LANGUAGE_CODES.get(language))
    return None


def espeak_voice(language: str) -> Voice:
    return Voice(ESPEAK_VOICES.get(language, language), "espeak")


def voice_for(language: str, engine: str) -> Voice | None:
    """The voice a synthesizer of ``engine`` uses for ``language``."""
    if engine == "espeak":
        return espeak_voice(language)
    return polly_voice(language, engine)
