"""The local media edge: serves the media bucket under ``/media/<key>`` with CDN-style
cache headers (immutable segments, short-lived manifests) and Range support.

It stands in for CloudFront on one machine. Signed-cookie enforcement, its LRU cache and
a second edge for CDN failover arrive with the playback capability.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from flixstack import spec
from flixstack.aws.object_store import ObjectStore
from flixstack.errors import NotFound
from flixstack.settings import Settings

MANIFEST_SUFFIXES = (".m3u8", ".mpd")
MANIFEST_CACHE = "public, max-age=5"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def cache_control(key: str) -> str:
    """Manifests change when a new version publishes; everything else is immutable."""
    return MANIFEST_CACHE if key.endswith(MANIFEST_SUFFIXES) else IMMUTABLE_CACHE


def build_router(settings: Settings, store: ObjectStore) -> APIRouter:
    router = APIRouter(prefix="/media", tags=["media"])
    bucket = settings.naming.bucket(spec.MEDIA)

    @router.get("/{key:path}", response_class=StreamingResponse)
    def media(
        key: str, range_: Annotated[str | None, Header(alias="Range")] = None
    ) -> StreamingResponse:
        """An object of the media bucket (titles/… only)."""
        if not key.startswith(spec.MEDIA_TITLES_PREFIX) or ".." in key.split("/"):
            raise NotFound(f"no media at {key}")
        response = store.get(bucket, key, range_)
        headers = {
            "Cache-Control": cache_control(key),
            "Accept-Ranges": "bytes",
            "Content-Length": str(response["ContentLength"]),
        }
        if "ETag" in response:
            headers["ETag"] = response["ETag"]
        if "ContentRange" in response:
            headers["Content-Range"] = response["ContentRange"]
        return StreamingResponse(
            response["Body"].iter_chunks(64 * 1024),
            status_code=206 if "ContentRange" in response else 200,
            media_type=response.get("ContentType", "application/octet-stream"),
            headers=headers,
        )

    return router
