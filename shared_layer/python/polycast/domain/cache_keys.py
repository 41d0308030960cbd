"""Cache keys: sha256 of what decides the result, so equal work is done once.

Translation keys use normalized text (Unicode NFC, whitespace collapsed, case
kept: case changes a translation). Audio keys hash the exact SSML, voice, engine
and format: any difference is audible, so nothing is normalized there.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

KEY_VERSION = "v1"  # bump to invalidate every cached entry after a format change
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _digest(*parts: str) -> str:
    # Separator 0x1f cannot occur in normalized text or our other parts.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def translation_key(text: str, source: str, target: str, variant: str = "") -> str:
    """``variant``: what else changes the translation (a glossary, formality, masking)."""
    parts = (normalize_text(text), source, target, *((variant,) if variant else ()))
    return f"tr:{KEY_VERSION}:{source}:{target}:" + _digest(*parts)


def audio_key(ssml: str, voice: str, engine: str, fmt: str = "mp3") -> str:
    """An S3 object key: ``audio/<engine>/<voice>/<sha256>.<fmt>``."""
    digest = _digest(KEY_VERSION, ssml, voice, engine, fmt)
    return f"audio/{engine}/{voice}/{digest}.{fmt}"
