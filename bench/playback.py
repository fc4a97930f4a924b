"""Playback: time to first frame in a real browser, rebuffering on a throttled network,
``POST /playback`` in-process, and the CDN edges' hit ratio with pre-warming on and off.

Everything runs on this machine, as a viewer's session would, against one ``flixstack up``
(moto on a free port, the API, the transcode worker and two local edges), started with an
empty catalog:

- **media**: two synthetic clips made by ``flixstack sample-video`` and uploaded with
  ``flixstack ingest --ladder fixed --wait --publish-in US``, so the transcoder packages
  and AES-128 encrypts them and publishing pre-warms the edges: a 40 s (20 s with
  ``--quick``) 1280x720 ``sports`` clip for the browser (a ladder of several rungs up to
  720p) and a 24 s 640x360 ``talking`` clip for the edge replay (small, so that 200 copies
  of it stay cheap for the emulator);
- **time to first frame** (``ttff_*``): Debian's chromium, headless, driven by Playwright,
  opens the player page (``/player?title=...``) in a fresh browser context each time (an
  empty HTTP cache, no cookies): the page loads hls.js, asks ``POST /playback`` for a
  grant (signed cookies, ranked edges, key URI), reads the master and media playlists and
  the key, fetches the init and first segments from the edge and decrypts them. TTFF is
  the page's ``performance.now()`` when ``requestVideoFrameCallback`` reports the first
  frame: from navigation start, page load included. 12 starts (4), each right after a
  start of the **peer**: a bare hls.js page (the same hls.js build, default settings)
  served with the clip packaged by plain ffmpeg (one rendition, the one hls.js picked to
  start on flixstack, same height and bit rate, 4 s fMP4 segments, no encryption, no
  cookies, no API) from a static file server (uvicorn + Starlette ``StaticFiles``). One
  unmeasured start of each comes first (it finds which rendition the player starts on);
- **rebuffering** (``rebuffer_ratio``): the player plays the 720p clip to its end with
  Chrome's network throttled over the DevTools protocol before the page loads (the
  throttled profile: 4 Mbit/s down, 1 Mbit/s up, 80 ms added latency: below the ladder's
  top rung), 2 sessions (1), each on a profile with no stored position. The ratio is the
  time spent stalled after the first frame (the video's ``waiting`` to ``playing``) over
  the wall time from the first frame to the end;
- **authorize** (``authorize_*``): the API built in this process (``create_app``, the
  emulator's tables, KMS and the CDN signing secret, rate limits raised) answers
  ``POST /playback/<title>`` through its ASGI interface (``httpx.ASGITransport``, no
  sockets) with a real access token, 2,000 times (300) after 50 unmeasured calls, each
  timed; the peer is a bare FastAPI endpoint returning that same grant, through the same
  client, as often;
- **edge hit ratio** (``edge_hit_ratio_*``): the small clip's packaged objects are copied
  (S3 ``CopyObject``) into 200 titles (40). A trace of 10,000 segment requests (2,000) is
  made from viewing sessions: a title drawn from a Zipf(0.9) popularity over the titles,
  a video rung drawn uniformly from the ladder, a watch length drawn from a geometric
  distribution with a mean of 4 segments (16 s) cut at the clip's end; a session asks for
  the video segments from the first on, each with its audio segment, from the edge the
  playback API ranks first for that viewer. For each pre-warming depth (0: off, then 1, 2,
  3 and every segment; 0 and the configured depth with ``--quick``), two fresh edges
  (``flixstack edge``, the default 256 MiB LRU cache) are started, the platform's
  ``Prewarmer`` warms every title on both as a publish would, and the trace is replayed
  over HTTP with signed cookies, reading ``X-Cache``. ``edge_hit_ratio_prewarm`` is the
  configured depth's (``FLIXSTACK_PREWARM_SEGMENTS``, 3 by default);
  ``edge_hit_ratio_cold`` is depth 0's.

Writes ``bench/results/playback.json`` and ``bench/results/playback.png``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import imageio_ffmpeg
import m3u8
from fastapi import FastAPI
from pydantic import AnyHttpUrl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from bench import RESULTS, harness, write_result
from bench.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HOST,
    answers,
    clean_env,
    free_ports,
    percentile,
    print_logs,
)
from flixstack import spec
from flixstack.api.app import create_app
from flixstack.api.routers.playback import PROFILE_HEADER
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.local.supervisor import Child, Supervisor
from flixstack.local.users import ensure_user, new_password
from flixstack.playback import cdn, signing
from flixstack.playback.prewarm import Prewarmer
from flixstack.settings import CdnEndpoint, Settings

NAME = "playback"
FULL: dict[str, Any] = {
    "clip_s": 40, "starts": 12, "rebuffer_sessions": 2, "authorize_calls": 2_000,
    "replay_titles": 200, "replay_requests": 10_000, "depths": (0, 1, 2, 3, 4, 5, "all"),
}  # fmt: skip
QUICK: dict[str, Any] = {
    "clip_s": 20, "starts": 4, "rebuffer_sessions": 1, "authorize_calls": 300,
    "replay_titles": 40, "replay_requests": 2_000, "depths": (0, "configured"),
}  # fmt: skip
"""``depths``: pre-warmed segments per rendition, ``"all"`` of them, or the platform's
``"configured"`` depth (3 by default; always run besides the others)."""
SEED = 20_261_204
ROOT = Path(__file__).resolve().parents[1]
HLS_BUILD = ROOT / "web" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
"""The hls.js the web app bundles (the same version, from web/'s lockfile), for the peer."""
FLIXSTACK = str(Path(sys.executable).parent / "flixstack")
TERRITORY = "US"
USERNAME = "playback-bench@flixstack.local"
BROWSER_CLIP = {"size": "1280x720", "kind": "sports"}
REPLAY_CLIP = {"size": "640x360", "kind": "talking", "seconds": 24}
SEGMENT_S = 4.0
ZIPF_S = 0.9
WATCH_MEAN_SEGMENTS = 4.0
EDGES = ("edge-a", "edge-b")
THROTTLE = {"down_kbps": 4_000, "up_kbps": 1_000, "latency_ms": 80}
AUTHORIZE_WARMUP = 50
START_TIMEOUT_MS = 30_000
READY_TIMEOUT_S = 300.0
TRANSCODE_TIMEOUT_S = 1_200
COPY_THREADS = 8
PEER_DIR_ENV = "BENCH_PLAYBACK_PEER_DIR"
GOALS = {
    "ttff_p95_ms": 1_000.0,
    "rebuffer_ratio": 0.005,
    "authorize_p99_ms": 20.0,
    "edge_hit_ratio_prewarm": 0.95,
}

PLAYER_TTFF = """() => {
  const s = window.flixstack;
  const level = s.hls.currentLevel >= 0 ? s.hls.currentLevel : s.hls.loadLevel;
  const at = (part) => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.includes(part));
    return e ? e.responseEnd : null;
  };
  return {
    ttff_ms: s.startedAt + s.firstFrameMs, script_ms: s.startedAt, grant_ms: at('/playback/'),
    master_ms: at('master.m3u8'), key_ms: at('/keys/'), init_ms: at('init.mp4'),
    first_segment_ms: at('seg_'), cdn: s.cdn, resume_s: s.grant.resume_position_s,
    start_height: s.hls.levels[level].height, start_bitrate: s.hls.levels[level].bitrate,
    errors: s.errors,
  };
}"""
PEER_TTFF = """() => {
  const at = (part) => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.includes(part));
    return e ? e.responseEnd : null;
  };
  return {
    ttff_ms: window.bench.firstFrameMs, script_ms: window.bench.startedAt,
    master_ms: at('index.m3u8'), init_ms: at('init.mp4'), first_segment_ms: at('seg_'),
    errors: window.bench.errors,
  };
}"""
PEER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bare hls.js</title>
<link rel="icon" href="data:,"></head>
<body><video id="video" controls playsinline muted></video>
<script src="hls.min.js"></script>
<script>
  const video = document.getElementById("video");
  window.bench = { startedAt: performance.now(), firstFrameMs: null, errors: [] };
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_e, data) => window.bench.errors.push(data.details));
  video.requestVideoFrameCallback(() => { window.bench.firstFrameMs = performance.now(); });
  hls.loadSource("media/index.m3u8");
  hls.attachMedia(video);
  video.play().catch((error) => window.bench.errors.push(String(error)));
</script></body></html>
"""
METHOD = __doc__.split("\n\n", 1)[1].split("\n\nWrites", 1)[0]


def peer_app() -> Starlette:
    """The TTFF peer's static file server (``uvicorn bench.playback:peer_app --factory``)."""
    app = Starlette()
    app.mount("/", StaticFiles(directory=os.environ[PEER_DIR_ENV], html=True))
    return app


@dataclass
class Stage:
    """The running platform and what the benchmark made on it."""

    api_url: str
    settings: Settings
    clients: AwsClients
    edges: list[CdnEndpoint]
    token: str
    title_id: str = ""
    job_id: str = ""
    renditions: list[dict[str, Any]] = field(default_factory=list)
    replay_title_id: str = ""
    replay_job_id: str = ""

    def new_profile(self, name: str) -> str:
        created = httpx.post(
            f"{self.api_url}/profiles",
            json={"name": name},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        if created.status_code != 201:
            raise RuntimeError(f"creating profile {name}: {created.status_code} {created.text}")
        return str(created.json()["id"])

    def player_url(self, profile_id: str) -> str:
        return (
            f"{self.api_url}/player?title={self.title_id}&profile={profile_id}#token={self.token}"
        )


def run(quick: bool) -> dict[str, Any]:
    shape = QUICK if quick else FULL
    console = Console()
    with (
        tempfile.TemporaryDirectory(prefix="flixstack-bench-playback-") as scratch,
        harness.bars(console, 48) as bars,
    ):
        work = Path(scratch)
        supervisor = Supervisor(work / "logs")
        try:
            stage = _platform(supervisor, work, shape, bars)
            starts, rebuffer, environment = _browser(stage, supervisor, work, shape, bars)
            authorize = _authorize(stage, shape, bars)
            replay = _replay(stage, supervisor, shape, bars)
        except BaseException:
            print_logs(console, supervisor)  # they go with the scratch directory
            raise
        finally:
            supervisor.stop_all()
    result = _result(quick, shape, starts, rebuffer, authorize, replay, environment)
    result["plot"] = _plot(result, RESULTS / f"{NAME}.png")
    path = write_result(NAME, result)
    _print(console, result, path)
    return result


# --- the platform ---------------------------------------------------------------------------------


def _command(argv: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        list(argv), capture_output=True, text=True, check=False, timeout=timeout, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def _platform(supervisor: Supervisor, work: Path, shape: dict[str, Any], bars: Progress) -> Stage:
    setup = bars.add_task("platform", total=5)
    api_port, emulator_port, edge_a, edge_b = free_ports(4)
    api_url = f"http://{HOST}:{api_port}"
    state_dir = work / "state"
    bars.update(setup, description=f"platform: flixstack up on {api_url}")
    supervisor.start(
        "up",
        [FLIXSTACK, "up", "--port", str(api_port), "--emulator-port", str(emulator_port),
         "--edge-ports", f"{edge_a},{edge_b}", "--state-dir", str(state_dir),
         "--seed-titles", "0"],
        env=clean_env(),
        ready=lambda: answers(f"{api_url}/health"),
        timeout=READY_TIMEOUT_S,
    )  # fmt: skip
    bars.advance(setup)
    health = httpx.get(f"{api_url}/health", timeout=10).json()
    edges = [
        CdnEndpoint(
            name=name,
            base_url=AnyHttpUrl(f"http://{HOST}:{port}"),
            health_url=AnyHttpUrl(f"http://{HOST}:{port}/healthz"),
        )
        for name, port in zip(("edge-a", "edge-b"), (edge_a, edge_b), strict=True)
    ]
    settings = Settings(
        endpoint_url=AnyHttpUrl(f"http://{HOST}:{emulator_port}"),
        cdns=edges,
        api_base_url=api_url,
        rate_limit_per_s=1e9,
        rate_limit_burst=10**9,
    )
    clients = AwsClients(settings)
    pool = find_pool(settings, clients)
    password = new_password()
    ensure_user(clients, pool, USERNAME, password)
    token = sign_in(clients, pool, USERNAME, password).access_token
    stage = Stage(api_url, settings, clients, edges, token)
    bars.advance(setup)
    ingest_env = clean_env(AWS_ENDPOINT_URL=str(settings.endpoint_url).rstrip("/"))
    clips: list[tuple[str, dict[str, Any]]] = [
        ("browser", {**BROWSER_CLIP, "seconds": shape["clip_s"]}),
        ("replay", REPLAY_CLIP),
    ]
    for name, clip in clips:
        bars.update(setup, description=f"platform: transcode the {name} clip ({clip['size']})")
        path = work / f"{name}.mp4"
        _command(
            [FLIXSTACK, "sample-video", str(path), "--seconds", str(clip["seconds"]),
             "--size", clip["size"], "--kind", clip["kind"]],
            timeout=300,
        )  # fmt: skip
        printed = _command(
            [FLIXSTACK, "ingest", str(path), "--title", f"Playback benchmark {name}",
             "--ladder", "fixed", "--wait", "--publish-in", TERRITORY, "--json",
             "--api", api_url, "--state-dir", str(state_dir)],
            timeout=TRANSCODE_TIMEOUT_S,
            env=ingest_env,
        )  # fmt: skip
        ingested = json.loads(printed)
        if (ingested["state"], ingested.get("title_state")) != ("PUBLISHED", "published"):
            raise RuntimeError(f"the {name} clip did not publish: {ingested}")
        if name == "browser":
            stage.title_id, stage.job_id = ingested["title_id"], ingested["job_id"]
            stage.renditions = ingested["renditions"]
        else:
            stage.replay_title_id, stage.replay_job_id = ingested["title_id"], ingested["job_id"]
        bars.advance(setup)
    listed = [str(edge["name"]) for edge in health.get("cdns", [])]
    bars.update(setup, description=f"platform: ready (edges {', '.join(listed) or '?'})")
    bars.advance(setup)
    return stage


# --- the browser: time to first frame and rebuffering ---------------------------------------------


def _browser(
    stage: Stage, supervisor: Supervisor, work: Path, shape: dict[str, Any], bars: Progress
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            environment = {"chromium": browser.version}
            starts_profile = stage.new_profile("Starts")
            task = bars.add_task("ttff: unmeasured first starts", total=2 * shape["starts"] + 2)
            first = _start(
                browser, stage.player_url(starts_profile), "window.flixstack", PLAYER_TTFF
            )
            peer_url = _peer(stage, supervisor, work, first, shape)
            _start(browser, peer_url, "window.bench", PEER_TTFF)
            bars.advance(task, 2)
            bars.update(task, description="ttff: cold starts, flixstack and the peer")
            ours: list[dict[str, Any]] = []
            peers: list[dict[str, Any]] = []
            for _ in range(shape["starts"]):
                ours.append(
                    _start(
                        browser, stage.player_url(starts_profile), "window.flixstack", PLAYER_TTFF
                    )
                )
                bars.advance(task)
                peers.append(_start(browser, peer_url, "window.bench", PEER_TTFF))
                bars.advance(task)
            starts = {"flixstack": ours, "peer": peers, "peer_rendition": first}
            task = bars.add_task("rebuffer: throttled sessions", total=shape["rebuffer_sessions"])
            sessions = []
            for n in range(shape["rebuffer_sessions"]):
                profile = stage.new_profile(f"Throttled {n + 1}")
                sessions.append(_throttled_session(browser, stage.player_url(profile), shape))
                bars.advance(task)
        finally:
            browser.close()
    rebuffer = {"sessions": sessions, "throttle": THROTTLE}
    return starts, rebuffer, environment


def _start(browser: Any, url: str, ready: str, read: str) -> dict[str, Any]:
    """One cold start in a fresh context (empty cache, no cookies): what ``read`` reports."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            f"() => {ready} && {ready}.firstFrameMs !== null", timeout=START_TIMEOUT_MS
        )
        return dict(page.evaluate(read))
    finally:
        context.close()


def _peer(
    stage: Stage, supervisor: Supervisor, work: Path, first: dict[str, Any], shape: dict[str, Any]
) -> str:
    """The bare hls.js page with the browser clip packaged by plain ffmpeg at the rendition
    the player started on; its URL."""
    root = work / "peer"
    media = root / "media"
    media.mkdir(parents=True)
    shutil.copyfile(HLS_BUILD, root / "hls.min.js")
    (root / "index.html").write_text(PEER_PAGE)
    height = int(first["start_height"])
    bitrate = int(first["start_bitrate"])
    _command(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y",
         "-i", str(work / "browser.mp4"),
         "-vf", f"scale=-2:{height}", "-c:v", "libx264", "-preset", "veryfast",
         "-b:v", str(bitrate), "-maxrate", str(bitrate), "-bufsize", str(2 * bitrate),
         "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_S:g})",
         "-c:a", "aac", "-b:a", "128k",
         "-f", "hls", "-hls_time", f"{SEGMENT_S:g}", "-hls_playlist_type", "vod",
         "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
         "-hls_segment_filename", str(media / "seg_%05d.m4s"), str(media / "index.m3u8")],
        timeout=600,
    )  # fmt: skip
    (port,) = free_ports(1)
    url = f"http://{HOST}:{port}"
    supervisor.start(
        "peer",
        [sys.executable, "-m", "uvicorn", "bench.playback:peer_app", "--factory",
         "--app-dir", str(ROOT), "--host", HOST, "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env={**os.environ, PEER_DIR_ENV: str(root)},
        ready=lambda: answers(f"{url}/index.html"),
    )  # fmt: skip
    return f"{url}/index.html"


def _throttled_session(browser: Any, url: str, shape: dict[str, Any]) -> dict[str, Any]:
    """Plays the clip to its end on the throttled profile; stalls, switches and timings."""
    context = browser.new_context()
    try:
        page = context.new_page()
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": THROTTLE["latency_ms"],
                "downloadThroughput": THROTTLE["down_kbps"] * 1000 / 8,
                "uploadThroughput": THROTTLE["up_kbps"] * 1000 / 8,
            },
        )
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            "() => window.flixstack && window.flixstack.firstFrameMs !== null",
            timeout=START_TIMEOUT_MS * 4,
        )
        page.wait_for_function(
            "() => { const v = document.getElementById('video');"
            " return v.ended || (v.duration > 0 && v.currentTime >= v.duration - 0.25); }",
            timeout=shape["clip_s"] * 6 * 1000,
            polling=100,
        )
        measured = page.evaluate(
            """() => {
              const s = window.flixstack;
              const video = document.getElementById('video');
              const first = s.startedAt + s.firstFrameMs;
              return {
                ttff_ms: first, wall_ms: performance.now() - first, stall_ms: s.stallMs,
                stalls: s.stalls, played_s: video.currentTime, duration_s: video.duration,
                switches: s.levelSwitches, errors: s.errors,
                levels: s.hls.levels.map((l) => ({height: l.height, bitrate: l.bitrate})),
              };
            }"""
        )
        session.detach()
        return dict(measured)
    finally:
        context.close()


# --- authorize, in-process ---------------------------------------------------------------------


def bare_app(grant: dict[str, Any]) -> FastAPI:
    """The authorize peer: the route's shape, answering a prebuilt grant."""
    app = FastAPI()

    @app.post("/playback/{target_id}")
    def playback(target_id: str) -> dict[str, Any]:
        return grant

    return app


async def _timed(app: FastAPI, path: str, headers: dict[str, str], calls: int) -> list[float]:
    """``calls`` POSTs through the app's ASGI interface (no sockets), each timed, after
    ``AUTHORIZE_WARMUP`` unmeasured ones."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as client:
        for _ in range(AUTHORIZE_WARMUP):
            _ok(await client.post(path, headers=headers))
        timings = []
        for _ in range(calls):
            started = time.perf_counter_ns()
            response = await client.post(path, headers=headers)
            timings.append((time.perf_counter_ns() - started) / 1e6)
            _ok(response)
    return sorted(timings)


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code != 200:
        raise RuntimeError(f"POST /playback: {response.status_code} {response.text[:300]}")
    return response


def _authorize(stage: Stage, shape: dict[str, Any], bars: Progress) -> dict[str, Any]:
    task = bars.add_task("authorize: POST /playback in-process", total=2)
    profile = stage.new_profile("Authorize")
    path = f"/playback/{stage.title_id}"
    headers = {"Authorization": f"Bearer {stage.token}", PROFILE_HEADER: profile}
    app = create_app(stage.settings, stage.clients)
    grant = _ok(httpx.post(f"{stage.api_url}{path}", headers=headers, timeout=30)).json()
    ours = asyncio.run(_timed(app, path, headers, shape["authorize_calls"]))
    bars.advance(task)
    peer = asyncio.run(_timed(bare_app(grant), path, headers, shape["authorize_calls"]))
    bars.advance(task)
    return {"flixstack": _summary(ours), "bare": _summary(peer), "calls": len(ours)}


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50), 3),
        "p95_ms": round(percentile(values, 95), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "mean_ms": round(statistics.fmean(values), 3),
    }


# --- the edge replay ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The replay asset's media, as keys relative to its folder."""

    playlists: list[str]
    video: list[list[str]]
    """Segments per video rung, lowest first."""
    audio: list[str]
    bytes: int


def _layout(stage: Stage, keys: dict[str, int]) -> Layout:
    bucket = stage.settings.naming.bucket(spec.MEDIA)
    prefix = spec.asset_prefix(stage.replay_title_id, stage.replay_job_id)
    base = f"http://origin/{prefix}"

    def read(relative: str) -> m3u8.M3U8:
        body = stage.clients.s3.get_object(Bucket=bucket, Key=prefix + relative)["Body"].read()
        return m3u8.loads(body.decode(), uri=base + relative)

    def relative(url: str) -> str:
        return urlparse(url).path.removeprefix(f"/{prefix}")

    master_key = "hls/master.m3u8"
    master = read(master_key)
    variants = sorted(master.playlists, key=lambda p: p.stream_info.bandwidth)
    video = [
        [relative(s.absolute_uri) for s in read(relative(v.absolute_uri)).segments]
        for v in variants
    ]
    audio_media = [m for m in master.media if m.type == "AUDIO" and m.uri]
    audio = (
        [relative(s.absolute_uri) for s in read(relative(audio_media[0].absolute_uri)).segments]
        if audio_media
        else []
    )
    playlists = [master_key] + [relative(v.absolute_uri) for v in variants]
    return Layout(playlists, video, audio, sum(keys.values()))


def _copy_titles(stage: Stage, titles: int, bars: Progress) -> tuple[list[str], Layout]:
    """The replay asset copied into ``titles`` titles (ids), and its layout."""
    s3 = stage.clients.s3
    bucket = stage.settings.naming.bucket(spec.MEDIA)
    prefix = spec.asset_prefix(stage.replay_title_id, stage.replay_job_id)
    keys: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    ids = [f"replay{n:03d}" for n in range(titles)]
    task = bars.add_task(f"replay: copy the asset into {titles} titles", total=titles)

    def copy(title_id: str) -> None:
        target = spec.asset_prefix(title_id, stage.replay_job_id)
        for key in keys:
            s3.copy_object(
                Bucket=bucket,
                Key=target + key.removeprefix(prefix),
                CopySource={"Bucket": bucket, "Key": key},
            )

    with concurrent.futures.ThreadPoolExecutor(COPY_THREADS) as pool:
        for _ in pool.map(copy, ids):
            bars.advance(task)
    return ids, _layout(stage, {k.removeprefix(prefix): v for k, v in keys.items()})


@dataclass(frozen=True)
class Request:
    viewer: str
    title: int
    key: str
    """Relative to the title's asset folder."""
    kind: str
    """video or audio."""


def trace(layout: Layout, titles: int, requests: int, seed: int = SEED) -> list[Request]:
    """Segment requests of viewing sessions (Zipf titles, uniform rungs, geometric watch
    lengths from the first segment), cut at ``requests``."""
    rng = random.Random(seed)
    cumulative = list(_accumulate([1 / (rank**ZIPF_S) for rank in range(1, titles + 1)]))
    stop = 1 / WATCH_MEAN_SEGMENTS
    made: list[Request] = []
    while len(made) < requests:
        title = rng.choices(range(titles), cum_weights=cumulative)[0]
        rung = layout.video[rng.randrange(len(layout.video))]
        viewer = f"viewer-{rng.getrandbits(64):016x}"
        watched = 1
        while watched < len(rung) and rng.random() >= stop:
            watched += 1
        for index in range(watched):
            made.append(Request(viewer, title, rung[index], "video"))
            if index < len(layout.audio):
                made.append(Request(viewer, title, layout.audio[index], "audio"))
    return made[:requests]


def unbounded_hit_ratio(requests: Sequence[Request], depth: int, layout: Layout) -> float:
    """The hit ratio the same trace would get from edges that never evict: every request
    of a pre-warmed segment hits, every other one misses only the first time its edge sees
    it. The ceiling the watch model leaves a pre-warming depth, whatever the cache size."""
    warm = {key for rung in [*layout.video, layout.audio] for key in rung[:depth]}
    edges = [CdnEndpoint(name=name, base_url=AnyHttpUrl(f"http://{name}")) for name in EDGES]
    seen: set[tuple[str, int, str]] = set()
    hits = 0
    for request in requests:
        edge = cdn.rank(edges, TERRITORY, request.viewer)[0].name
        entry = (edge, request.title, request.key)
        hits += int(request.key in warm or entry in seen)
        seen.add(entry)
    return round(hits / len(requests), 4)


def _accumulate(values: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _replay(
    stage: Stage, supervisor: Supervisor, shape: dict[str, Any], bars: Progress
) -> dict[str, Any]:
    ids, layout = _copy_titles(stage, shape["replay_titles"], bars)
    requests = trace(layout, len(ids), shape["replay_requests"])
    key = signing.load_signing_key(stage.clients.secretsmanager, stage.settings.naming)
    expires = datetime.now(UTC) + timedelta(hours=2)
    cookies = {
        title_id: signing.signed_cookies(
            key, signing.asset_resource(title_id, stage.replay_job_id), expires
        )
        for title_id in ids
    }
    configured = stage.settings.prewarm_segments
    longest = max(len(rung) for rung in layout.video)
    named = {"all": longest, "configured": configured}
    depths = [named.get(depth, depth) for depth in shape["depths"]]
    depths.append(configured)
    runs = {}
    for depth in sorted(set(depths)):
        runs[str(depth)] = _replay_run(stage, supervisor, ids, requests, cookies, depth, bars)
        runs[str(depth)]["hit_ratio_unbounded"] = unbounded_hit_ratio(requests, depth, layout)
    return {
        "configured_depth": configured,
        "segments_per_rendition": longest,
        "rungs": len(layout.video),
        "audio": bool(layout.audio),
        "asset_bytes": layout.bytes,
        "library_bytes": layout.bytes * len(ids),
        "edge_cache_bytes": stage.settings.edge_cache_bytes,
        "titles": len(ids),
        "requests": len(requests),
        "sessions": len({r.viewer for r in requests}),
        "distinct_segments": len({(r.title, r.key) for r in requests}),
        "requests_by_kind": dict(Counter(r.kind for r in requests)),
        "by_depth": runs,
    }


@contextlib.contextmanager
def _edge_pair(stage: Stage, supervisor: Supervisor, label: str) -> Iterator[list[CdnEndpoint]]:
    """Two fresh edges (empty caches) on the platform's bucket and key; stopped afterwards."""
    env = clean_env(AWS_ENDPOINT_URL=str(stage.settings.endpoint_url).rstrip("/"))
    started: list[Child] = []
    edges = []
    try:
        for name, port in zip(EDGES, free_ports(2), strict=True):
            url = f"http://{HOST}:{port}"
            started.append(
                supervisor.start(
                    f"replay-{label}-{name}",
                    [sys.executable, "-m", "flixstack.local.cli", "edge", "--name", name,
                     "--host", HOST, "--port", str(port)],
                    env=env,
                    ready=lambda url=url: answers(f"{url}/healthz"),  # type: ignore[misc]
                )
            )  # fmt: skip
            edges.append(
                CdnEndpoint(
                    name=name, base_url=AnyHttpUrl(url), health_url=AnyHttpUrl(f"{url}/healthz")
                )
            )
        yield edges
    finally:
        for child in started:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            child.process.wait(timeout=30)


def _replay_run(
    stage: Stage,
    supervisor: Supervisor,
    ids: list[str],
    requests: list[Request],
    cookies: dict[str, dict[str, str]],
    depth: int,
    bars: Progress,
) -> dict[str, Any]:
    job = stage.replay_job_id
    with _edge_pair(stage, supervisor, f"depth{depth}") as edges, httpx.Client(timeout=30) as http:
        warmed = {"requests": 0, "bytes": 0, "failures": 0, "seconds": 0.0}
        if depth > 0:
            task = bars.add_task(f"replay: pre-warm {depth} segment(s)/rendition", total=len(ids))
            by_master = {spec.asset_prefix(t, job) + "hls/master.m3u8": t for t in ids}
            prewarmer = Prewarmer(edges, lambda master: cookies[by_master[master]], depth, http)
            started = time.perf_counter()
            for master in by_master:
                for report in prewarmer.warm(master).values():
                    warmed["requests"] += report.requests
                    warmed["bytes"] += report.bytes
                    warmed["failures"] += len(report.failures)
                bars.advance(task)
            warmed["seconds"] = round(time.perf_counter() - started, 1)
        task = bars.add_task(
            f"replay: {len(requests)} requests, depth {depth}", total=len(requests)
        )
        hits: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        served = 0
        for n, request in enumerate(requests):
            first = cdn.rank(edges, TERRITORY, request.viewer)[0]
            title_id = ids[request.title]
            url = (
                f"{str(first.base_url).rstrip('/')}/{spec.asset_prefix(title_id, job)}{request.key}"
            )
            header = "; ".join(f"{k}={v}" for k, v in cookies[title_id].items())
            response = http.get(url, headers={"Cookie": header})
            if response.status_code != 200:
                raise RuntimeError(
                    f"replay GET {url}: {response.status_code} {response.text[:200]}"
                )
            served += len(response.content)
            totals[request.kind] += 1
            if response.headers.get("X-Cache", "").startswith("Hit"):
                hits[request.kind] += 1
            if n % 100 == 99:
                bars.advance(task, 100)
        bars.update(task, completed=len(requests))
        stats = {edge.name: http.get(f"{edge.base_url}edge/stats").json() for edge in edges}
    everything = sum(totals.values())
    return {
        "depth": depth,
        "hit_ratio": round(sum(hits.values()) / everything, 4),
        "hit_ratio_by_kind": {k: round(hits[k] / totals[k], 4) for k in sorted(totals)},
        "served_bytes": served,
        "prewarm": warmed,
        "edge_stats": stats,
    }


# --- results ------------------------------------------------------------------------------------


def _ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
        "mean_ms": round(statistics.fmean(values), 1),
    }


def _versions(environment: dict[str, str]) -> dict[str, str]:
    versions = dict(environment)
    for package in ("playwright", "fastapi", "uvicorn", "moto", "m3u8", "imageio-ffmpeg"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    versions["hls.js"] = lock["packages"]["node_modules/hls.js"]["version"]
    return versions


def _result(
    quick: bool,
    shape: dict[str, Any],
    starts: dict[str, Any],
    rebuffer: dict[str, Any],
    authorize: dict[str, Any],
    replay: dict[str, Any],
    environment: dict[str, str],
) -> dict[str, Any]:
    ours = [s["ttff_ms"] for s in starts["flixstack"]]
    peers = [s["ttff_ms"] for s in starts["peer"]]
    stalled = sum(s["stall_ms"] for s in rebuffer["sessions"])
    wall = sum(s["wall_ms"] for s in rebuffer["sessions"])
    runs = replay["by_depth"]
    figures = {
        "ttff_p50_ms": round(percentile(ours, 50), 1),
        "ttff_p95_ms": round(percentile(ours, 95), 1),
        "peer_ttff_p50_ms": round(percentile(peers, 50), 1),
        "peer_ttff_p95_ms": round(percentile(peers, 95), 1),
        "ttff_ratio_vs_peer_p50": round(percentile(ours, 50) / percentile(peers, 50), 2),
        "rebuffer_ratio": round(stalled / wall, 5),
        "authorize_p50_ms": authorize["flixstack"]["p50_ms"],
        "authorize_p99_ms": authorize["flixstack"]["p99_ms"],
        "authorize_bare_p99_ms": authorize["bare"]["p99_ms"],
        "authorize_ratio_vs_bare_p50": round(
            authorize["flixstack"]["p50_ms"] / authorize["bare"]["p50_ms"], 2
        ),
        "edge_hit_ratio_prewarm": runs[str(replay["configured_depth"])]["hit_ratio"],
        "edge_hit_ratio_cold": runs["0"]["hit_ratio"],
    }
    meets = {
        "ttff_p95_ms": figures["ttff_p95_ms"] <= GOALS["ttff_p95_ms"],
        "rebuffer_ratio": figures["rebuffer_ratio"] < GOALS["rebuffer_ratio"],
        "authorize_p99_ms": figures["authorize_p99_ms"] <= GOALS["authorize_p99_ms"],
        "edge_hit_ratio_prewarm": figures["edge_hit_ratio_prewarm"]
        >= GOALS["edge_hit_ratio_prewarm"],
    }
    return {
        "benchmark": NAME,
        "quick": quick,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": " ".join(METHOD.split()),
        "shape": {k: list(v) if isinstance(v, tuple) else v for k, v in shape.items()},
        **figures,
        "goals": GOALS,
        "meets_goals": meets,
        "ttff": {
            "flixstack": _ms(ours),
            "peer": _ms(peers),
            "starts": starts["flixstack"],
            "peer_starts": starts["peer"],
            "peer_rendition": {
                "height": starts["peer_rendition"]["start_height"],
                "bitrate": starts["peer_rendition"]["start_bitrate"],
            },
        },
        "rebuffer": rebuffer,
        "authorize": authorize,
        "edge_replay": replay,
        "environment": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "versions": _versions(environment),
        },
    }


def _plot(result: dict[str, Any], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(15, 10), constrained_layout=True)
    (ttff, rebuffer), (authorize, hits) = axes

    starts = result["ttff"]["starts"]
    peers = result["ttff"]["peer_starts"]
    phases = [
        ("script_ms", "page + hls.js loaded", "tab:gray"),
        ("grant_ms", "POST /playback answered", "tab:purple"),
        ("master_ms", "master playlist", "tab:blue"),
        ("key_ms", "AES key", "tab:olive"),
        ("first_segment_ms", "first segment", "tab:orange"),
        ("ttff_ms", "first frame", "tab:red"),
    ]
    for label, runs, y in (("flixstack", starts, 1.0), ("bare hls.js", peers, 0.0)):
        for key, name, color in phases:
            xs = [run[key] for run in runs if run.get(key) is not None]
            jitter = [y + 0.25 * (n / max(len(xs) - 1, 1) - 0.5) for n in range(len(xs))]
            ttff.scatter(
                xs, jitter, s=18, color=color, label=name if label == "flixstack" else None
            )
    ttff.axvline(
        GOALS["ttff_p95_ms"], color="black", linestyle="--", linewidth=1.2, label="p95 goal"
    )
    ttff.axvline(result["ttff_p95_ms"], color="tab:red", linestyle=":", label="flixstack p95")
    ttff.set_yticks([0, 1], ["bare hls.js\n(static files)", "flixstack player"])
    ttff.set_xlabel("ms from navigation start (each dot: one cold start, one milestone)")
    ttff.set_title(
        f"Time to first frame: p50 {result['ttff_p50_ms']:.0f} ms, p95 {result['ttff_p95_ms']:.0f} ms "
        f"(peer p50 {result['peer_ttff_p50_ms']:.0f} ms)"
    )
    ttff.legend(fontsize=8, loc="lower right")
    ttff.grid(True, axis="x", alpha=0.3)

    for n, session in enumerate(result["rebuffer"]["sessions"]):
        switches = session["switches"]
        xs = [s["at"] for s in switches] + [session["played_s"]]
        ys = [s["height"] for s in switches] + [switches[-1]["height"] if switches else 0]
        rebuffer.step(
            xs, ys, where="post", label=f"session {n + 1}: {session['stall_ms']:.0f} ms stalled"
        )
    throttle = result["rebuffer"]["throttle"]
    rebuffer.set_xlabel("playback position (s)")
    rebuffer.set_ylabel("rendition height (p)")
    rebuffer.set_title(
        f"Throttled ({throttle['down_kbps'] / 1000:g} Mbit/s, +{throttle['latency_ms']} ms): "
        f"rebuffer ratio {result['rebuffer_ratio']:.4f}"
    )
    rebuffer.legend(fontsize=8)
    rebuffer.grid(True, alpha=0.3)

    for name, color in (("flixstack", "tab:red"), ("bare", "tab:blue")):
        data = result["authorize"][name]
        keys = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
        authorize.plot(
            range(len(keys)), [data[k] for k in keys], marker="o", color=color, label=name
        )
    authorize.axhline(GOALS["authorize_p99_ms"], color="black", linestyle="--", label="p99 goal")
    authorize.set_xticks(range(4), ["p50", "p95", "p99", "max"])
    authorize.set_yscale("log")
    authorize.set_ylabel("ms (log)")
    authorize.set_title(
        f"POST /playback in-process, {result['authorize']['calls']} calls: "
        f"p99 {result['authorize_p99_ms']:.1f} ms"
    )
    authorize.legend(fontsize=8)
    authorize.grid(True, which="both", alpha=0.3)

    replay = result["edge_replay"]
    runs = sorted(replay["by_depth"].values(), key=lambda r: r["depth"])
    depths = [r["depth"] for r in runs]
    hits.plot(
        depths, [r["hit_ratio"] for r in runs], marker="o", color="tab:red", label="all segments"
    )
    for kind, style in (("video", "--"), ("audio", ":")):
        values = [r["hit_ratio_by_kind"].get(kind) for r in runs]
        if all(v is not None for v in values):
            hits.plot(depths, values, marker=".", linestyle=style, color="tab:red", label=kind)
    if all("hit_ratio_unbounded" in r for r in runs):
        hits.plot(
            depths,
            [r["hit_ratio_unbounded"] for r in runs],
            marker="x",
            linestyle="-.",
            color="tab:green",
            label="same trace, edges that never evict",
        )
    hits.axhline(GOALS["edge_hit_ratio_prewarm"], color="black", linestyle="--", label="goal")
    hits.axvline(replay["configured_depth"], color="gray", linestyle=":", label="configured depth")
    mib = hits.twinx()
    mib.bar(
        depths,
        [r["prewarm"]["bytes"] / 2**20 for r in runs],
        width=0.3,
        alpha=0.25,
        color="tab:blue",
    )
    mib.set_ylabel("bytes pre-warmed, both edges (MiB, bars)")
    hits.set_xlabel("segments pre-warmed per rendition (0: off)")
    hits.set_ylabel("edge hit ratio")
    hits.set_ylim(0, 1.02)
    hits.set_title(
        f"Edge hit ratio, Zipf({ZIPF_S}) replay of {replay['requests']} segment requests "
        f"over {replay['titles']} titles"
    )
    hits.text(
        0.02,
        0.86,
        f"each edge's LRU cache: {replay['edge_cache_bytes'] / 2**20:.0f} MiB; the library: "
        f"{replay['library_bytes'] / 2**20:.0f} MiB ({replay['rungs']} video rungs + audio, "
        f"{replay['segments_per_rendition']} segments each)",
        transform=hits.transAxes,
        fontsize=8,
    )
    hits.legend(fontsize=8, loc="lower right")
    hits.grid(True, alpha=0.3)

    figure.suptitle(f"flixstack playback on localhost ({result['environment']['cpu_count']} CPUs)")
    return harness.save_figure(figure, path)


def _print(console: Console, result: dict[str, Any], path: Path) -> None:
    table = Table(title=f"playback benchmark ({path})")
    for column in ("figure", "value", "goal", "met"):
        table.add_column(column)
    rows: list[tuple[str, str, str, bool | None]] = [
        ("ttff p50 (ms)", f"{result['ttff_p50_ms']:.0f}", "", None),
        ("ttff p95 (ms)", f"{result['ttff_p95_ms']:.0f}", f"≤ {GOALS['ttff_p95_ms']:g}", result["meets_goals"]["ttff_p95_ms"]),
        ("peer ttff p50 / p95 (ms)", f"{result['peer_ttff_p50_ms']:.0f} / {result['peer_ttff_p95_ms']:.0f}", "", None),
        ("rebuffer ratio", f"{result['rebuffer_ratio']:.4f}", f"< {GOALS['rebuffer_ratio']:g}", result["meets_goals"]["rebuffer_ratio"]),
        ("authorize p99 (ms)", f"{result['authorize_p99_ms']:.2f}", f"≤ {GOALS['authorize_p99_ms']:g}", result["meets_goals"]["authorize_p99_ms"]),
        ("authorize bare p99 (ms)", f"{result['authorize_bare_p99_ms']:.2f}", "", None),
        ("edge hit ratio, pre-warmed", f"{result['edge_hit_ratio_prewarm']:.3f}", f"≥ {GOALS['edge_hit_ratio_prewarm']:g}", result["meets_goals"]["edge_hit_ratio_prewarm"]),
        ("edge hit ratio, cold", f"{result['edge_hit_ratio_cold']:.3f}", "", None),
    ]  # fmt: skip
    for name, value, goal, met in rows:
        table.add_row(name, value, goal, "" if met is None else ("yes" if met else "NO"))
    console.print(table)
    for run in sorted(result["edge_replay"]["by_depth"].values(), key=lambda r: r["depth"]):
        console.print(
            f"depth {run['depth']}: hit ratio {run['hit_ratio']:.3f} {run['hit_ratio_by_kind']} "
            f"(never-evicting edges: {run['hit_ratio_unbounded']:.3f}), "
            f"pre-warmed {run['prewarm']['bytes'] / 2**20:.1f} MiB in {run['prewarm']['requests']} requests"
        )
