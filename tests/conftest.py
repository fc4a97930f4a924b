"""Shared fixtures: a moto server per test session, and unique names per test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from flixstack.local import emulator
from flixstack.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"


_HANDED_OUT: set[int] = set()
T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 20) -> T:
    """``read()`` again until ``done`` says yes or ``timeout`` seconds pass; the last value
    (the caller's assert then shows it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def free_port() -> int:
    """A loopback port free right now and never handed out before in this test run.

    The kernel may give the same ephemeral port to two binds in a row once the first
    socket is closed, so a test asking for two ports could get one port twice.
    """
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's AWS profile, region or endpoint by accident."""
    for var in list(os.environ):
        if var.startswith(("AWS_", "FLIXSTACK_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server on a free port for the whole session."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("emulator") / "moto.log").open("wb")
    process = subprocess.Popen(
        emulator.moto_command("127.0.0.1", port), stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while not emulator.answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"moto server did not start; see {log.name}")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def stage() -> str:
    """A stage name no other test uses, so resources never collide."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(emulator_url: str, stage: str) -> Settings:
    return Settings(stage=stage, endpoint_url=emulator_url, region="us-east-1")
