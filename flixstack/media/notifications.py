"""S3 notifications of uploaded masters, as the transcode queue carries them.

One place reads them for both consumers: the worker (``poll``/``run-one``) and the AWS
dispatcher Lambda. This module stays light (no ffmpeg, no PyAV): the Lambda imports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote_plus

from flixstack import spec
from flixstack.errors import InvalidInput


@dataclass(frozen=True)
class MasterUpload:
    """One S3 ObjectCreated record for an uploaded master."""

    bucket: str
    key: str
    title_id: str
    upload_id: str
    size: int | None = None
    etag: str | None = None


def parse_masters(body: str) -> list[MasterUpload]:
    """The masters an S3 notification announces: ObjectCreated records for keys shaped
    ``masters/<title_id>/<upload_id>/<file>``. S3's test event and other keys announce none.

    Raises InvalidInput when the body is not an S3 notification at all: such a message is
    poison, and goes to the dead-letter queue after its retries."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("the message body is not JSON", reason="not_s3_event") from exc
    if not isinstance(document, dict):
        raise InvalidInput(
            "the message body is not an S3 event notification", reason="not_s3_event"
        )
    uploads = []
    for record in document.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3", {})
        key = unquote_plus(str(s3.get("object", {}).get("key", "")))  # S3 URL-encodes keys
        parts = PurePosixPath(key).parts
        if not key.startswith(spec.MASTERS_PREFIX) or len(parts) != 4:
            continue
        uploads.append(
            MasterUpload(
                bucket=str(s3.get("bucket", {}).get("name", "")),
                key=key,
                title_id=parts[1],
                upload_id=parts[2],
                size=s3.get("object", {}).get("size"),
                etag=s3.get("object", {}).get("eTag"),
            )
        )
    return uploads
