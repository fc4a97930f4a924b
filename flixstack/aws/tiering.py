"""Storage tiering of archived titles' media: tag to send cold, copy back to restore.

The media bucket's lifecycle (``spec.lifecycle``) moves objects tagged ``spec.ARCHIVE_TAG``
to Glacier Instant Retrieval; restoring removes the tag and copies each object onto
itself in Intelligent-Tiering, so nothing stays in the archive class.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.object_store import ObjectStore
from flixstack.catalog.models import TitleDocument
from flixstack.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger(service="catalog", child=True)
RESTORED_CLASS: Final = "INTELLIGENT_TIERING"


def asset_prefixes(doc: TitleDocument) -> list[str]:
    """Every packaged version of the title or its episodes (all are archived together)."""
    versions = {doc.asset.version} if doc.asset else set()
    versions |= {e.asset.version for e in doc.episodes.values() if e.asset}
    return [spec.asset_prefix(doc.id, v) for v in sorted(versions)]


class S3MediaTiering:
    def __init__(self, client: S3Client, bucket: str, workers: int = 16) -> None:
        self._s3 = client
        self._store = ObjectStore(client)
        self._bucket = bucket
        self._workers = workers

    def _each(self, doc: TitleDocument, action: str, apply: Callable[[str], None]) -> int:
        keys = [
            key for prefix in asset_prefixes(doc) for key in self._store.keys(self._bucket, prefix)
        ]
        with ThreadPoolExecutor(self._workers) as pool:
            list(pool.map(apply, keys))
        logger.info(f"media {action}", extra={"title_id": doc.id, "objects": len(keys)})
        return len(keys)

    def archive(self, doc: TitleDocument) -> int:
        """Tags every media object of the title for the archive tier; how many."""
        key_name, value = spec.ARCHIVE_TAG

        def tag(key: str) -> None:
            try:
                self._s3.put_object_tagging(
                    Bucket=self._bucket,
                    Key=key,
                    Tagging={"TagSet": [{"Key": key_name, "Value": value}]},
                )
            except ClientError as exc:
                raise ServiceUnavailable(f"tagging s3://{self._bucket}/{key}: {exc}") from exc

        return self._each(doc, "archived", tag)

    def restore(self, doc: TitleDocument) -> int:
        """Untags every media object and brings it back to the served storage class."""

        def restore(key: str) -> None:
            try:
                self._s3.delete_object_tagging(Bucket=self._bucket, Key=key)
                self._s3.copy_object(
                    Bucket=self._bucket,
                    Key=key,
                    CopySource={"Bucket": self._bucket, "Key": key},
                    StorageClass=RESTORED_CLASS,
                    MetadataDirective="COPY",
                    TaggingDirective="REPLACE",
                    Tagging="",
                )
            except ClientError as exc:
                raise ServiceUnavailable(f"restoring s3://{self._bucket}/{key}: {exc}") from exc

        return self._each(doc, "restored", restore)
