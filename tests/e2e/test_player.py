"""The player page in a real browser (Debian's chromium, headless, driven by Playwright):
an uploaded title, AES-128 encrypted by the transcoder, plays through the local edges with
the signed cookies POST /playback set; its DASH copy (CENC) plays with dash.js and a
ClearKey licence; ABR steps down under a throttled network; when edge A goes away
mid-play, playback carries on from edge B.

One platform for the module (``flixstack up`` + one ingested clip): starting it and
transcoding is most of the cost."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, CDPSession, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.harness import CHROMIUM, CHROMIUM_ARGS
from flixstack.api.routers.playback import PROFILE_HEADER
from flixstack.events.dashboard import histogram
from flixstack.events.qoe import bucket_of
from tests.conftest import ROOT, free_port
from tests.e2e.conftest import FLIXSTACK, Platform, listening, start_platform, wait_until_closed
from tests.e2e.test_up import sign_in, up_command

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
CLIP_S = 60  # longer than the 30 s hls.js buffers ahead: requests go on during play


@dataclass
class Stage:
    platform: Platform
    title_id: str
    job_id: str
    token: str
    profile_id: str
    renditions: list[dict[str, Any]]

    def player_url(self, profile_id: str | None = None, *, dash: bool = False) -> str:
        return (
            f"{self.platform.url}/player?title={self.title_id}"
            f"&profile={profile_id or self.profile_id}{'&format=dash' if dash else ''}"
            f"#token={self.token}"
        )

    def new_profile(self, name: str) -> str:
        """A profile with no progress yet (a stored position would move the start)."""
        created = httpx.post(
            f"{self.platform.url}/profiles",
            json={"name": name},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    tmp_path = tmp_path_factory.mktemp("player")
    api_port, emulator_port = free_port(), free_port()
    edge_ports = (free_port(), free_port())
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports),
        tmp_path, api_port, emulator_port, edge_ports=edge_ports,
    )  # fmt: skip
    try:
        platform.wait_healthy()
        clip = tmp_path / "clip.mp4"
        made = subprocess.run(
            [FLIXSTACK, "sample-video", str(clip), "--seconds", str(CLIP_S),
             "--size", "640x360", "--kind", "sports"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        ingest = subprocess.run(
            [FLIXSTACK, "ingest", str(clip), "--title", "Browser clip", "--ladder", "fixed",
             "--wait", "--publish-in", "US,GB", "--json", "--api", platform.url,
             "--state-dir", str(tmp_path / "state")],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert ingest.returncode == 0, ingest.stderr + ingest.stdout
        result = json.loads(ingest.stdout)
        assert (result["state"], result["title_state"]) == ("PUBLISHED", "published"), result
        token = sign_in(platform, tmp_path, "viewer@flixstack.local")
        stage = Stage(
            platform, result["title_id"], result["job_id"], token, "", result["renditions"]
        )
        stage.profile_id = stage.new_profile("Browser")
        yield stage
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(platform.process.pid, signal.SIGKILL)
        platform.process.wait()


@pytest.fixture(scope="module")
def admin_token(stage: Stage, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sign_in(stage.platform, tmp_path_factory.mktemp("admin"), "admin@flixstack.local")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context; a screenshot lands in test-artifacts/ when the test fails,
    and a console error fails the test (unless ``pytest.mark.expected_console`` names it)."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    expected = request.node.get_closest_marker("expected_console")
    allowed = expected.args if expected else ()
    if report is not None and report.passed:
        unexpected = [e for e in errors if not any(text in e for text in allowed)]
        assert unexpected == [], unexpected


def state(page: Page) -> dict[str, Any]:
    """``window.flixstack`` (the player's state), without the hls.js or dash.js instance."""
    return dict(
        page.evaluate(
            "() => JSON.parse(JSON.stringify(window.flixstack,"
            " (k, v) => k === 'hls' || k === 'dash' ? undefined : v))"
        )
    )


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def wait_playing_past(page: Page, seconds: float, timeout_ms: float = 60_000) -> None:
    page.wait_for_function(
        f"() => document.getElementById('video').currentTime > {seconds}", timeout=timeout_ms
    )


def test_the_web_app_signs_in_picks_a_profile_shows_home_rows_and_searches(
    stage: Stage, page: Page
) -> None:
    """The viewer web app (web/, served under /app/) with this module's platform: its one
    published title is on the home rows with the poster the transcoder made, and a search
    with a typo finds it. (It shares the platform started for the player: one start.)"""
    password = stage.platform.log.read_text().split("viewer@flixstack.local", 1)[1]
    password = password.split("password", 1)[1].split()[0]
    page.goto(f"{stage.platform.url}/")
    page.get_by_label("Email").fill("viewer@flixstack.local")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Who's watching?").wait_for()
    page.get_by_role("button", name="Browser", exact=True).click()
    # WHEN the profile is picked THEN its home rows show the published title with a poster
    card = page.locator(f'section.row a.card[data-title-id="{stage.title_id}"]').first
    card.wait_for()
    poster = card.locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=poster.element_handle()
    )
    kinds = page.locator("section.row").evaluate_all("rows => rows.map(r => r.dataset.row)")
    assert kinds, "no home rows"  # one title: on the first row it fits (each title once)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-home.png"), full_page=True)
    # a search as you type, with a typo, finds it
    page.get_by_label("Search titles, people, genres").press_sequentially("Browsr cl", delay=40)
    page.get_by_role("heading", name="Results for “Browsr cl”").wait_for()
    assert (
        page.locator(f'section[data-row="search"] a.card[data-title-id="{stage.title_id}"]').count()
        == 1
    )


def test_media_needs_the_signed_cookies(stage: Stage) -> None:
    master = f"titles/{stage.title_id}/{stage.job_id}/hls/master.m3u8"
    for edge in stage.platform.edge_urls:
        refused = httpx.get(f"{edge}/{master}")
        assert refused.status_code == 403
    grant = httpx.post(
        f"{stage.platform.url}/playback/{stage.title_id}",
        headers={"Authorization": f"Bearer {stage.token}", PROFILE_HEADER: stage.profile_id},
    )
    assert grant.status_code == 200, grant.text
    body = grant.json()
    assert body["protection"] == "aes-128"
    assert body["key_uri"] == f"{stage.platform.url}/keys/{stage.job_id}"
    offered = sorted(c["hls_url"] for c in body["cdns"])
    assert offered == sorted(f"{edge}/{master}" for edge in stage.platform.edge_urls)
    for cdn in body["cdns"]:
        allowed = httpx.get(cdn["hls_url"], cookies=body["access"]["cookies"])
        assert allowed.status_code == 200, allowed.text
    # publishing pre-warmed both edges: the start of every rendition is already cached
    lowest = min(r["height"] for r in stage.renditions)
    first = f"titles/{stage.title_id}/{stage.job_id}/cmaf/v{lowest}/seg_00001.m4s"
    for edge in stage.platform.edge_urls:
        deadline = time.monotonic() + 30
        while httpx.get(f"{edge}/edge/stats").json()["origin_bytes"] == 0:
            assert time.monotonic() < deadline, f"{edge} was not pre-warmed"
            time.sleep(0.5)
        segment = httpx.get(f"{edge}/{first}", cookies=body["access"]["cookies"])
        assert segment.status_code == 200
        assert segment.headers["X-Cache"].startswith("Hit from"), segment.headers["X-Cache"]
    key = httpx.get(
        body["key_uri"],
        headers={"Authorization": f"Bearer {stage.token}", PROFILE_HEADER: stage.profile_id},
    )
    assert (key.status_code, len(key.content)) == (200, 16)


def test_plays_to_the_first_frame_and_advances(stage: Stage, page: Page) -> None:
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.url) if "/keys/" in r.url else None)
    page.goto(stage.player_url())
    page.wait_for_function("() => window.flixstack && window.flixstack.firstFrameMs !== null")
    wait_playing_past(page, 3)
    seen = state(page)
    assert all(":fatal" not in error for error in seen["errors"]), seen["errors"]
    assert keys
    assert all(k.endswith(f"/keys/{stage.job_id}") for k in keys)
    decoded = page.evaluate(
        "() => document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames"
    )
    assert decoded > 30
    options = page.locator("#quality option").all_inner_texts()
    assert options[0] == "Auto"
    assert len(options) == 1 + len(stage.renditions)
    # pause (the player sends its position as an event; the consumer applies it to the
    # profile's progress), reload: it resumes where it stopped
    paused = page.evaluate(
        "() => { const v = document.getElementById('video'); v.pause(); return v.currentTime; }"
    )
    page.wait_for_function("() => window.flixstack.heartbeats > 0")
    progress = eventually(
        lambda: httpx.get(
            f"{stage.platform.url}/profiles/{stage.profile_id}/progress/{stage.title_id}",
            headers={"Authorization": f"Bearer {stage.token}"},
        ),
        lambda r: r.status_code == 200 and abs(r.json()["position_s"] - paused) <= 0.5,
    )
    assert progress.status_code == 200, progress.text
    assert progress.json()["position_s"] == pytest.approx(paused, abs=0.5)
    page.reload()
    page.wait_for_function("() => window.flixstack && window.flixstack.firstFrameMs !== null")
    assert state(page)["grant"]["resume_position_s"] == pytest.approx(paused, abs=0.5)
    wait_playing_past(page, paused + 1)


def test_a_play_shows_in_the_qoe_dashboard_with_its_startup_time(
    stage: Stage, page: Page, admin_token: str
) -> None:
    """The player's events go through Kinesis and the consumer into the per-minute QoE
    aggregates: the dashboard's report counts one more play of the title, in the startup
    bar of this play's first-frame time, and its page draws it."""
    admin = {"Authorization": f"Bearer {admin_token}"}

    def bars() -> list[int]:
        answer = httpx.get(
            f"{stage.platform.url}/admin/qoe/report",
            params={"minutes": 60, "title": stage.title_id},
            headers=admin,
        )
        assert answer.status_code == 200, answer.text
        return [bar["plays"] for bar in answer.json()["startup_histogram"]]

    before = bars()
    page.goto(stage.player_url(stage.new_profile("QoE")))
    page.wait_for_function("() => window.flixstack && window.flixstack.firstFrameMs !== null")
    first_frame_ms = state(page)["firstFrameMs"]
    after = eventually(bars, lambda now: sum(now) > sum(before))
    # the bar this play's time falls in (as the consumer's sketch buckets it)
    [own] = [n for n, bar in enumerate(histogram({bucket_of(first_frame_ms): 1})) if bar.plays]
    assert sum(after) == sum(before) + 1
    assert after[own] == before[own] + 1
    named = httpx.get(f"{stage.platform.url}/admin/qoe/report", headers=admin).json()
    assert {g["name"]: g["label"] for g in named["top_titles"]}[stage.title_id] == "Browser clip"

    page.goto(f"{stage.platform.url}/admin/qoe#token={admin_token}")
    page.wait_for_function("() => document.querySelector('#startup-histogram svg rect')")
    assert int(page.locator('[data-metric="plays"] b').inner_text()) >= sum(after)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "qoe-dashboard.png"), full_page=True)


# dash.js logs at error level that the page gave it no keys of its own (it then asks the
# licence server, as it should)
@pytest.mark.expected_console("Failed to retrieve clearkeys from ProtectionData")
def test_dash_plays_cenc_media_with_a_clearkey_licence(stage: Stage, page: Page) -> None:
    """dash.js plays the CENC copy; Chromium's ClearKey CDM gets the key from the API."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(stage.player_url(stage.new_profile("DASH"), dash=True))
    try:
        page.wait_for_function("() => window.flixstack && window.flixstack.firstFrameMs !== null")
        wait_playing_past(page, 3)
    except PlaywrightTimeout:
        raise AssertionError(f"DASH did not play: {state(page)}") from None
    seen = state(page)
    assert seen["errors"] == [], seen["errors"]
    grant = seen["grant"]
    assert grant["licence_uri"] == f"{stage.platform.url}/licences/clearkey/{stage.job_id}"
    assert grant["licence_uri"] in requests
    asset = f"titles/{stage.title_id}/{stage.job_id}/"
    media = [u for u in requests if asset in u and u.endswith(".m4s")]
    assert media
    assert all(f"{asset}cenc/" in u for u in media), media
    assert not any("/keys/" in u for u in requests)  # HLS's AES-128 key is not involved
    decoded = page.evaluate(
        "() => document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames"
    )
    assert decoded > 30
    options = page.locator("#quality option").all_inner_texts()
    assert len(options) == 1 + len(stage.renditions)


def test_abr_steps_down_under_a_throttled_network(
    stage: Stage, page: Page, throttle: Throttle
) -> None:
    ordered = sorted(stage.renditions, key=lambda r: r["bandwidth"])
    assert len(ordered) >= 2, "the clip needs two rungs"
    page.goto(stage.player_url(stage.new_profile("ABR")))
    wait_playing_past(page, 1)
    top = max(r["height"] for r in stage.renditions)
    # the viewer picks the top rung in the quality menu (its options follow hls.js's levels,
    # by bit rate), then goes back to Auto: ABR decides from there
    page.select_option("#quality", str(len(ordered) - 1))
    try:
        page.wait_for_function(
            f"() => window.flixstack.levelSwitches.some(s => s.height === {top})",
            timeout=60_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"the top rung never played: {state(page)}") from None
    page.select_option("#quality", "-1")
    climbed = len(state(page)["levelSwitches"])
    # above the lowest rung, below what the top one needs (hls.js keeps a 5 % margin)
    budget = ordered[0]["bandwidth"] * 1.3 / 8
    assert budget * 8 < ordered[-1]["bandwidth"] * 0.95
    throttle(budget)
    try:
        page.wait_for_function(
            f"() => window.flixstack.levelSwitches.slice({climbed}).some(s => s.height < {top})",
            timeout=60_000,
        )
    except PlaywrightTimeout:
        estimate = page.evaluate("() => window.flixstack.hls.bandwidthEstimate")
        played = page.evaluate("() => document.getElementById('video').currentTime")
        raise AssertionError(
            f"no switch down: {state(page)}, estimate {estimate}, at {played}"
        ) from None
    position = page.evaluate("() => document.getElementById('video').currentTime")
    wait_playing_past(page, position + 2)


@pytest.mark.expected_console("net::ERR_CONNECTION_REFUSED")  # the edge that went away
def test_playback_fails_over_from_edge_a_to_edge_b(
    stage: Stage, page: Page, throttle: Throttle
) -> None:
    # a network twice as fast as the top rung (not loopback's): the buffer fills as it
    # would for a viewer, so requests are still going out when the edge goes away
    top = max(r["bandwidth"] for r in stage.renditions)
    # throttled as soon as the page's document commits, before the player asks for media
    page.goto(stage.player_url(stage.new_profile("Failover")), wait_until="commit")
    throttle(top * 2 / 8)
    wait_playing_past(page, 2)
    first = state(page)["cdn"]
    index = [c["name"] for c in state(page)["grant"]["cdns"]].index(first)
    port = stage.platform.edge_ports[["edge-a", "edge-b"].index(first)]
    buffered = page.evaluate(
        "() => { const b = document.getElementById('video').buffered; return b.end(b.length - 1); }"
    )
    assert buffered < CLIP_S - 10, buffered
    stop_listener(port)
    assert wait_until_closed(port)
    wait_playing_past(page, buffered + 4, timeout_ms=120_000)
    seen = state(page)
    assert seen["failovers"], seen
    assert seen["failovers"][0]["from"] == first
    assert seen["cdn"] == seen["grant"]["cdns"][1 - index]["name"]
    assert all(":fatal" not in error for error in seen["errors"]), seen["errors"]
    assert not listening(port)


Throttle = Callable[[float], None]


@pytest.fixture
def throttle(page: Page) -> Iterator[Throttle]:
    """Chrome's own network throttling (DevTools protocol) for the test's page, lifted and
    detached afterwards (a session left behind made later throttling not apply)."""
    sessions: list[CDPSession] = []

    def apply(bytes_per_s: float) -> None:
        session = page.context.new_cdp_session(page)
        sessions.append(session)
        session.send("Network.enable")
        session.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 40,
                "downloadThroughput": bytes_per_s,
                "uploadThroughput": bytes_per_s,
            },
        )

    yield apply
    for session in sessions:
        with contextlib.suppress(Exception):  # the page may be gone already
            session.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
            session.detach()


def stop_listener(port: int) -> None:
    """SIGKILL the process listening on ``port`` (found through /proc, as ss -p does)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(fields[9])
    assert inodes, f"nothing listens on {port}"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            fds = Path(f"/proc/{pid}/fd")
            if any(
                os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes
                for fd in fds.iterdir()
            ):
                os.kill(int(pid), signal.SIGKILL)
                return
    raise AssertionError(f"no process owns the socket on {port}")
