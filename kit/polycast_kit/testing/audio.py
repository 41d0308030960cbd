"""In-memory AudioStore: objects in a dict, fake presigned URLs."""

from __future__ import annotations

import threading

from polycast.domain.models import AudioRef


class MemoryAudioStore:
    def __init__(self, bucket: str = "polycast-audio") -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self.puts = 0
        self.gets = 0
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, *, content_type: str = "audio/mpeg") -> AudioRef:
        with self._lock:
            self.objects[key] = data
            self.puts += 1
        return AudioRef(format="mp3", bucket=self.bucket, key=key, size=len(data))

    def get(self, key: str) -> bytes | None:
        with self._lock:
            self.gets += 1
            return self.objects.get(key)

    def url(self, ref: AudioRef, *, expires_in: int = 3600) -> str:
        return f"https://{ref.bucket}.s3.example/{ref.key}?expires={expires_in}"
