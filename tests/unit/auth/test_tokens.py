"""Token verification without a network: a local RSA key pair served as the pool's JWKS."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from flixstack.auth.tokens import Jwks, Principal, TokenVerifier, bearer
from flixstack.errors import Forbidden, ServiceUnavailable, Unauthorized
from tests.unit.auth.conftest import (
    CLI_CLIENT,
    ISSUER,
    JWKS_URL,
    REFUSED,
    SUBJECT,
    TRUSTED_CLIENTS,
    USERNAME,
    WEB_CLIENT,
    FakeClock,
    FakeJwks,
    Keyring,
    SigningKey,
    access_claims,
    new_key,
)

Builder = Callable[[Keyring], str | None]


def authenticate(verifier: TokenVerifier, authorization: str | None) -> Principal:
    """What the API does with an Authorization header (Authenticator.principal)."""
    return verifier.verify(bearer(authorization))


# --- the matrix ----------------------------------------------------------------------------
@pytest.mark.parametrize(("build", "reason"), REFUSED)
def test_refused(verifier: TokenVerifier, keys: Keyring, build: Builder, reason: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        authenticate(verifier, build(keys))
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(REFUSED[0].values[0], id="alg-none"),
        pytest.param(REFUSED[2].values[0], id="hs256-keyed-with-public-pem"),
    ],
)
def test_forbidden_algorithms_are_refused_before_any_key_is_read(
    verifier: TokenVerifier, served: FakeJwks, keys: Keyring, build: Builder
) -> None:
    with pytest.raises(Unauthorized):
        authenticate(verifier, build(keys))
    assert served.fetches == 0


def test_the_matrix_ids_are_the_cases_the_brief_lists() -> None:
    names = {param.id for param in REFUSED}
    assert {
        "alg-none",
        "hs256-keyed-with-public-pem",
        "expired",
        "not-yet-valid",
        "wrong-issuer",
        "wrong-client-id",
        "id-token",
        "unknown-kid",
        "tampered-payload",
        "other-key-same-kid",
        "missing-exp",
        "garbage",
        "empty-bearer",
        "basic-scheme",
        "no-authorization-header",
    } <= names


# --- valid tokens --------------------------------------------------------------------------
def test_a_valid_access_token_yields_its_principal(
    verifier: TokenVerifier, pool_key: SigningKey
) -> None:
    token = pool_key.sign(access_claims(groups=["admin", "editors"]))
    principal = authenticate(verifier, f"Bearer {token}")
    assert principal == Principal(
        subject=SUBJECT,
        username=USERNAME,
        groups=frozenset({"admin", "editors"}),
        client_id=WEB_CLIENT,
    )
    assert principal.is_admin
    assert principal.require_admin() is principal


@pytest.mark.parametrize("client_id", TRUSTED_CLIENTS, ids=["web-client", "cli-client"])
def test_either_trusted_client_is_accepted(
    verifier: TokenVerifier, pool_key: SigningKey, client_id: str
) -> None:
    principal = verifier.verify(pool_key.sign(access_claims(client_id=client_id)))
    assert principal.client_id == client_id


def test_the_bearer_scheme_is_case_insensitive_and_spaces_are_trimmed(
    verifier: TokenVerifier, pool_key: SigningKey
) -> None:
    token = pool_key.sign(access_claims())
    assert authenticate(verifier, f"bearer   {token} ").subject == SUBJECT


def test_a_user_without_groups_is_signed_in_but_not_admin(
    verifier: TokenVerifier, pool_key: SigningKey
) -> None:
    principal = verifier.verify(pool_key.sign(access_claims(client_id=CLI_CLIENT)))
    assert principal.groups == frozenset()
    assert not principal.is_admin
    with pytest.raises(Forbidden) as refused:
        principal.require_admin()
    assert refused.value.reason == "not_admin"


def test_other_groups_do_not_make_an_admin(verifier: TokenVerifier, pool_key: SigningKey) -> None:
    token = pool_key.sign(access_claims(groups=["Admin", "admins", "editors"]))
    assert not verifier.verify(token).is_admin


def test_username_falls_back_to_the_subject(verifier: TokenVerifier, pool_key: SigningKey) -> None:
    principal = verifier.verify(pool_key.sign(access_claims(username=None)))
    assert principal.username == SUBJECT


def test_an_untrusted_client_id_set_refuses_the_same_token(
    jwks: Jwks, pool_key: SigningKey
) -> None:
    """The client check is real: the token accepted above fails for a verifier trusting one
    other client only."""
    only_cli = TokenVerifier(ISSUER, [CLI_CLIENT], jwks)
    with pytest.raises(Unauthorized):
        only_cli.verify(pool_key.sign(access_claims(client_id=WEB_CLIENT)))


def test_leeway_admits_a_token_just_expired(jwks: Jwks, pool_key: SigningKey) -> None:
    now = int(time.time())
    token = pool_key.sign(access_claims(iat=now - 3600, exp=now - 5))
    with pytest.raises(Unauthorized):
        TokenVerifier(ISSUER, TRUSTED_CLIENTS, jwks).verify(token)
    assert TokenVerifier(ISSUER, TRUSTED_CLIENTS, jwks, leeway_s=60).verify(token)


# --- the JWKS cache ------------------------------------------------------------------------
def test_keys_are_fetched_lazily_and_once(
    verifier: TokenVerifier, served: FakeJwks, pool_key: SigningKey
) -> None:
    assert served.fetches == 0
    for n in range(25):
        verifier.verify(pool_key.sign(access_claims(jti=f"t{n}")))
    assert served.urls == [JWKS_URL]


def test_an_unknown_kid_refetches_once_and_a_rotated_key_is_then_accepted(
    verifier: TokenVerifier,
    served: FakeJwks,
    clock: FakeClock,
    pool_key: SigningKey,
    rotated_key: SigningKey,
) -> None:
    verifier.verify(pool_key.sign(access_claims()))
    assert served.fetches == 1
    clock.advance(31)
    served.keys.append(rotated_key.jwk())  # the pool rotates a new key in

    principal = verifier.verify(rotated_key.sign(access_claims(groups=["admin"])))
    assert principal.is_admin
    assert served.fetches == 2
    for _ in range(5):  # both keys are cached now
        verifier.verify(rotated_key.sign(access_claims()))
        verifier.verify(pool_key.sign(access_claims()))
    assert served.fetches == 2


def test_a_key_rotated_in_on_the_first_fetch_needs_no_refetch(
    verifier: TokenVerifier, served: FakeJwks, rotated_key: SigningKey
) -> None:
    served.keys.append(rotated_key.jwk())
    verifier.verify(rotated_key.sign(access_claims()))
    assert served.fetches == 1


def test_a_storm_of_unknown_kids_refetches_at_most_every_refresh_min_s(
    verifier: TokenVerifier, served: FakeJwks, clock: FakeClock, pool_key: SigningKey
) -> None:
    verifier.verify(pool_key.sign(access_claims()))
    assert served.fetches == 1

    def unknown() -> None:
        stranger = SigningKey(f"kid-{uuid.uuid4().hex}", pool_key.private)
        with pytest.raises(Unauthorized):
            verifier.verify(stranger.sign(access_claims()))

    for _ in range(50):  # within refresh_min_s of the first fetch: no refetch at all
        unknown()
    assert served.fetches == 1

    clock.advance(30)  # refresh_min_s since the last fetch: one refetch, then quiet again
    for _ in range(50):
        unknown()
    assert served.fetches == 2

    clock.advance(29.9)
    for _ in range(20):
        unknown()
    assert served.fetches == 2

    clock.advance(0.2)
    unknown()
    assert served.fetches == 3
    verifier.verify(pool_key.sign(access_claims()))  # known keys kept working throughout
    assert served.fetches == 3


def test_an_unknown_kid_on_the_first_request_fetches_once(
    verifier: TokenVerifier, served: FakeJwks, rotated_key: SigningKey, pool_key: SigningKey
) -> None:
    for _ in range(10):
        with pytest.raises(Unauthorized):
            verifier.verify(rotated_key.sign(access_claims()))
    assert served.fetches == 1
    verifier.verify(pool_key.sign(access_claims()))
    assert served.fetches == 1


def test_a_key_dropped_from_the_jwks_is_refused_after_a_refetch(
    verifier: TokenVerifier,
    served: FakeJwks,
    clock: FakeClock,
    pool_key: SigningKey,
    rotated_key: SigningKey,
) -> None:
    verifier.verify(pool_key.sign(access_claims()))
    served.keys = [rotated_key.jwk()]  # the old key is retired
    clock.advance(31)
    verifier.verify(rotated_key.sign(access_claims()))  # refetch: the cache is replaced
    with pytest.raises(Unauthorized):
        verifier.verify(pool_key.sign(access_claims()))


def test_unusable_and_encryption_keys_in_the_jwks_are_skipped(
    served: FakeJwks, clock: FakeClock, pool_key: SigningKey
) -> None:
    enc_key = new_key("enc-key")
    served.keys = [
        {"kty": "XYZ", "kid": "weird"},
        {"kid": "no-kty"},
        enc_key.jwk(use="enc"),
        pool_key.jwk(),
    ]
    verifier = TokenVerifier(ISSUER, TRUSTED_CLIENTS, Jwks(JWKS_URL, fetch=served, clock=clock))
    assert verifier.verify(pool_key.sign(access_claims())).subject == SUBJECT
    with pytest.raises(Unauthorized):
        verifier.verify(enc_key.sign(access_claims()))


def test_an_unreachable_jwks_is_a_503_not_a_401(pool_key: SigningKey) -> None:
    def down(url: str) -> dict[str, object]:
        raise ServiceUnavailable(f"cannot read the signing keys at {url}")

    verifier = TokenVerifier(ISSUER, TRUSTED_CLIENTS, Jwks(JWKS_URL, fetch=down))
    with pytest.raises(ServiceUnavailable):
        verifier.verify(pool_key.sign(access_claims()))


def test_decode_never_uses_a_key_of_another_algorithm(
    verifier: TokenVerifier, pool_key: SigningKey
) -> None:
    """RS512 is a fine algorithm, but not the one pinned: refused too."""
    token = jwt.encode(access_claims(), pool_key.private, "RS512", headers={"kid": pool_key.kid})
    with pytest.raises(Unauthorized):
        verifier.verify(token)


class FlakyJwks(FakeJwks):
    """Serves the keys once, then is down (raises as ``fetch_json`` does)."""

    def __call__(self, url: str) -> dict[str, Any]:
        body = super().__call__(url)
        if self.fetches > 1:
            raise ServiceUnavailable(f"cannot read the signing keys at {url}")
        return body


def test_a_failing_refetch_still_counts_against_refresh_min_s(
    clock: FakeClock, pool_key: SigningKey
) -> None:
    served = FlakyJwks([pool_key.jwk()])
    verifier = TokenVerifier(
        ISSUER, TRUSTED_CLIENTS, Jwks(JWKS_URL, fetch=served, refresh_min_s=30, clock=clock)
    )
    verifier.verify(pool_key.sign(access_claims()))
    clock.advance(31)
    for n in range(20):
        stranger = SigningKey(f"unknown-{n}", pool_key.private)
        with pytest.raises((Unauthorized, ServiceUnavailable)):
            verifier.verify(stranger.sign(access_claims()))
    assert served.fetches == 2  # the first load, and one refetch for the whole storm
    verifier.verify(pool_key.sign(access_claims()))  # the cached key still works
