"""The player in a real browser (Debian's chromium, headless, driven by Playwright), through
the standalone player page (the web app's player.html, the same player as its watch page):
an uploaded title, AES-128 encrypted by the transcoder, plays through the local edges with
the signed cookies POST /playback set; its DASH copy (CENC) plays with dash.js and a
ClearKey licence; ABR steps down under a throttled network; when edge A goes away
mid-play, playback carries on from edge B.

The session's shared stage (tests/e2e/stage.py) supplies the platform and the clip."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import CDPSession, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from flixstack.api.routers.playback import PROFILE_HEADER
from flixstack.events.dashboard import histogram
from flixstack.events.qoe import bucket_of
from tests.conftest import eventually
from tests.e2e.platform import listening, wait_until_closed
from tests.e2e.stage import (
    ADMIN,
    ARTIFACTS,
    CLIP_S,
    Stage,
    app_sign_in,
    player_state,
    wait_first_frame,
    wait_playing_past,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin_token(stage: Stage) -> str:
    return stage.token_of(ADMIN)


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
    wait_first_frame(page)
    wait_playing_past(page, 3)
    seen = player_state(page)
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
    wait_first_frame(page)
    assert player_state(page)["grant"]["resume_position_s"] == pytest.approx(paused, abs=0.5)
    wait_playing_past(page, paused + 1)


def test_a_play_shows_in_the_qoe_dashboard_with_its_startup_time(
    stage: Stage, page: Page, admin_token: str
) -> None:
    """The player's events go through Kinesis and the consumer into the per-minute QoE
    aggregates: the dashboard's report counts one more play of the title, in the startup
    bar of this play's first-frame time, and the web app's dashboard draws it."""
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
    wait_first_frame(page)
    first_frame_ms = player_state(page)["firstFrameMs"]
    after = eventually(bars, lambda now: sum(now) > sum(before))
    # the bar this play's time falls in (as the consumer's sketch buckets it)
    [own] = [n for n, bar in enumerate(histogram({bucket_of(first_frame_ms): 1})) if bar.plays]
    assert sum(after) == sum(before) + 1
    assert after[own] == before[own] + 1
    named = httpx.get(f"{stage.platform.url}/admin/qoe/report", headers=admin).json()
    assert {g["name"]: g["label"] for g in named["top_titles"]}[stage.title_id] == "Browser clip"

    # the web app's dashboard draws it
    app_sign_in(page, stage, ADMIN)
    page.goto(f"{stage.url}/app/#/admin/qoe")
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
        wait_first_frame(page)
        wait_playing_past(page, 3)
    except PlaywrightTimeout:
        raise AssertionError(f"DASH did not play: {player_state(page)}") from None
    seen = player_state(page)
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
        raise AssertionError(f"the top rung never played: {player_state(page)}") from None
    page.select_option("#quality", "-1")
    climbed = len(player_state(page)["levelSwitches"])
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
            f"no switch down: {player_state(page)}, estimate {estimate}, at {played}"
        ) from None
    position = page.evaluate("() => document.getElementById('video').currentTime")
    wait_playing_past(page, position + 2)


@pytest.mark.expected_console("net::ERR_CONNECTION_REFUSED")  # the edge that went away
def test_playback_fails_over_from_edge_a_to_edge_b(
    stage: Stage, page: Page, throttle: Throttle, edges_back: list[int]
) -> None:
    # a network twice as fast as the top rung (not loopback's): the buffer fills as it
    # would for a viewer, so requests are still going out when the edge goes away
    top = max(r["bandwidth"] for r in stage.renditions)
    # throttled as soon as the page's document commits, before the player asks for media
    page.goto(stage.player_url(stage.new_profile("Failover")), wait_until="commit")
    throttle(top * 2 / 8)
    wait_playing_past(page, 2)
    first = player_state(page)["cdn"]
    index = [c["name"] for c in player_state(page)["grant"]["cdns"]].index(first)
    port = stage.platform.edge_ports[["edge-a", "edge-b"].index(first)]
    buffered = page.evaluate(
        "() => { const b = document.getElementById('video').buffered; return b.end(b.length - 1); }"
    )
    assert buffered < CLIP_S - 10, buffered
    edges_back.append(port)  # the tests after this one get it back
    stop_listener(port)
    assert wait_until_closed(port)
    wait_playing_past(page, buffered + 4, timeout_ms=120_000)
    seen = player_state(page)
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


@pytest.fixture
def edges_back(stage: Stage) -> Iterator[list[int]]:
    """The ports of edges a test stops: each is started again afterwards, as the platform
    started it (same command, environment and directory), for the session's later tests."""
    stopped: list[int] = []
    commands = {port: _command_on(port) for port in stage.platform.edge_ports}
    yield stopped
    for port in stopped:
        argv, env, cwd = commands[port]
        stage.extra.append(
            subprocess.Popen(
                argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )  # fmt: skip
        assert eventually(partial(listening, port), bool), f"edge on {port} is not back"


def _listener(port: int) -> int:
    """The pid of the process listening on ``port`` (found through /proc, as ss -p does)."""
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
                return int(pid)
    raise AssertionError(f"no process owns the socket on {port}")


def _command_on(port: int) -> tuple[list[str], dict[str, str], str]:
    """How the process listening on ``port`` was started: argv, environment, directory."""
    proc = Path(f"/proc/{_listener(port)}")
    argv = proc.joinpath("cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
    pairs = proc.joinpath("environ").read_bytes().rstrip(b"\0").decode().split("\0")
    env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    return argv, env, os.readlink(proc / "cwd")


def stop_listener(port: int) -> None:
    """SIGKILL the process listening on ``port``."""
    os.kill(_listener(port), signal.SIGKILL)
