from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import jwt
import pytest
import uvicorn

from flixstack import spec
from flixstack.api.app import create_app
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.local.bootstrap import Bootstrap
from flixstack.local.users import ensure_user
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


TEST_PASSWORD = "Test-Passw0rd-Only"
ADMIN = "admin@test.flixstack"


def access_token(
    settings: Settings, clients: AwsClients, username: str, groups: tuple[str, ...] = ()
) -> str:
    """A real access token from the emulator's Cognito for this user (created if new)."""
    pool = find_pool(settings, clients)
    ensure_user(clients, pool, username, TEST_PASSWORD, groups)
    return sign_in(clients, pool, username, TEST_PASSWORD).access_token


def subject(token: str) -> str:
    """The account id a token names (unverified: the test just signed it in)."""
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


@pytest.fixture
def admin_token(bootstrapped: Settings, clients: AwsClients) -> str:
    return access_token(bootstrapped, clients, ADMIN, (spec.ADMIN_GROUP,))


@pytest.fixture
def admin_headers(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}
