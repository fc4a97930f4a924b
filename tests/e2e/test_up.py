"""`flixstack up` / `make up` as a user runs them: healthy, then nothing left listening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest

from flixstack import spec
from flixstack.local import emulator
from tests.conftest import ROOT
from tests.e2e.conftest import FLIXSTACK, Platform, listening, start_platform, wait_until_closed

pytestmark = pytest.mark.e2e


def up_command(api_port: int, emulator_port: int, tmp_path: Path) -> list[str]:
    return [
        FLIXSTACK, "up",
        "--port", str(api_port),
        "--emulator-port", str(emulator_port),
        "--state-dir", str(tmp_path / "state"),
    ]  # fmt: skip


def assert_all_present(health: dict[str, object], emulator_port: int) -> None:
    assert health["endpoint"] == f"http://127.0.0.1:{emulator_port}"
    assert health["all_present"] is True
    resources = health["resources"]
    assert isinstance(resources, list)
    assert len(resources) == spec.resource_count()


def test_up_starts_the_emulator_serves_and_stops_everything_on_sigint(
    tmp_path: Path, ports: tuple[int, int], platform_factory: list[Platform]
) -> None:
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path), tmp_path, api_port, emulator_port
    )
    platform_factory.append(platform)

    health = platform.wait_healthy()
    assert_all_present(health, emulator_port)
    assert httpx.get(f"{platform.url}/docs").status_code == 200
    assert httpx.get(f"{platform.url}/titles").json() == {"items": [], "next_cursor": None}
    printed = platform.log.read_text()
    assert f"{platform.url}/docs" in printed
    assert "embedded moto server" in printed

    assert platform.stop(signal.SIGINT) == 0
    assert wait_until_closed(api_port)
    assert wait_until_closed(emulator_port)


def test_up_twice_against_an_emulator_that_keeps_running(
    tmp_path: Path, ports: tuple[int, int], platform_factory: list[Platform]
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
                up_command(api_port, emulator_port, tmp_path), tmp_path, api_port, emulator_port
            )
            platform_factory.append(platform)
            assert_all_present(platform.wait_healthy(), emulator_port)
            printed = platform.log.read_text()
            assert "an emulator already listening" in printed
            if run == 2:
                assert "0 created" in printed
            assert platform.stop(signal.SIGTERM) == 0
            assert wait_until_closed(api_port)
            # an emulator flixstack did not start is not flixstack's to stop
            assert listening(emulator_port)
    finally:
        moto.terminate()
        moto.wait()


def test_children_exit_when_up_is_killed_outright(
    tmp_path: Path, ports: tuple[int, int], platform_factory: list[Platform]
) -> None:
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path), tmp_path, api_port, emulator_port
    )
    platform_factory.append(platform)
    platform.wait_healthy()
    # SIGKILL gives flixstack up no chance to clean up; the kernel tells its children.
    os.kill(platform.process.pid, signal.SIGKILL)
    platform.process.wait()
    assert wait_until_closed(api_port)
    assert wait_until_closed(emulator_port)


def test_make_up_stops_everything_when_make_is_interrupted(
    tmp_path: Path, ports: tuple[int, int], platform_factory: list[Platform]
) -> None:
    api_port, emulator_port = ports
    args = f"--port {api_port} --emulator-port {emulator_port} --state-dir {tmp_path / 'state'}"
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
    assert wait_until_closed(api_port, timeout=30)
    assert wait_until_closed(emulator_port, timeout=30)


def test_ingest_through_the_running_platform_and_play_both_manifests(
    tmp_path: Path, ports: tuple[int, int], platform_factory: list[Platform]
) -> None:
    """The user's path: `flixstack up`, `flixstack sample-video`, `flixstack ingest --wait
    --json`; then a player (ffmpeg) reads the HLS master and the DASH MPD through the local
    edge over HTTP and decodes every frame of the top rendition."""
    api_port, emulator_port = ports
    platform = start_platform(
        up_command(api_port, emulator_port, tmp_path), tmp_path, api_port, emulator_port
    )
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
         "--ladder", "fixed", "--wait", "--json", "--api", platform.url],
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
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for manifest in (result["master_playlist_url"], result["dash_manifest_url"]):
        assert manifest.startswith(f"{platform.url}/media/")
        played = subprocess.run(
            [
                ffmpeg,
                "-hide_banner",
                "-nostdin",
                "-i",
                manifest,
                "-map",
                "0:v:0",
                "-f",
                "null",
                "-",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert played.returncode == 0, played.stderr[-2000:]
        frames = [line for line in played.stderr.splitlines() if "frame=" in line]
        assert frames, played.stderr[-2000:]
        assert int(frames[-1].split("frame=")[1].split()[0]) >= 5 * 24  # 5 s of video
    assert platform.stop(signal.SIGINT) == 0
