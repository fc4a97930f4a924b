"""The local CDN edge against the emulator: signed cookies, cache, ranges, CORS."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.local.edge import IMMUTABLE_CACHE, MANIFEST_CACHE, create_edge
from flixstack.playback import signing
from flixstack.playback.signing import SigningKey
from flixstack.settings import Settings
from tests.integration.conftest import serving

pytestmark = pytest.mark.integration

CACHE_BYTES = 64 * 1024  # objects over 8 KiB are streamed, never cached
SEGMENT = os.urandom(4096)
BIG = os.urandom(20 * 1024)
MANIFEST = b"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-ENDLIST\n"


@dataclass
class Asset:
    title: str
    version: str

    @property
    def prefix(self) -> str:
        return spec.asset_prefix(self.title, self.version)

    def path(self, name: str) -> str:
        return f"/{self.prefix}{name}"


@dataclass
class EdgeSetup:
    settings: Settings
    clients: AwsClients
    key: SigningKey
    asset: Asset

    def put(self, name: str, body: bytes, content_type: str = "video/iso.segment") -> str:
        """Uploads an object of the asset; returns its S3 ETag."""
        return self.clients.s3.put_object(
            Bucket=self.settings.naming.bucket(spec.MEDIA),
            Key=self.asset.prefix + name,
            Body=body,
            ContentType=content_type,
        )["ETag"]

    def cookies(self, asset: Asset | None = None, **overrides: object) -> dict[str, str]:
        asset = asset or self.asset
        arguments: dict[str, object] = {
            "resource": signing.asset_resource(asset.title, asset.version),
            "expires": datetime.now(UTC) + timedelta(hours=1),
            **overrides,
        }
        return signing.signed_cookies(self.key, **arguments)  # type: ignore[arg-type]


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


@pytest.fixture
def setup(bootstrapped: Settings, clients: AwsClients) -> EdgeSetup:
    settings = bootstrapped.model_copy(update={"edge_cache_bytes": CACHE_BYTES})
    key = signing.load_signing_key(clients.secretsmanager, settings.naming)
    found = EdgeSetup(settings, clients, key, Asset(f"title-{uuid.uuid4().hex[:8]}", "v1"))
    found.put("hls/master.m3u8", MANIFEST, "application/vnd.apple.mpegurl")
    found.put("cmaf/v240/seg_00001.m4s", SEGMENT)
    found.put("cmaf/v240/big.m4s", BIG)
    found.put("thumbs/poster.jpg", b"\xff\xd8poster", "image/jpeg")
    return found


@pytest.fixture
def edge(setup: EdgeSetup) -> Iterator[httpx.Client]:
    with (
        serving(create_edge(setup.settings, "edge-a")) as url,  # type: ignore[arg-type]
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def viewer(edge: httpx.Client, setup: EdgeSetup) -> httpx.Client:
    """The edge, with good cookies for the asset."""
    edge.headers.update(cookie_header(setup.cookies()))
    return edge


def reason(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text
    assert response.headers["x-cache"] == "Error from edge-a"
    return str(response.json()["reason"])


# --- signed cookies ------------------------------------------------------------------------------
def test_the_edge_refuses_requests_without_good_cookies(
    edge: httpx.Client, setup: EdgeSetup
) -> None:
    master = setup.asset.path("hls/master.m3u8")
    assert reason(edge.get(master)) == "missing_cookies"
    good = setup.cookies()
    # a policy edited to another version no longer matches its signature
    policy = signing.b64decode(good["CloudFront-Policy"]).replace(b"/v1/", b"/v*/")
    tampered = {**good, "CloudFront-Policy": signing.b64encode(policy)}
    assert reason(edge.get(master, headers=cookie_header(tampered))) == "bad_signature"
    expired = setup.cookies(expires=datetime.now(UTC) - timedelta(seconds=1))
    assert reason(edge.get(master, headers=cookie_header(expired))) == "expired"
    early = setup.cookies(not_before=datetime.now(UTC) + timedelta(minutes=5))
    assert reason(edge.get(master, headers=cookie_header(early))) == "not_yet_valid"
    other = setup.cookies(Asset(setup.asset.title, "v2"))
    assert reason(edge.get(master, headers=cookie_header(other))) == "wrong_resource"
    stranger = signing.signed_cookies(
        SigningKey.generate(),
        signing.asset_resource(setup.asset.title, "v1"),
        datetime.now(UTC) + timedelta(hours=1),
    )
    assert reason(edge.get(master, headers=cookie_header(stranger))) == "unknown_key"
    elsewhere = setup.cookies(ip_range="192.0.2.0/24")
    assert reason(edge.get(master, headers=cookie_header(elsewhere))) == "ip_mismatch"
    # THEN nothing was fetched from the origin for them
    stats = edge.get("/edge/stats").json()
    assert (stats["hits"], stats["misses"]) == (0, 0)
    assert sum(stats["rejected"].values()) == 7


def test_good_cookies_get_the_object_a_miss_then_a_hit(
    viewer: httpx.Client, setup: EdgeSetup
) -> None:
    etag = setup.put("cmaf/v240/seg_00002.m4s", SEGMENT)
    path = setup.asset.path("cmaf/v240/seg_00002.m4s")
    first = viewer.get(path)
    second = viewer.get(path)
    for response in (first, second):
        assert response.status_code == 200
        assert response.content == SEGMENT
        assert response.headers["content-type"] == "video/iso.segment"
        assert response.headers["content-length"] == str(len(SEGMENT))
        assert response.headers["etag"] == etag
        assert response.headers["last-modified"].endswith(" GMT")
        assert response.headers["accept-ranges"] == "bytes"
    assert first.headers["x-cache"] == "Miss from edge-a"
    assert second.headers["x-cache"] == "Hit from edge-a"
    stats = viewer.get("/edge/stats").json()
    assert stats["edge"] == "edge-a"
    assert (stats["hits"], stats["misses"]) == (1, 1)
    assert stats["hit_bytes"] == stats["origin_bytes"] == len(SEGMENT)
    # a conditional request with the ETag is answered 304 from the cache
    again = viewer.get(path, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["x-cache"] == "Hit from edge-a"


def test_one_set_of_cookies_works_on_every_edge(setup: EdgeSetup) -> None:
    cookies = cookie_header(setup.cookies())
    path = setup.asset.path("hls/master.m3u8")
    for name in ("edge-a", "edge-b"):
        with serving(create_edge(setup.settings, name)) as url:  # type: ignore[arg-type]
            response = httpx.get(url + path, headers=cookies)
            assert response.status_code == 200
            assert response.headers["x-cache"] == f"Miss from {name}"


def test_posters_are_public_and_paths_stay_inside_titles(
    edge: httpx.Client, setup: EdgeSetup
) -> None:
    poster = edge.get(setup.asset.path("thumbs/poster.jpg"))
    assert (poster.status_code, poster.content) == (200, b"\xff\xd8poster")
    assert reason(edge.get(setup.asset.path("thumbs/sprite_000.jpg"))) == "missing_cookies"
    cookies = cookie_header(setup.cookies())
    assert edge.get(f"/titles/{setup.asset.title}/%2E%2E/x", headers=cookies).status_code == 404
    assert edge.get("/catalog/v1/titles.json.gz", headers=cookies).status_code == 404
    missing = edge.get(setup.asset.path("hls/nothing.m3u8"), headers=cookies)
    assert (missing.status_code, missing.json()["reason"]) == (404, "not_found")


# --- HTTP semantics ------------------------------------------------------------------------------
def test_cache_headers_manifests_short_segments_immutable(
    viewer: httpx.Client, setup: EdgeSetup
) -> None:
    manifest = viewer.get(setup.asset.path("hls/master.m3u8"))
    assert manifest.headers["cache-control"] == MANIFEST_CACHE == "public, max-age=5"
    assert manifest.headers["content-type"] == "application/vnd.apple.mpegurl"
    segment = viewer.get(setup.asset.path("cmaf/v240/seg_00001.m4s"))
    assert segment.headers["cache-control"] == IMMUTABLE_CACHE
    assert "immutable" in IMMUTABLE_CACHE


@pytest.mark.parametrize("name", ["cmaf/v240/seg_00001.m4s", "cmaf/v240/big.m4s"])
def test_ranges_get_206_with_the_exact_bytes(
    viewer: httpx.Client, setup: EdgeSetup, name: str
) -> None:
    body = SEGMENT if name.endswith("00001.m4s") else BIG
    path = setup.asset.path(name)
    for _ in range(2):  # a miss, then (for the cacheable one) a hit
        part = viewer.get(path, headers={"Range": "bytes=100-1123"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-1123/{len(body)}"
        assert part.headers["content-length"] == "1024"
        assert part.content == body[100:1124]
    tail = viewer.get(path, headers={"Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, body[-10:])
    assert tail.headers["content-range"] == f"bytes {len(body) - 10}-{len(body) - 1}/{len(body)}"
    rest = viewer.get(path, headers={"Range": f"bytes={len(body) - 5}-"})
    assert (rest.status_code, rest.content) == (206, body[-5:])
    clamped = viewer.get(path, headers={"Range": f"bytes=0-{len(body) * 2}"})
    assert (clamped.status_code, clamped.content) == (206, body)
    beyond = viewer.get(path, headers={"Range": f"bytes={len(body)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(body)}"
    several = viewer.get(path, headers={"Range": "bytes=0-1,5-6"})  # answered in full
    assert (several.status_code, several.content) == (200, body)


def test_head_has_the_headers_and_no_body(viewer: httpx.Client, setup: EdgeSetup) -> None:
    path = setup.asset.path("cmaf/v240/big.m4s")
    head = viewer.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(BIG))
    assert head.headers["x-cache"] == "Miss from edge-a"
    ranged = viewer.head(path, headers={"Range": "bytes=0-9"})
    assert (ranged.status_code, ranged.headers["content-length"]) == (206, "10")
    assert viewer.head(setup.asset.path("hls/none.m3u8")).status_code == 404


# --- the cache -----------------------------------------------------------------------------------
def test_the_cache_evicts_the_least_recently_used_and_skips_large_objects(
    viewer: httpx.Client, setup: EdgeSetup
) -> None:
    # GIVEN nine 8 KiB objects, one more than the 64 KiB cache holds
    bodies = {f"cmaf/v360/seg_{n:05d}.m4s": os.urandom(8 * 1024) for n in range(9)}
    for name, body in bodies.items():
        setup.put(name, body)
    names = list(bodies)

    def x_cache(name: str) -> str:
        response = viewer.get(setup.asset.path(name))
        assert response.content == bodies[name]
        return response.headers["x-cache"].split()[0]

    # WHEN eight fill it, the first is used again, and the ninth arrives
    assert [x_cache(n) for n in names[:8]] == ["Miss"] * 8
    assert x_cache(names[0]) == "Hit"
    assert x_cache(names[8]) == "Miss"
    # THEN the least recently used one (the second) made room, not the first
    assert x_cache(names[0]) == "Hit"
    assert x_cache(names[8]) == "Hit"
    assert x_cache(names[1]) == "Miss"
    stats = viewer.get("/edge/stats").json()
    assert stats["evictions"] >= 2
    assert stats["cached_bytes"] <= stats["capacity_bytes"] == CACHE_BYTES
    assert stats["cached_objects"] == 8
    # and an object over an eighth of the cache is never kept
    big = setup.asset.path("cmaf/v240/big.m4s")
    assert [viewer.get(big).headers["x-cache"] for _ in range(2)] == ["Miss from edge-a"] * 2


# --- CORS and health -----------------------------------------------------------------------------
def test_cors_lets_a_local_page_fetch_with_credentials(
    edge: httpx.Client, setup: EdgeSetup
) -> None:
    page = "http://127.0.0.1:8000"
    path = setup.asset.path("cmaf/v240/seg_00001.m4s")
    preflight = edge.options(
        path,
        headers={
            "Origin": page,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == page
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    # the request itself, with cookies: the origin is echoed (never *), headers exposed
    response = edge.get(
        path, headers={"Origin": page, "Range": "bytes=0-9", **cookie_header(setup.cookies())}
    )
    assert response.status_code == 206
    assert response.headers["access-control-allow-origin"] == page
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert {"content-range", "x-cache"} <= {h.strip() for h in exposed.split(",")}
    # a foreign page gets no CORS grant
    foreign = edge.options(
        path,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    denied = edge.get(path, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_configured_origins_are_allowed_too(setup: EdgeSetup) -> None:
    app = create_edge(
        setup.settings, "edge-a", allowed_origins=["https://watch.example.com"],
        allow_origin_regex=None,
    )  # fmt: skip
    with serving(app) as url:  # type: ignore[arg-type]
        ask = {"Access-Control-Request-Method": "GET"}
        allowed = httpx.options(
            url + "/titles/x", headers={"Origin": "https://watch.example.com", **ask}
        )
        local = httpx.options(url + "/titles/x", headers={"Origin": "http://127.0.0.1:8000", **ask})
    assert allowed.headers["access-control-allow-origin"] == "https://watch.example.com"
    assert local.status_code == 400


def test_healthz_names_the_edge(edge: httpx.Client) -> None:
    health = edge.get("/healthz")
    assert health.status_code == 200
    assert health.json()["edge"] == "edge-a"
    assert health.json()["trusted_keys"] == 1
