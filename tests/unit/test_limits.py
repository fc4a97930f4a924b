"""Rate limits (per source IP, per account) and body-size limits, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pydantic import AnyHttpUrl

from flixstack.api.app import create_app
from flixstack.auth.identity import Authenticator
from flixstack.auth.ratelimit import RateLimiter
from flixstack.auth.tokens import Principal
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import TooManyRequests, Unauthorized
from flixstack.settings import Settings

NOWHERE = AnyHttpUrl("http://127.0.0.1:9")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)  # one token back in 1/2 s
    assert limiter.take("b") == 0.0  # keys are independent
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 60
    assert [limiter.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # never above burst


def test_check_raises_with_the_wait() -> None:
    limiter = RateLimiter(rate_per_s=0.5, burst=1, clock=Clock())
    limiter.check("k", "account")
    with pytest.raises(TooManyRequests) as raised:
        limiter.check("k", "account")
    assert raised.value.retry_after_s == pytest.approx(2.0)
    assert raised.value.reason == "rate_limited"


def test_the_bucket_table_is_bounded() -> None:
    limiter = RateLimiter(rate_per_s=1, burst=1, max_keys=2, clock=Clock())
    for key in ("a", "b", "c"):
        limiter.take(key)
    assert limiter.take("a") == 0.0  # forgotten, so full again
    assert limiter.take("c") > 0


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        RateLimiter(rate_per_s=0, burst=1)


def client(**settings: object) -> TestClient:
    """The API with an empty catalog installed (nothing is reachable behind it)."""
    app = create_app(Settings(endpoint_url=NOWHERE, max_attempts=1, **settings))  # type: ignore[arg-type]
    app.state.services.catalog_cache.install(CatalogSnapshot.build((), 1))
    return TestClient(app)


def test_an_unreachable_backend_is_a_503_not_a_crash() -> None:
    app = create_app(Settings(endpoint_url=NOWHERE, max_attempts=1))
    response = TestClient(app).get("/titles")
    assert (response.status_code, response.json()["reason"]) == (503, "unreachable")
    assert response.headers["Retry-After"] == "5"


def test_a_burst_from_one_address_gets_429_with_retry_after() -> None:
    api = client(rate_limit_per_s=1, rate_limit_burst=5)
    statuses = [api.get("/titles").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    refused = api.get("/titles")
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["reason"] == "rate_limited"


class FixedVerifier:
    """Every token names the account it spells (no signature: auth is tested elsewhere)."""

    def verify(self, token: str) -> Principal:
        if not token.startswith("account-"):
            raise Unauthorized("bad token", reason="invalid_token")
        return Principal(token, token, frozenset({"admin"}), "client")


@pytest.fixture
def accounts() -> Iterator[TestClient]:
    settings = Settings(
        endpoint_url=NOWHERE, max_attempts=1, rate_limit_per_s=1000, rate_limit_burst=1000
    )
    app = create_app(settings)
    app.state.services = replace(
        app.state.services,
        auth=Authenticator.with_verifier(settings, FixedVerifier()),  # type: ignore[arg-type]
        account_limits=RateLimiter(rate_per_s=1, burst=2),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_each_account_has_its_own_bucket(accounts: TestClient) -> None:
    def status(account: str) -> int:
        headers = {"Authorization": f"Bearer {account}"}
        return accounts.get("/admin/jobs/none", headers=headers).status_code

    first = [status("account-a") for _ in range(3)]
    assert first[:2] != [429, 429]
    assert first[2] == 429
    assert status("account-b") != 429  # another account is unaffected


def test_bodies_over_the_limit_get_413_before_anything_else() -> None:
    api = client(max_body_bytes=4096)
    big = api.post(
        "/admin/titles", content=b"x" * 5000, headers={"content-type": "application/json"}
    )
    assert (big.status_code, big.json()["reason"]) == (413, "body_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"y" * 1000

    streamed = api.post(
        "/admin/titles", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    small = api.post("/admin/titles", content=b"{}", headers={"content-type": "application/json"})
    assert small.status_code == 401  # within the limit: on to authentication


def test_page_sizes_beyond_the_maximum_are_422() -> None:
    api = client()
    assert api.get("/titles", params={"limit": 101}).status_code == 422
    assert api.get("/search", params={"q": "x", "limit": 0}).status_code == 422
