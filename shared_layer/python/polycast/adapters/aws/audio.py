"""AudioStore on S3: the synthesized-audio cache and the claim check for large audio."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from polycast.domain.models import AudioRef
from polycast.errors import PolycastError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Without s3:ListBucket, S3 answers 403 (not 404) for a key that does not exist;
# for the audio cache both mean "not cached" (a real permission problem shows on put).
_MISSING = frozenset({"NoSuchKey", "404", "NotFound", "AccessDenied", "403"})


def s3_error(exc: ClientError, action: str) -> PolycastError:
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in ("SlowDown", "RequestTimeout") or status >= 500:
        return TransientError(f"S3 {action}: {code or status}")
    return PolycastError(f"S3 {action}: {code or status}")


class S3AudioStore:
    """``url_base``: when set (the local runtime's gateway ``/audio/`` path), listeners
    fetch ``url_base + key`` instead of a presigned S3 URL."""

    def __init__(self, client: S3Client, bucket: str, *, url_base: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self.url_base = url_base

    def put(self, key: str, data: bytes, *, content_type: str = "audio/mpeg") -> AudioRef:
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        except ClientError as exc:
            raise s3_error(exc, "put") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 put: {type(exc).__name__}") from exc
        return AudioRef(format="mp3", bucket=self.bucket, key=key, size=len(data))

    def get(self, key: str) -> bytes | None:
        try:
            out = self._client.get_object(Bucket=self.bucket, Key=key)
            return out["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "") in _MISSING:
                return None
            raise s3_error(exc, "get") from exc
        except BotoCoreError as exc:
            raise TransientError(f"S3 get: {type(exc).__name__}") from exc

    def url(self, ref: AudioRef, *, expires_in: int = 3600) -> str:
        """A presigned GET URL: listeners fetch large audio straight from S3."""
        if self.url_base:
            return self.url_base + quote(ref.key or "", safe="/")
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": ref.bucket or self.bucket, "Key": ref.key or ""},
            ExpiresIn=expires_in,
        )
        return url
