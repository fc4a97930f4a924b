"""A local CDN edge: a stand-in for one CloudFront distribution in front of the media bucket.

It answers ``GET``/``HEAD /titles/<title>/<version>/...`` the way the distribution would:

- it enforces CloudFront signed cookies (custom policy) with the rules of
  :func:`flixstack.playback.signing.verify`, trusting the public half of the CDN signing
  secret, and answers 403 with a reason when they do not grant the URL. Posters are the
  exception (:data:`PUBLIC_PATHS`, an unsigned cache behaviour): browse pages show them
  before anyone presses play;
- it keeps whole objects in an LRU byte cache (``settings.edge_cache_bytes``; objects
  over an eighth of it are streamed, never cached) and says ``X-Cache: Hit from <edge>``
  or ``Miss from <edge>``; ``GET /edge/stats`` counts hits, misses and bytes;
- cache headers: manifests are short-lived, everything else (segments, keys of a
  version that never changes) is immutable;
- single byte ranges (206 / 416), ``ETag``/``Last-Modified`` from the origin and
  ``If-None-Match`` (304);
- CORS for credentialed requests from the web and API origins, so a player on the API's
  page fetches media with its cookies (``withCredentials``);
- ``GET /healthz`` for the API's CDN health probe.

``flixstack up`` runs two of them (``edge-a``, ``edge-b``) as the multi-CDN stand-in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.object_store import ObjectStore, content_type
from flixstack.errors import NotFound, ServiceUnavailable
from flixstack.playback import signing
from flixstack.settings import Settings

MANIFEST_SUFFIXES = (".m3u8", ".mpd")
MANIFEST_CACHE = "public, max-age=5"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
PUBLIC_PATHS = ("/titles/*/thumbs/poster.jpg",)
"""CloudFront path patterns served without signed cookies (an unsigned cache behaviour)."""
LOCAL_ORIGINS = r"https?://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?"
"""Origins allowed by default: any local page (the API's and the web app's dev servers)."""
CACHEABLE_FRACTION = 8
"""Objects larger than capacity / this are streamed from the origin, not cached."""
CHUNK = 64 * 1024
EXPOSED_HEADERS = ("Content-Length", "Content-Range", "Accept-Ranges", "ETag", "X-Cache")


def cache_control(key: str) -> str:
    """Manifests change when a new version publishes; everything else is immutable."""
    return MANIFEST_CACHE if key.endswith(MANIFEST_SUFFIXES) else IMMUTABLE_CACHE


class RangeNotSatisfiable(ValueError):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte positions one ``Range`` header asks for, or
    None to send the whole object (no header, a syntax error, or several ranges, which a
    server may answer in full). Raises :class:`RangeNotSatisfiable` (416)."""
    if header is None:
        return None
    unit, _, spec_ = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec_:
        return None
    first_text, dash, last_text = spec_.strip().partition("-")
    if not dash or not (first_text or last_text):
        return None
    if not (first_text or "0").isdigit() or not (last_text or "0").isdigit():
        return None
    if not first_text:  # a suffix: the last N bytes
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:  # invalid: the header is ignored
        return None
    if first >= size:
        raise RangeNotSatisfiable(header)
    return first, min(last, size - 1)


# --- the cache ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectMeta:
    size: int
    content_type: str
    etag: str | None
    last_modified: str | None

    @classmethod
    def of(cls, key: str, response: Mapping[str, Any]) -> ObjectMeta:
        """From a GetObject or HeadObject response."""
        modified = response.get("LastModified")
        return cls(
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType") or content_type(key),
            etag=response.get("ETag"),
            last_modified=format_datetime(modified.astimezone(UTC), usegmt=True)
            if modified
            else None,
        )


@dataclass(frozen=True)
class CachedObject:
    meta: ObjectMeta
    body: bytes


@dataclass
class EdgeStats:
    hits: int = 0
    misses: int = 0
    hit_bytes: int = 0
    """Bytes sent from the cache."""
    origin_bytes: int = 0
    """Bytes fetched from the origin (S3)."""
    evictions: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    """Requests refused, by reason (a signed-cookie reason, not_found, range_not_satisfiable)."""


class ByteCache:
    """Whole objects, least recently used first out, within ``capacity`` bytes."""

    def __init__(self, capacity: int, stats: EdgeStats) -> None:
        self.capacity = capacity
        self.max_object = capacity // CACHEABLE_FRACTION
        self._stats = stats
        self._items: OrderedDict[str, CachedObject] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> CachedObject | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: CachedObject) -> bool:
        """Keeps ``item`` (evicting the least recently used), unless it is too large."""
        size = len(item.body)
        if size > self.max_object:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            self._used -= len(old.body) if old else 0
            while self._items and self._used + size > self.capacity:
                _, evicted = self._items.popitem(last=False)
                self._used -= len(evicted.body)
                self._stats.evictions += 1
            self._items[key] = item
            self._used += size
        return True


# --- the edge ----------------------------------------------------------------------------------
def servable(key: str) -> bool:
    """Only packaged media, and no path tricks."""
    parts = key.split("/")
    return key.startswith(spec.MEDIA_TITLES_PREFIX) and not any(
        part in ("", ".", "..") for part in parts
    )


def request_url(request: Request) -> str:
    """``scheme://host[:port]/path[?query]`` as the viewer asked for it: what a policy's
    Resource is matched against."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    host = request.headers.get("host") or request.url.netloc
    url = f"{request.url.scheme}://{host}{raw_path.decode('latin-1')}"
    query: bytes = request.scope.get("query_string", b"")
    return f"{url}?{query.decode('latin-1')}" if query else url


class Edge:
    def __init__(
        self,
        name: str,
        store: ObjectStore,
        bucket: str,
        public_keys: Mapping[str, RSAPublicKey],
        cache_bytes: int,
        *,
        clock: Callable[[], datetime] | None = None,
        public_paths: Sequence[str] = PUBLIC_PATHS,
    ) -> None:
        self.name = name
        self.stats = EdgeStats()
        self.cache = ByteCache(cache_bytes, self.stats)
        self._store = store
        self._bucket = bucket
        self._keys = dict(public_keys)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._public_paths = tuple(public_paths)
        self._lock = threading.Lock()

    # --- routes --------------------------------------------------------------------------
    async def media(self, request: Request) -> Response:
        key = request.url.path.removeprefix("/")
        if not servable(key):
            return self._refuse(404, "not_found", "no media at this path")
        if not any(signing.wildcard_match(p, f"/{key}") for p in self._public_paths):
            try:
                signing.verify(
                    request.cookies,
                    request_url(request),
                    self._clock(),
                    self._keys,
                    client_ip=request.client.host if request.client else None,
                )
            except signing.SignedCookieRejected as exc:
                return self._refuse(403, exc.reason, exc.message)
        try:
            return await self._serve(key, request)
        except NotFound:
            return self._refuse(404, "not_found", "no media at this path")
        except ServiceUnavailable as exc:
            return self._refuse(502, "origin_error", exc.message)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"edge": self.name, "status": "ok", "trusted_keys": len(self._keys)})

    async def edge_stats(self, request: Request) -> Response:
        with self._lock:
            counters = asdict(self.stats)
        return JSONResponse(
            {
                "edge": self.name,
                **counters,
                "cached_objects": len(self.cache),
                "cached_bytes": self.cache.used,
                "capacity_bytes": self.cache.capacity,
            }
        )

    # --- serving -------------------------------------------------------------------------
    async def _serve(self, key: str, request: Request) -> Response:
        head = request.method == "HEAD"
        cached = self.cache.get(key)
        if cached is not None:
            self._count(hits=1)
            return self._respond(key, request, cached.meta, "Hit", lambda a, b: cached.body[a:b])
        self._count(misses=1)
        if head:  # CloudFront forwards a HEAD miss as a HEAD
            meta = ObjectMeta.of(key, await run_in_threadpool(self._store.head, self._bucket, key))
            return self._respond(key, request, meta, "Miss", None)
        response = await run_in_threadpool(self._store.get, self._bucket, key)
        meta = ObjectMeta.of(key, response)
        if meta.size <= self.cache.max_object:
            body: bytes = await run_in_threadpool(response["Body"].read)
            self._count(origin_bytes=len(body))
            self.cache.put(key, CachedObject(meta, body))
            return self._respond(key, request, meta, "Miss", lambda a, b: body[a:b])
        return self._respond(key, request, meta, "Miss", None, origin=response)

    def _respond(
        self,
        key: str,
        request: Request,
        meta: ObjectMeta,
        outcome: str,
        cached: Callable[[int, int], bytes] | None,
        origin: Mapping[str, Any] | None = None,
    ) -> Response:
        """The response for ``meta``'s object: from cached bytes, from the origin's open
        response (``origin``, an uncacheable object), or headers only (HEAD)."""
        headers = {
            "Cache-Control": cache_control(key),
            "Accept-Ranges": "bytes",
            "Content-Type": meta.content_type,
            "X-Cache": f"{outcome} from {self.name}",
        }
        if meta.etag:
            headers["ETag"] = meta.etag
        if meta.last_modified:
            headers["Last-Modified"] = meta.last_modified
        if _not_modified(request.headers.get("if-none-match"), meta.etag):
            _close(origin)
            return Response(status_code=304, headers=headers)
        try:
            wanted = byte_range(request.headers.get("range"), meta.size)
        except RangeNotSatisfiable:
            _close(origin)
            self._count(rejected="range_not_satisfiable")
            headers["Content-Range"] = f"bytes */{meta.size}"
            return Response(status_code=416, headers=headers)
        first, last = wanted if wanted else (0, meta.size - 1)
        status = 206 if wanted else 200
        if wanted:
            headers["Content-Range"] = f"bytes {first}-{last}/{meta.size}"
        headers["Content-Length"] = str(last - first + 1)
        if request.method == "HEAD":
            _close(origin)
            return Response(status_code=status, headers=headers)
        if cached is not None:
            chunk = cached(first, last + 1)
            if outcome == "Hit":
                self._count(hit_bytes=len(chunk))
            return Response(chunk, status_code=status, headers=headers)
        return StreamingResponse(
            self._stream(key, origin, wanted), status_code=status, headers=headers
        )

    def _stream(
        self, key: str, origin: Mapping[str, Any] | None, wanted: tuple[int, int] | None
    ) -> Iterator[bytes]:
        """An uncacheable object from the origin: the open full response, or (for a range)
        a ranged GetObject in its place."""
        if wanted is not None:
            _close(origin)
            origin = self._store.get(self._bucket, key, f"bytes={wanted[0]}-{wanted[1]}")
        assert origin is not None
        body = origin["Body"]
        try:
            for chunk in body.iter_chunks(CHUNK):
                self._count(origin_bytes=len(chunk))
                yield chunk
        finally:
            body.close()

    def _refuse(self, status: int, reason: str, detail: str) -> Response:
        self._count(rejected=reason)
        return JSONResponse(
            {"reason": reason, "detail": detail},
            status_code=status,
            headers={"X-Cache": f"Error from {self.name}", "Cache-Control": "no-store"},
        )

    def _count(
        self,
        *,
        hits: int = 0,
        misses: int = 0,
        hit_bytes: int = 0,
        origin_bytes: int = 0,
        rejected: str | None = None,
    ) -> None:
        with self._lock:
            self.stats.hits += hits
            self.stats.misses += misses
            self.stats.hit_bytes += hit_bytes
            self.stats.origin_bytes += origin_bytes
            if rejected is not None:
                self.stats.rejected[rejected] = self.stats.rejected.get(rejected, 0) + 1


def _not_modified(if_none_match: str | None, etag: str | None) -> bool:
    if if_none_match is None or etag is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _close(origin: Mapping[str, Any] | None) -> None:
    if origin is not None:
        origin["Body"].close()


def trusted_keys(clients: AwsClients, naming: spec.Naming) -> dict[str, RSAPublicKey]:
    """The public keys the edge trusts (CloudFront's trusted key group): the public half of
    the CDN signing secret, by key pair id."""
    key = signing.load_signing_key(clients.secretsmanager, naming)
    return {key.key_pair_id: key.public_key()}


def create_edge(
    settings: Settings,
    name: str,
    *,
    clients: AwsClients | None = None,
    public_keys: Mapping[str, RSAPublicKey] | None = None,
    allowed_origins: Sequence[str] = (),
    allow_origin_regex: str | None = LOCAL_ORIGINS,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The ASGI app of one edge called ``name``. Its trusted keys are read once, now, from
    the signing secret (unless given). CORS allows ``allowed_origins`` and origins that
    match ``allow_origin_regex`` (any local page by default), with credentials."""
    clients = clients or AwsClients(settings)
    edge = Edge(
        name,
        ObjectStore(clients.s3),
        settings.naming.bucket(spec.MEDIA),
        public_keys if public_keys is not None else trusted_keys(clients, settings.naming),
        settings.edge_cache_bytes,
        clock=clock,
    )
    app = Starlette(
        routes=[
            Route("/titles/{rest:path}", edge.media, methods=["GET", "HEAD"]),
            Route("/healthz", edge.healthz, methods=["GET"]),
            Route("/edge/stats", edge.edge_stats, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(allowed_origins),
                allow_origin_regex=allow_origin_regex,
                allow_credentials=True,
                allow_methods=["GET", "HEAD"],
                allow_headers=["Range"],
                expose_headers=list(EXPOSED_HEADERS),
                max_age=600,
            )
        ],
    )
    app.state.edge = edge
    return app
