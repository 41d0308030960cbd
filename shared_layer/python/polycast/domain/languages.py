"""Language codes Polycast accepts.

In AWS mode the targets are what Amazon Translate supports; in local mode the
runtime narrows them to what the installed Apertium pairs reach.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from polycast.errors import UnsupportedLanguage

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")

# Amazon Translate's language codes (2026).
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(
    """af sq am ar hy az bn bs bg ca zh zh-TW hr cs da fa-AF nl en et fa tl fi fr fr-CA ka de
    el gu ht ha he hi hu is id ga it ja kn kk ko lv lt mk ms ml mt mr mn no pl pt pt-PT pa ro
    ru sr si sk sl so es es-MX sw sv ta te th tr uk ur uz vi cy""".split()
)


def check_language(code: object, supported: Collection[str] | None = None) -> str:
    """Return ``code`` when it is a supported language, else raise UnsupportedLanguage."""
    allowed = SUPPORTED_LANGUAGES if supported is None else supported
    if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
        raise UnsupportedLanguage(f"not a language code: {str(code)[:16]!r}")
    if code not in allowed:
        listed = ", ".join(sorted(allowed))
        raise UnsupportedLanguage(f"unsupported language {code!r}; supported: {listed}")
    return code
