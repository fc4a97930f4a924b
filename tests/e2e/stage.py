"""The stage the browser tests share: one ``flixstack up`` (a small seeded catalog: series
with episodes, playable demo media) plus one clip ingested through the real pipeline, and a
viewer's token and profile. Starting it and transcoding is most of a browser test's cost,
so the session starts it once (``tests/e2e/conftest.py``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page

from tests.conftest import ROOT, free_port
from tests.e2e.platform import FLIXSTACK, Platform, sign_in, start_platform, up_command

ARTIFACTS = ROOT / "test-artifacts"
CLIP_S = 60  # longer than the 30 s hls.js buffers ahead: requests go on during play
SEEDED_TITLES = 120
SUBTITLES = "".join(
    f"{n}\n00:00:{2 * n - 2:02d},000 --> 00:00:{2 * n:02d},000\nCaption {n}\n\n"
    for n in range(1, 30)
)
"""An English caption every 2 s for the clip's first minute (``Caption 1`` ...)."""
VIEWER = "viewer@flixstack.local"
ADMIN = "admin@flixstack.local"


@dataclass
class Stage:
    platform: Platform
    title_id: str
    job_id: str
    token: str
    profile_id: str
    renditions: list[dict[str, Any]]
    tmp_path: Path
    tokens: dict[str, str] = field(default_factory=dict)
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """Processes a test started for the stage (an edge it stopped and started again)."""
    created: list[str] = field(default_factory=list)
    """Profiles made during the running test (an account holds 5: the test removes them)."""

    @property
    def url(self) -> str:
        return self.platform.url

    def player_url(self, profile_id: str | None = None, *, dash: bool = False) -> str:
        """The standalone player (the web app's player.html) for the ingested clip."""
        return (
            f"{self.url}/player?title={self.title_id}"
            f"&profile={profile_id or self.profile_id}{'&format=dash' if dash else ''}"
            f"#token={self.token}"
        )

    def password(self, user: str) -> str:
        """The demo user's password, as ``flixstack up`` printed it."""
        return self.platform.log.read_text().split(user, 1)[1].split("password", 1)[1].split()[0]

    def token_of(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = sign_in(self.platform, self.tmp_path, user)
        return self.tokens[user]

    def new_profile(self, name: str) -> str:
        """A profile with no progress yet (a stored position would move the start)."""
        created = httpx.post(
            f"{self.url}/profiles",
            json={"name": name},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert created.status_code == 201, created.text
        self.created.append(created.json()["id"])
        return str(created.json()["id"])

    def forget_profiles(self) -> None:
        for profile_id in self.created:
            gone = httpx.delete(
                f"{self.url}/profiles/{profile_id}",
                headers={"Authorization": f"Bearer {self.token}"},
            )
            assert gone.status_code == 204, gone.text
        self.created.clear()


@contextlib.contextmanager
def staged(tmp_path: Path) -> Iterator[Stage]:
    api_port, emulator_port = free_port(), free_port()
    edge_ports = (free_port(), free_port())
    extra: list[subprocess.Popen[bytes]] = []  # the stage's, once there is one
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports, seed=SEEDED_TITLES),
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
        captions = tmp_path / "clip.en.srt"
        captions.write_text(SUBTITLES, encoding="utf-8")
        ingest = subprocess.run(
            [FLIXSTACK, "ingest", str(clip), "--title", "Browser clip", "--ladder", "fixed",
             "--subtitles", str(captions),
             "--wait", "--publish-in", "US,GB", "--json", "--api", platform.url,
             "--state-dir", str(tmp_path / "state")],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        assert ingest.returncode == 0, ingest.stderr + ingest.stdout
        result = json.loads(ingest.stdout)
        assert (result["state"], result["title_state"]) == ("PUBLISHED", "published"), result
        token = sign_in(platform, tmp_path, VIEWER)
        stage = Stage(
            platform, result["title_id"], result["job_id"], token, "", result["renditions"],
            tmp_path, {VIEWER: token}, extra,
        )  # fmt: skip
        stage.profile_id = stage.new_profile("Browser")
        stage.created.clear()  # the stage's own profile stays
        yield stage
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(platform.process.pid, signal.SIGKILL)
        platform.process.wait()
        for process in extra:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def player_state(page: Page) -> dict[str, Any]:
    """``window.flixstack`` (the player's state), without the hls.js or dash.js instance."""
    return dict(
        page.evaluate(
            "() => JSON.parse(JSON.stringify(window.flixstack,"
            " (k, v) => k === 'hls' || k === 'dash' ? undefined : v))"
        )
    )


def wait_playing_past(page: Page, seconds: float, timeout_ms: float = 60_000) -> None:
    page.wait_for_function(
        f"() => (document.getElementById('video')?.currentTime ?? 0) > {seconds}",
        timeout=timeout_ms,
    )


def wait_first_frame(page: Page, timeout_ms: float = 60_000) -> None:
    page.wait_for_function(
        "() => window.flixstack && window.flixstack.firstFrameMs !== null", timeout=timeout_ms
    )


def app_sign_in(page: Page, stage: Stage, user: str, profile: str | None = None) -> None:
    """Signs ``user`` in through the web app's form (as a viewer would), then picks
    ``profile`` (a new one of the viewer's, for this test) when one is named."""
    if profile is not None:
        stage.new_profile(profile)
    page.goto(f"{stage.url}/app/#/signin")
    page.evaluate("() => sessionStorage.clear()")  # whoever this tab had signed in before
    page.reload()
    page.get_by_label("Email").fill(user)
    page.get_by_label("Password").fill(stage.password(user))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Who's watching?").wait_for()
    if profile is None:
        return
    page.get_by_role("button", name=profile, exact=True).click()
    page.locator("section.row").first.wait_for()
