"""Smoke tests of a deployed stack, through its public endpoints.

``python infra/ephemeral.py test --outputs outputs.json`` runs them after ``up``, with the
stack's outputs in the environment (``FLIXSTACK_API_URL``, ``FLIXSTACK_WEBAPP_URL``,
``FLIXSTACK_STAGE``, ``FLIXSTACK_REGION``, ``FLIXSTACK_USER_POOL_ID`` and
``FLIXSTACK_CLI_CLIENT_ID``: ``OUTPUT_ENV`` in infra/ephemeral.py) and the deployer's AWS
credentials, which create and delete one throwaway Cognito user.

They are skipped when ``FLIXSTACK_API_URL`` is not set, and only then: that is every local
run (``make test``), where nothing is deployed; tests/integration covers the same routes
against the emulator. With ``FLIXSTACK_API_URL`` set, a missing other variable fails.
"""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from flixstack import spec
from flixstack.auth.identity import Pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.local.users import ensure_user, new_password
from flixstack.settings import Settings
from tests.deployed.conftest import required

# Read at import: tests/conftest.py's autouse fixture clears FLIXSTACK_* outside this folder.
API_URL = os.environ.get("FLIXSTACK_API_URL", "")
pytestmark = pytest.mark.skipif(
    not API_URL, reason="FLIXSTACK_API_URL is not set: no deployed stack to test (a local run)"
)


def test_health_names_this_stack_and_finds_every_resource(
    api: httpx.Client, settings: Settings
) -> None:
    response = api.get("/health")
    assert response.status_code == 200, response.text
    health = response.json()
    assert (health["stage"], health["region"]) == (settings.stage, settings.region)
    missing = [r["name"] for r in health["resources"] if not r["present"]]
    assert health["all_present"] is True, missing


def test_search_answers_from_the_catalog(api: httpx.Client) -> None:
    response = api.get("/search", params={"q": "a"})
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)
    assert all("id" in card and "name" in card for card in response.json())
    assert api.get("/search").status_code == 422  # q is required


def test_profiles_need_a_token(api: httpx.Client) -> None:
    assert api.get("/profiles").status_code == 401


def test_a_new_account_signs_in_and_keeps_a_profile(
    api: httpx.Client, clients: AwsClients, pool: Pool
) -> None:
    """GIVEN a new user of the stack's pool, WHEN it signs in through the CLI app client,
    THEN its token opens its (empty) profiles, and a profile it adds is there to read."""
    username = f"ci-{uuid.uuid4().hex[:12]}@test.flixstack"
    password = new_password()
    ensure_user(clients, pool, username, password)
    try:
        token = sign_in(clients, pool, username, password).access_token
        auth = {"Authorization": f"Bearer {token}"}
        assert api.get("/profiles", headers=auth).json() == []
        created = api.post("/profiles", headers=auth, json={"name": "CI"})
        assert created.status_code == 201, created.text
        listed = api.get("/profiles", headers=auth)
        assert [p["id"] for p in listed.json()] == [created.json()["id"]]
    finally:
        clients.cognito.admin_delete_user(UserPoolId=pool.pool_id, Username=username)


def test_the_web_app_is_served_and_calls_this_api() -> None:
    app_url = required("FLIXSTACK_WEBAPP_URL")
    with httpx.Client(timeout=30, follow_redirects=True) as web:
        page = web.get(app_url)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        config = web.get(httpx.URL(app_url).join(spec.WEBAPP_CONFIG))
        assert config.status_code == 200, config.text
        assert config.json()["api_base"] == API_URL.rstrip("/")
