"""S3 adapter: multipart uploads with presigned part URLs, transfers, listings."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from flixstack.errors import FlixstackError, InvalidInput, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

TRANSFER = TransferConfig(
    multipart_threshold=64 * 2**20, multipart_chunksize=64 * 2**20, max_concurrency=8
)
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
}
_MISSING = {"404", "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchUpload"}
_BAD_INPUT = {
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
    "MalformedXML",
    "InvalidArgument",
}


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def _error(exc: ClientError, what: str) -> FlixstackError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in _MISSING:
        return NotFound(f"{what}: {code}")
    if code in _BAD_INPUT:
        return InvalidInput(f"{what}: {code}", reason="bad_upload")
    return ServiceUnavailable(f"{what}: {code or 'error'}")


class ObjectStore:
    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    # --- multipart uploads, driven by a client holding presigned URLs --------------------------
    def start_multipart(
        self, bucket: str, key: str, content_type: str, metadata: Mapping[str, str]
    ) -> str:
        try:
            return self._s3.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType=content_type, Metadata=dict(metadata)
            )["UploadId"]
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc

    def presign_part(
        self, bucket: str, key: str, upload_id: str, part_number: int, ttl_s: int
    ) -> str:
        return self._s3.generate_presigned_url(
            "upload_part",
            Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
            ExpiresIn=ttl_s,
        )

    def presign_put(self, bucket: str, key: str, ttl_s: int) -> str:
        return self._s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ttl_s
        )

    def complete_multipart(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> str:
        """Completes an upload from (part number, ETag) pairs; returns the object's ETag."""
        completed: list[CompletedPartTypeDef] = [
            {"PartNumber": number, "ETag": etag} for number, etag in sorted(parts)
        ]
        try:
            response = self._s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": completed}
            )
        except ClientError as exc:
            raise _error(exc, f"completing s3://{bucket}/{key}") from exc
        return response.get("ETag", "").strip('"')

    # --- objects -------------------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> dict[str, Any]:
        try:
            return dict(self._s3.head_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc

    def keys(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"]
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{prefix}") from exc

    def download(self, bucket: str, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._s3.download_file(bucket, key, str(path), Config=TRANSFER)
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc
        return path

    def upload(self, path: Path, bucket: str, key: str) -> None:
        try:
            self._s3.upload_file(
                str(path),
                bucket,
                key,
                ExtraArgs={"ContentType": content_type(key)},
                Config=TRANSFER,
            )
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc

    def read(self, bucket: str, key: str) -> bytes:
        """A whole (small) object."""
        body: bytes = self.get(bucket, key)["Body"].read()
        return body

    def write(self, bucket: str, key: str, body: bytes) -> None:
        """A whole (small) object."""
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(key))
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc

    def get(self, bucket: str, key: str, byte_range: str | None = None) -> dict[str, Any]:
        """GetObject (optionally a Range); the response's Body streams."""
        try:
            if byte_range:
                return dict(self._s3.get_object(Bucket=bucket, Key=key, Range=byte_range))
            return dict(self._s3.get_object(Bucket=bucket, Key=key))
        except ClientError as exc:
            raise _error(exc, f"s3://{bucket}/{key}") from exc
