"""`flixstack up` / `make up` as a user runs them: healthy, then nothing left listening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.local import emulator
from flixstack.playback import signing
from flixstack.settings import Settings
from tests.conftest import ROOT
from tests.e2e.platform import (
    FLIXSTACK,
    Platform,
    listening,
    sign_in,
    start_platform,
    up_command,
    wait_until_closed,
)

pytestmark = pytest.mark.e2e


def signed_cookies(platform: Platform, media_key: str) -> str:
    """A Cookie header granting the asset of ``media_key`` on every edge, signed with the
    platform's CDN key (read from the emulator's secret), as POST /playback will sign it."""
    settings = Settings(endpoint_url=f"http://127.0.0.1:{platform.emulator_port}")
    key = signing.load_signing_key(AwsClients(settings).secretsmanager, settings.naming)
    _, title_id, asset_version, *_ = media_key.split("/")
    cookies = signing.signed_cookies(
        key,
        signing.asset_resource(title_id, asset_version),
        datetime.now(UTC) + timedelta(minutes=10),
    )
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def play(url: str, min_frames: int, cookie: str) -> None:
    """A player (ffmpeg) reads the manifest over HTTP, sending ``cookie`` with every request
    (manifests, init segments, segments), and decodes the first video stream."""
    played = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin",
         "-headers", f"Cookie: {cookie}\r\n", "-i", url,
         "-map", "0:v:0", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr[-2000:]
    frames = [line for line in played.stderr.splitlines() if "frame=" in line]
    assert frames, played.stderr[-2000:]
    assert int(frames[-1].split("frame=")[1].split()[0]) >= min_frames


def assert_all_present(health: dict[str, object], emulator_port: int) -> None:
    assert health["endpoint"] == f"http://127.0.0.1:{emulator_port}"
    assert health["all_present"] is True
    resources = health["resources"]
    assert isinstance(resources, list)
    assert len(resources) == spec.resource_count()


def test_up_starts_the_emulator_serves_and_stops_everything_on_sigint(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports),
        tmp_path, api_port, emulator_port, edge_ports=edge_ports,
    )  # fmt: skip
    platform_factory.append(platform)

    health = platform.wait_healthy()
    assert_all_present(health, emulator_port)
    assert health["cdns"] == [
        {"name": name, "base_url": url, "enabled": True, "healthy": True}
        for name, url in zip(("edge-a", "edge-b"), platform.edge_urls, strict=True)
    ]
    assert httpx.get(f"{platform.url}/docs").status_code == 200
    assert httpx.get(f"{platform.url}/titles").json() == {"items": [], "next_cursor": None}
    printed = platform.log.read_text()
    assert f"{platform.url}/docs" in printed
    assert "embedded moto server" in printed
    # two CDN edges answer their health probe, and refuse media without signed cookies
    for name, edge_url in zip(("edge-a", "edge-b"), platform.edge_urls, strict=True):
        assert httpx.get(f"{edge_url}/healthz").json()["edge"] == name
        assert f"{edge_url}/titles/" in printed
        refused = httpx.get(f"{edge_url}/titles/t/v/hls/master.m3u8")
        assert (refused.status_code, refused.json()["reason"]) == (403, "missing_cookies")

    assert platform.stop(signal.SIGINT) == 0
    for port in (api_port, *edge_ports, emulator_port):
        assert wait_until_closed(port), port


def test_up_twice_against_an_emulator_that_keeps_running(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    api_port, emulator_port = ports
    moto = subprocess.Popen(
        emulator.moto_command("127.0.0.1", emulator_port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not emulator.answers(f"http://127.0.0.1:{emulator_port}"):
            time.sleep(0.1)
        for run in (1, 2):
            platform = start_platform(
                up_command(api_port, emulator_port, tmp_path, edge_ports),
                tmp_path, api_port, emulator_port, edge_ports=edge_ports,
            )  # fmt: skip
            platform_factory.append(platform)
            assert_all_present(platform.wait_healthy(), emulator_port)
            printed = platform.log.read_text()
            assert "an emulator already listening" in printed
            if run == 2:
                assert "0 created" in printed
            assert platform.stop(signal.SIGTERM) == 0
            for port in (api_port, *edge_ports):
                assert wait_until_closed(port), port
            # an emulator flixstack did not start is not flixstack's to stop
            assert listening(emulator_port)
    finally:
        moto.terminate()
        moto.wait()


def test_children_exit_when_up_is_killed_outright(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports),
        tmp_path, api_port, emulator_port, edge_ports=edge_ports,
    )  # fmt: skip
    platform_factory.append(platform)
    platform.wait_healthy()
    # SIGKILL gives flixstack up no chance to clean up; the kernel tells its children.
    os.kill(platform.process.pid, signal.SIGKILL)
    platform.process.wait()
    for port in (api_port, *edge_ports, emulator_port):
        assert wait_until_closed(port), port


def test_make_up_stops_everything_when_make_is_interrupted(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    api_port, emulator_port = ports
    args = " ".join(up_command(api_port, emulator_port, tmp_path, edge_ports)[2:])
    env = {"VENV": str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")))}
    platform = start_platform(
        ["make", "--no-print-directory", "up", f"UP_ARGS={args}"],
        tmp_path,
        api_port,
        emulator_port,
        env,
    )
    platform_factory.append(platform)
    assert_all_present(platform.wait_healthy(), emulator_port)
    # SIGINT to make alone (not its process group): make exits, flixstack up must follow.
    os.kill(platform.process.pid, signal.SIGINT)
    platform.process.wait(timeout=30)
    for port in (api_port, *edge_ports, emulator_port):
        assert wait_until_closed(port, timeout=30), port


def test_ingest_through_the_running_platform_and_play_both_manifests(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    """The user's path: `flixstack up`, `flixstack sample-video`, `flixstack ingest --wait
    --json`; then a player (ffmpeg) reads the HLS master and the DASH MPD through the local
    edge over HTTP, with signed cookies, and decodes every frame of the top rendition.
    Media are packaged in the clear here (HLS and DASH): protected media need a content
    key from the API as well."""
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports),
        tmp_path, api_port, emulator_port, env={"FLIXSTACK_PROTECT_MEDIA": "false"},
        edge_ports=edge_ports,
    )  # fmt: skip
    platform_factory.append(platform)
    platform.wait_healthy()
    clip = tmp_path / "clip.mp4"
    made = subprocess.run(
        [
            FLIXSTACK,
            "sample-video",
            str(clip),
            "--seconds",
            "5",
            "--size",
            "426x240",
            "--kind",
            "sports",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    subtitles = tmp_path / "clip.en.srt"
    subtitles.write_text("1\n00:00:01,000 --> 00:00:03,000\nGoal!\n")
    ingest = subprocess.run(
        [FLIXSTACK, "ingest", str(clip), "--title", "E2E clip", "--subtitles", str(subtitles),
         "--ladder", "fixed", "--wait", "--json", "--api", platform.url,
         "--state-dir", str(tmp_path / "state")],  # the demo admin `up` saved
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr + ingest.stdout
    result = json.loads(ingest.stdout)
    assert set(result) == {
        "title_id", "job_id", "state", "master_playlist_url", "dash_manifest_url", "renditions", "error"
    }  # fmt: skip
    assert result["state"] == "PUBLISHED"
    assert result["error"] is None
    assert result["renditions"]
    assert all(r["height"] <= 240 for r in result["renditions"])
    edge_a = platform.edge_urls[0]
    for manifest in (result["master_playlist_url"], result["dash_manifest_url"]):
        assert manifest.startswith(f"{edge_a}/titles/{result['title_id']}/{result['job_id']}/")
        assert httpx.get(manifest).status_code == 403  # no cookies
        cookie = signed_cookies(platform, manifest.removeprefix(f"{edge_a}/"))
        play(manifest, min_frames=5 * 24, cookie=cookie)  # 5 s of video
    assert platform.stop(signal.SIGINT) == 0


def test_up_seeds_a_catalog_viewers_browse_search_and_play(
    tmp_path: Path,
    ports: tuple[int, int],
    edge_ports: tuple[int, int],
    platform_factory: list[Platform],
) -> None:
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path, edge_ports, seed=True),
        tmp_path, api_port, emulator_port, edge_ports=edge_ports,
    )  # fmt: skip
    platform_factory.append(platform)
    platform.wait_healthy()
    assert "catalog seeded: 200 titles created" in platform.log.read_text()

    def titles(country: str) -> list[dict[str, object]]:
        headers = {"CloudFront-Viewer-Country": country}
        found: list[dict[str, object]] = []
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = httpx.get(f"{platform.url}/titles", params=params, headers=headers).json()
            found += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    us, jp = titles("US"), titles("JP")
    assert 0 < len(us) < 200
    assert {t["id"] for t in us} != {t["id"] for t in jp}  # licence windows differ by country
    # search forgives accents and typos: an accented word of a French name, typed without
    # its accents and with two neighbouring letters swapped
    french, word = next(
        (t, w)
        for t in titles("FR")
        if t["language"] == "fr"
        for w in str(t["name"]).split()
        if len(w) >= 6 and any(c in "éèêîô" for c in w)
    )
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    typo = folded[0] + folded[2] + folded[1] + folded[3:]
    hits = httpx.get(
        f"{platform.url}/search",
        params={"q": typo, "limit": 100},
        headers={"CloudFront-Viewer-Country": "FR", "Accept-Language": "fr"},
    ).json()
    assert french["id"] in [h["id"] for h in hits], (typo, french["name"])
    # a seeded title plays through either CDN edge, with signed cookies; its poster is public
    detail = httpx.get(
        f"{platform.url}/titles/{us[0]['id']}", headers={"CloudFront-Viewer-Country": "US"}
    ).json()
    assert detail["playable"] is True
    assert str(detail["poster_url"]).startswith(f"{platform.edge_urls[0]}/titles/")
    poster = httpx.get(str(detail["poster_url"]))
    assert (poster.status_code, poster.headers["content-type"]) == (200, "image/jpeg")
    assert httpx.get(f"{platform.url}/admin/titles/{us[0]['id']}").status_code == 401
    token = sign_in(platform, tmp_path, "admin@flixstack.local")
    admin = httpx.get(
        f"{platform.url}/admin/titles/{us[0]['id']}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    asset = admin["asset"] or next(e["asset"] for e in admin["episodes"].values() if e["asset"])
    cookie = signed_cookies(platform, asset["master_playlist"])
    for edge_url in platform.edge_urls:
        play(f"{edge_url}/{asset['master_playlist']}", min_frames=24, cookie=cookie)
    assert platform.stop(signal.SIGINT) == 0
