from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.e2e
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


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
def edge_ports() -> tuple[int, int]:
    """Free ports for `up`'s two edges (its default, the API's +1 and +2, may be taken)."""
    return free_port(), free_port()


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for platform in started:
        if platform.process.poll() is None:
            os.killpg(platform.process.pid, signal.SIGKILL)
            platform.process.wait()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keeps each phase's report on the test item (``rep_call``), so fixtures can tell a
    failed test from a passed one (and take a screenshot)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
