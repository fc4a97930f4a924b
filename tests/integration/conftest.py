from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from flixstack.api.app import create_app
from flixstack.aws.clients import AwsClients
from flixstack.local.bootstrap import Bootstrap
from flixstack.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture
def bootstrapped(settings: Settings, clients: AwsClients) -> Settings:
    """A stage whose every spec resource exists at the emulator."""
    Bootstrap(clients, settings.naming).run()
    return settings


@pytest.fixture
def served(bootstrapped: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(bootstrapped), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
