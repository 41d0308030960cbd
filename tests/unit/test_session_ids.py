"""Session ids and speaker keys as `polycast session create` makes them."""

from __future__ import annotations

import re

from polycast.domain.session_ids import is_session_id, new_session_id, new_speaker_key


def test_new_session_ids_are_valid_session_ids() -> None:
    assert all(is_session_id(new_session_id()) for _ in range(200))


def test_speaker_keys_are_url_safe_and_never_look_like_an_option() -> None:
    # One token_urlsafe in 64 starts with "-": 4,000 keys would show it.
    keys = [new_speaker_key() for _ in range(4000)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", key) for key in keys)
    assert not [key for key in keys if key.startswith("-")]
    assert len(set(keys)) == len(keys)
