"""Choosing the AWS endpoint for a local run, and starting moto's server when none answers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

import httpx

Source = Literal["env", "existing", "embedded"]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566  # LocalStack's edge port, so either emulator is a drop-in for the other


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: Source

    @property
    def describe(self) -> str:
        return {
            "env": "AWS_ENDPOINT_URL",
            "existing": "an emulator already listening",
            "embedded": "embedded moto server",
        }[self.source]


def answers(url: str, timeout: float = 1.0) -> bool:
    """True if anything speaks HTTP at ``url`` (any status counts: emulators 404 on ``/``)."""
    try:
        httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return False
    return True


def choose(
    env_endpoint: str | None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> Endpoint:
    """``AWS_ENDPOINT_URL`` if set; else a live endpoint on host:port; else the embedded one."""
    if env_endpoint:
        return Endpoint(env_endpoint.rstrip("/"), "env")
    url = f"http://{host}:{port}"
    return Endpoint(url, "existing" if answers(url) else "embedded")


def moto_command(host: str, port: int) -> list[str]:
    """moto's server, under the garbage-collector policy of ``flixstack.local.moto_server``."""
    return [sys.executable, "-m", "flixstack.local.moto_server", "-H", host, "-p", str(port)]
