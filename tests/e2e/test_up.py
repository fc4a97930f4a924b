"""`flixstack up` / `make up` as a user runs them: healthy, then nothing left listening."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
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
