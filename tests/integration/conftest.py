from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI

from flixstack import spec
from flixstack.api.app import create_app
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.models import Licence
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.local.bootstrap import Bootstrap
from flixstack.local.users import ensure_user
from flixstack.settings import CdnEndpoint, Settings
from tests.conftest import free_port
from tests.unit.catalog.conftest import title
from tests.unit.viewers.conftest import asset, playable_series

pytestmark = pytest.mark.integration

EVER = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture
def clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture
def bootstrapped(settings: Settings, clients: AwsClients) -> Settings:
    """A stage whose every spec resource exists at the emulator."""
    Bootstrap(clients, settings.naming).run()
    return settings


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a free port, in a thread; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(bootstrapped: Settings) -> Iterator[str]:
    with serving(create_app(bootstrapped)) as url:
        yield url


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


# --- a catalog viewers watch, and their devices (profiles, BOLA) --------------------------------------------------------------------
def licensed(title_id: str, territory: str = "US", **fields: Any) -> dict[str, Any]:
    """Title factory arguments: names in en and fr, licensed in ``territory`` for good."""
    return {
        "names": {"en": f"{title_id} (en)", "fr": f"{title_id} (fr)"},
        "licences": [Licence(territory=territory, start=EVER[0], end=EVER[1])],
        **fields,
    }


@pytest.fixture
def catalog(bootstrapped: Settings, clients: AwsClients) -> None:
    """Published titles in the default territory (US), one only abroad (GB), then the
    snapshot the API reads (as tests/integration/test_api.py seeds it)."""
    assert bootstrapped.default_territory == "US"
    repository = DynamoCatalogRepository(bootstrapped.naming.table(spec.CATALOG), clients.dynamodb)
    for doc in [
        *(
            title(
                f"movie-{n}", **licensed(f"movie-{n}", maturity_rating="PG-13", asset=asset(6000))
            )
            for n in "abcdefg"
        ),
        title("kids-movie", **licensed("kids-movie", maturity_rating="TV-Y7", asset=asset(3000))),
        title("mature", **licensed("mature", maturity_rating="R", asset=asset(6000))),
        title("abroad", **licensed("abroad", "GB", maturity_rating="PG", asset=asset(6000))),
        # s1e1, s1e2 | s2e1, all playable (episode n's media lasts 1500 + n s)
        playable_series("show", {1: 2, 2: 1}, **licensed("show", maturity_rating="TV-PG")),
    ]:
        repository.create(doc)
    snapshots = S3SnapshotStore(repository, artifacts(bootstrapped, clients))
    CatalogPublisher(repository, snapshots).rebuild()


CDNS = [
    CdnEndpoint.model_validate({"name": name, "base_url": f"http://{name}.invalid"})
    for name in ("cdn-a", "cdn-b")
]


def viewer_app(settings: Settings) -> FastAPI:
    """The API (rate limits raised: these tests send many requests from one address and
    account), offering two CDNs (nothing is served there: playback only names them)."""
    settings = settings.model_copy(
        update={
            "rate_limit_per_s": 10_000.0,
            "rate_limit_burst": 10_000,
            "cdns": CDNS,
            "api_base_url": "http://api.invalid",
        }
    )
    return create_app(settings)


@pytest.fixture
def base_url(bootstrapped: Settings, catalog: None) -> Iterator[str]:
    with serving(viewer_app(bootstrapped)) as url:
        yield url


Device = Callable[[str], httpx.Client]


@pytest.fixture
def device(base_url: str, bootstrapped: Settings, clients: AwsClients) -> Iterator[Device]:
    """A signed-in device of an account (a Cognito user, created if new): each call signs
    the user in again, so two calls are two devices with two tokens of one account."""
    opened: list[httpx.Client] = []

    def sign_in(username: str) -> httpx.Client:
        token = access_token(bootstrapped, clients, f"{username}@test.flixstack")
        client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        opened.append(client)
        return client

    yield sign_in
    for client in opened:
        client.close()
