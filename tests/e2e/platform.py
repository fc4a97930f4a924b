"""The local platform as the end-to-end tests start it: ``flixstack up`` in its own process
group, its ports, its log, and signing in as one of the demo users it prints."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import ROOT

FLIXSTACK = str(Path(sys.executable).parent / "flixstack")
FLIXSTACK = str(Path(sys.executable).parent / "flixstack")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until_closed(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while listening(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Platform:
    process: subprocess.Popen[str]
    api_port: int
    emulator_port: int
    log: Path
    edge_ports: tuple[int, int] = (0, 0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def edge_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.edge_ports]

    def wait_healthy(self, timeout: float = 240.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"flixstack up exited {self.process.returncode}:\n{self.log.read_text()}"
                )
            try:
                response = httpx.get(f"{self.url}/health", timeout=5)
                if response.status_code == 200:
                    return dict(response.json())
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"no healthy API after {timeout}s:\n{self.log.read_text()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        os.kill(self.process.pid, sig)
        return self.process.wait(timeout=timeout)


def _terminal_signals() -> None:
    """Default SIGINT/SIGQUIT, as in a terminal. A background job of a non-interactive shell
    (how CI may run us) inherits them ignored, and make would then ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def start_platform(
    argv: list[str],
    tmp_path: Path,
    api_port: int,
    emulator_port: int,
    env: dict[str, str] | None = None,
    edge_ports: tuple[int, int] = (0, 0),
) -> Platform:
    log = tmp_path / f"up-{api_port}-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # signals in tests reach only the process we aim at
        preexec_fn=_terminal_signals,
    )
    return Platform(process, api_port, emulator_port, log, edge_ports)


def up_command(
    api_port: int,
    emulator_port: int,
    tmp_path: Path,
    edge_ports: tuple[int, int],
    seed: bool | int = False,
) -> list[str]:
    """``flixstack up`` on these ports; without ``seed``, with an empty catalog (faster);
    with a number, that many seeded titles."""
    return [
        FLIXSTACK, "up",
        "--port", str(api_port),
        "--emulator-port", str(emulator_port),
        "--edge-ports", ",".join(map(str, edge_ports)),
        "--state-dir", str(tmp_path / "state"),
        *([] if seed is True else ["--seed-titles", str(int(seed))]),
    ]  # fmt: skip


def sign_in(platform: Platform, tmp_path: Path, user: str) -> str:
    """`flixstack login` as a user would, with the password `up` printed."""
    printed = platform.log.read_text()
    password = printed.split(user, 1)[1].split("password", 1)[1].split()[0]
    login = subprocess.run(
        [FLIXSTACK, "login", "--user", user, "--password", password, "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{platform.emulator_port}"},
        timeout=60,
    )
    assert login.returncode == 0, login.stderr
    tokens = json.loads(login.stdout)
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "expires_in"}
    return str(tokens["access_token"])
