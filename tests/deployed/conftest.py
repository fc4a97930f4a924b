"""Fixtures of the deployed-stack tests (see test_smoke.py for when they run)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from flixstack import spec
from flixstack.auth.identity import Pool
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings


@pytest.fixture(autouse=True)
def _isolated_aws_env() -> None:
    """Replaces tests/conftest.py's fixture of that name, which clears ``AWS_*`` and
    ``FLIXSTACK_*``: these tests reach a deployed stack with the environment's credentials
    (CI's OIDC role; LocalStack's with ``AWS_ENDPOINT_URL``) and the stack's outputs."""


def required(name: str) -> str:
    """An environment variable ``python infra/ephemeral.py test`` sets from the stack outputs."""
    value = os.environ.get(name, "")
    assert value, f"{name} is not set: `python infra/ephemeral.py test` sets it from the outputs"
    return value


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    """A client of the deployed API (a cold Lambda may take seconds to answer first)."""
    with httpx.Client(base_url=required("FLIXSTACK_API_URL"), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def settings() -> Settings:
    """The deployed API's own settings, as far as these tests need them: stage, region and
    user pool from the outputs, the endpoint from ``AWS_ENDPOINT_URL`` (LocalStack)."""
    for name in ("FLIXSTACK_STAGE", "FLIXSTACK_REGION", "FLIXSTACK_USER_POOL_ID"):
        required(name)
    return Settings()


@pytest.fixture(scope="module")
def clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture(scope="module")
def pool(settings: Settings) -> Pool:
    """The stack's user pool with the app client `flixstack login` signs in through."""
    assert settings.user_pool_id
    clients = {spec.USER_POOL.cli_client: required("FLIXSTACK_CLI_CLIENT_ID")}
    return Pool(settings.user_pool_id, settings.region, clients, settings.endpoint)
