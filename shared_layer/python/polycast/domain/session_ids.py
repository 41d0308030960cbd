"""Human-readable session ids like ``golden-eagle-427`` (easy to read out loud), and
speaker keys."""

from __future__ import annotations

import re
import secrets

_ADJECTIVES = (
    "amber azure bold brave bright calm clever cosmic crimson daring eager gentle golden "
    "grand happy jolly keen lively lucky mellow merry mighty noble proud quick quiet rapid "
    "royal shiny silver smart solar steady sunny swift tidy vivid warm wise witty zesty"
).split()
_NOUNS = (
    "badger bear beaver bison condor crane dolphin eagle falcon finch fox gazelle heron "
    "ibis jaguar koala lark lemur lion lynx marten meerkat orca osprey otter owl panda "
    "panther puffin raven robin salmon seal sparrow swan tiger toucan walrus whale wolf"
).split()

SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def new_session_id() -> str:
    """A fresh id: adjective-noun-NNN (about 1.6 million combinations)."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(900) + 100}"


def new_speaker_key() -> str:
    """A session's speaker key: 32 URL-safe characters (192 random bits), never
    starting with ``-``, since it follows ``--key`` on a command line, where argparse
    takes ``-x…`` for an option (one key in 64 did)."""
    while True:
        key = secrets.token_urlsafe(24)
        if not key.startswith("-"):
            return key


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(SESSION_ID.match(value))
