"""AudioStore: MemoryAudioStore and S3AudioStore (moto) keep one contract."""

from __future__ import annotations

from urllib.parse import urlparse

from polycast.domain.models import AudioRef

from .conftest import Stores

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4


def test_put_returns_a_reference_and_get_the_bytes(stores: Stores) -> None:
    audio = stores.audio
    ref = audio.put("audio/abc123.mp3", MP3)
    assert ref == AudioRef(format="mp3", bucket=ref.bucket, key="audio/abc123.mp3", size=len(MP3))
    assert ref.bucket
    assert audio.get("audio/abc123.mp3") == MP3


def test_a_missing_key_is_none(stores: Stores) -> None:
    assert stores.audio.get("audio/never-written.mp3") is None


def test_a_later_put_replaces(stores: Stores) -> None:
    stores.audio.put("audio/k.mp3", b"first")
    stores.audio.put("audio/k.mp3", b"second")
    assert stores.audio.get("audio/k.mp3") == b"second"


def test_url_is_an_https_link_to_the_object(stores: Stores) -> None:
    ref = stores.audio.put("audio/abc123.mp3", MP3)
    url = urlparse(stores.audio.url(ref, expires_in=300))
    assert url.scheme == "https"
    assert url.path.endswith("/audio/abc123.mp3")
