"""Authentication and the admin group through the HTTP API (no network: the keys are local,
and the AWS endpoint is a closed port)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import AnyHttpUrl

from flixstack.api.app import create_app
from flixstack.api.routers import admin, qoe
from flixstack.auth.identity import Authenticator
from flixstack.auth.tokens import Jwks, TokenVerifier
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.settings import Settings
from tests.unit.auth.conftest import (
    CLI_CLIENT,
    ISSUER,
    JWKS_URL,
    REFUSED,
    TRUSTED_CLIENTS,
    FakeJwks,
    Keyring,
    SigningKey,
    access_claims,
)

Builder = Callable[[Keyring], str | None]

# Nothing listens on port 9: anything that reaches AWS fails at once (one attempt). One test
# client sends every request of a module, so the rate limits are lifted.
SETTINGS = Settings(
    endpoint_url=AnyHttpUrl("http://127.0.0.1:9"),
    max_attempts=1,
    catalog_refresh_s=3600,
    rate_limit_per_s=1e6,
    rate_limit_burst=10**6,
)
SIGNED_IN = (
    "/admin/",
    "/profiles",
    "/playback/",
    "/keys/",
    "/licences/",
    "/events",
)  # every route under these needs a token
UNTESTED_PUBLIC = {"/health"}  # asks AWS about every resource: not a unit test's business


@pytest.fixture(scope="module")
def served(pool_key: SigningKey) -> FakeJwks:
    return FakeJwks([pool_key.jwk()])


@pytest.fixture(scope="module")
def app(served: FakeJwks) -> FastAPI:
    app = create_app(SETTINGS)
    services = app.state.services
    verifier = TokenVerifier(ISSUER, TRUSTED_CLIENTS, Jwks(JWKS_URL, fetch=served))
    app.state.services = dataclasses.replace(
        services, auth=Authenticator.with_verifier(SETTINGS, verifier)
    )
    # The viewer API serves an (empty) installed snapshot and never looks for a newer one.
    services.catalog_cache.install(CatalogSnapshot.build((), 1))
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def admin_token(pool_key: SigningKey) -> str:
    return pool_key.sign(access_claims(groups=["admin"]))


@pytest.fixture(scope="module")
def viewer_token(pool_key: SigningKey) -> str:
    return pool_key.sign(access_claims(client_id=CLI_CLIENT, groups=["viewers"]))


def assert_unauthorized(response: Any, reason: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert isinstance(body["reason"], str)
    assert body["reason"] in ("no_token", "invalid_token")
    if reason is not None:
        assert body["reason"] == reason


# --- the OpenAPI schema's routes -----------------------------------------------------------
def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _dummy(parameter: dict[str, Any], spec: dict[str, Any]) -> str:
    schema = _resolve(parameter.get("schema", {}), spec)
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return "1"
    return f"dummy-{parameter['name'].replace('_', '-')}"


def operations(app: FastAPI, prefix: str, fill: bool = True) -> list[tuple[str, str, bool]]:
    """(method, concrete path, sends a body) for every operation of the schema under prefix."""
    spec = app.openapi()
    found = []
    for template, methods in spec["paths"].items():
        if not template.startswith(prefix):
            continue
        for method, operation in methods.items():
            values = {
                p["name"]: _dummy(p, spec)
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            }
            path = template.format_map(values) if fill else template
            found.append((method.upper(), path, "requestBody" in operation))
    return found


def send(client: TestClient, method: str, path: str, body: bool, **kwargs: Any) -> Any:
    if body:
        kwargs["json"] = {}
    return client.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def admin_operations(app: FastAPI) -> list[tuple[str, str, bool]]:
    found = operations(app, "/admin/")
    # Every route of the admin routers is in the schema (one left out would escape the
    # sweep); the QoE dashboard itself is the web app's (#/admin/qoe), its figures are here.
    declared = {
        (method, route.path)
        for router in (admin.router, qoe.router)
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    assert {(method, path) for method, path, _ in operations(app, "/admin/", fill=False)} == (
        declared
    )
    assert len(found) >= 13
    return found


def test_every_admin_route_is_401_without_a_token(
    client: TestClient, admin_operations: list[tuple[str, str, bool]]
) -> None:
    for method, path, body in admin_operations:
        response = send(client, method, path, body)
        assert response.status_code == 401, (method, path, response.text)
        assert_unauthorized(response, "no_token")


def test_every_admin_route_is_401_with_a_forged_token(
    client: TestClient, admin_operations: list[tuple[str, str, bool]], keys: Keyring
) -> None:
    forged = keys.rogue.sign(access_claims(groups=["admin"]))
    for method, path, body in admin_operations:
        response = send(client, method, path, body, headers=auth(forged))
        assert response.status_code == 401, (method, path, response.text)
        assert_unauthorized(response, "invalid_token")


def test_every_admin_route_is_403_for_a_signed_in_non_admin(
    client: TestClient, admin_operations: list[tuple[str, str, bool]], viewer_token: str
) -> None:
    for method, path, body in admin_operations:
        response = send(client, method, path, body, headers=auth(viewer_token))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["reason"] == "not_admin"
        assert "WWW-Authenticate" not in response.headers


def test_an_admin_token_gets_past_auth(client: TestClient, admin_token: str) -> None:
    response = client.get("/admin/titles", headers=auth(admin_token))
    # Past auth, the route reaches for DynamoDB, which is a closed port.
    assert response.status_code not in (401, 403), response.text
    assert response.status_code == 503
    assert response.json()["reason"] == "unreachable"


def test_an_admin_token_gets_past_auth_on_every_admin_route(
    client: TestClient, admin_operations: list[tuple[str, str, bool]], admin_token: str
) -> None:
    """The control for the 401/403 sweeps: the same requests, with the right token, are
    refused for other reasons (a 422 for the empty body, a 503 for the closed port)."""
    for method, path, body in admin_operations:
        response = send(client, method, path, body, headers=auth(admin_token))
        assert response.status_code not in (401, 403), (method, path, response.text)


def test_every_profile_route_is_401_without_or_with_a_forged_token(
    client: TestClient, app: FastAPI, keys: Keyring
) -> None:
    found = operations(app, "/profiles")
    assert len(found) >= 12
    forged = keys.rogue.sign(access_claims())
    for method, path, body in found:
        assert_unauthorized(send(client, method, path, body), "no_token")
        response = send(client, method, path, body, headers=auth(forged))
        assert_unauthorized(response, "invalid_token")


# --- the matrix, through the API -----------------------------------------------------------
@pytest.mark.parametrize(("build", "reason"), REFUSED)
def test_refused_through_the_api(
    client: TestClient, keys: Keyring, build: Builder, reason: str
) -> None:
    authorization = build(keys)
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_unauthorized(client.get("/admin/titles", headers=headers), reason)


# --- public routes -------------------------------------------------------------------------
def public_operations(app: FastAPI) -> list[tuple[str, str, bool]]:
    return [
        (method, path, body)
        for method, path, body in operations(app, "/")
        if not path.startswith(SIGNED_IN) and path not in UNTESTED_PUBLIC
    ]


def test_public_routes_need_no_token(client: TestClient, app: FastAPI) -> None:
    found = public_operations(app)
    assert {path for _, path, _ in found} >= {"/titles", "/search"}
    for method, path, body in found:
        params = {"q": "heart"} if path == "/search" else None
        response = send(client, method, path, body, params=params)
        assert response.status_code not in (401, 403), (method, path, response.text)
        assert "WWW-Authenticate" not in response.headers
    assert client.get("/titles").status_code == 200
    assert client.get("/search", params={"q": "heart"}).status_code == 200


def test_public_routes_ignore_a_bad_token(client: TestClient) -> None:
    response = client.get("/titles", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200


def test_the_real_authenticator_refuses_a_missing_token_before_looking_up_the_pool() -> None:
    """Without a token there is nothing to verify: 401, not a 503 from the (closed) AWS."""
    with TestClient(create_app(SETTINGS)) as client:
        assert_unauthorized(client.get("/admin/titles"), "no_token")
