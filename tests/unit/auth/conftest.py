"""Local signing keys, a JWKS served by a counting fake ``fetch``, and a token minter.

Nothing here touches the network: the verifier reads its keys through :class:`FakeJwks`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flixstack.auth.tokens import Jwks, TokenVerifier

POOL_ID = "us-east-1_AuthTest1"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL_ID}"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
WEB_CLIENT = "webclient0000000000000000a"
CLI_CLIENT = "cliclient0000000000000000b"
TRUSTED_CLIENTS = (WEB_CLIENT, CLI_CLIENT)
SUBJECT = "4f1e9b2c-0000-4000-8000-00000000cafe"
USERNAME = "ada"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self, **extra: Any) -> dict[str, Any]:
        data = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "alg": "RS256", "use": "sig", **extra}

    def sign(self, claims: Mapping[str, Any], **headers: Any) -> str:
        return jwt.encode(
            dict(claims), self.private, algorithm="RS256", headers={"kid": self.kid, **headers}
        )


def new_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class FakeJwks:
    """The pool's ``jwks.json``: what it serves can change (a rotation); fetches are counted."""

    keys: list[dict[str, Any]]
    urls: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        return {"keys": [dict(key) for key in self.keys]}

    @property
    def fetches(self) -> int:
        return len(self.urls)


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def access_claims(
    *, client_id: str = WEB_CLIENT, groups: Iterable[str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """The claims of a Cognito access token, valid for the next hour."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": SUBJECT,
        "iss": ISSUER,
        "client_id": client_id,
        "origin_jti": "6a1d7f3e-0000-4000-8000-000000000001",
        "event_id": "6a1d7f3e-0000-4000-8000-000000000002",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
        "jti": "6a1d7f3e-0000-4000-8000-000000000003",
        "username": USERNAME,
    }
    if groups is not None:
        claims["cognito:groups"] = list(groups)
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# RSA key generation is the slow part: once per session.
@pytest.fixture(scope="session")
def pool_key() -> SigningKey:
    return new_key("pool-key-1")


@pytest.fixture(scope="session")
def rotated_key() -> SigningKey:
    return new_key("pool-key-2")


@pytest.fixture(scope="session")
def rogue_key(pool_key: SigningKey) -> SigningKey:
    """Another key pair that claims the pool key's kid."""
    return new_key(pool_key.kid)


@pytest.fixture
def served(pool_key: SigningKey) -> FakeJwks:
    return FakeJwks([pool_key.jwk()])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks(served: FakeJwks, clock: FakeClock) -> Jwks:
    return Jwks(JWKS_URL, fetch=served, refresh_min_s=30.0, clock=clock)


@pytest.fixture
def verifier(jwks: Jwks) -> TokenVerifier:
    return TokenVerifier(ISSUER, TRUSTED_CLIENTS, jwks)


@dataclass(frozen=True)
class Keyring:
    pool: SigningKey
    """The key the pool's JWKS serves."""
    rotated: SigningKey
    """A key with a kid the JWKS does not (yet) serve."""
    rogue: SigningKey
    """Someone else's key pair, claiming the pool key's kid."""


@pytest.fixture(scope="session")
def keys(pool_key: SigningKey, rotated_key: SigningKey, rogue_key: SigningKey) -> Keyring:
    return Keyring(pool_key, rotated_key, rogue_key)


# --- tokens the API must refuse --------------------------------------------------------------
# Each builder returns an Authorization header value (None: no header). Every token claims the
# admin group, so one that slipped through would get past the admin check too.
ADMIN = ["admin"]


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _unsigned(alg: str, keys: Keyring) -> str:
    header = {"alg": alg, "typ": "JWT", "kid": keys.pool.kid}
    return _bearer(f"{b64json(header)}.{b64json(access_claims(groups=ADMIN))}.")


def _hs256_with_public_key(keys: Keyring) -> str:
    """The classic key-confusion attack: HMAC keyed with the RSA public key's PEM."""
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": keys.pool.kid}
    signing_input = f"{b64json(header)}.{b64json(access_claims(groups=ADMIN))}"
    mac = hmac.new(keys.pool.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return _bearer(f"{signing_input}.{b64url(mac)}")


def _tampered(keys: Keyring) -> str:
    """A genuine token of a plain user, its payload swapped for one claiming the admin group."""
    header, _, signature = keys.pool.sign(access_claims()).split(".")
    forged = b64json(access_claims(groups=ADMIN))
    return _bearer(f"{header}.{forged}.{signature}")


def _signed(keys: Keyring, **claims: Any) -> str:
    return _bearer(keys.pool.sign(access_claims(groups=ADMIN, **claims)))


def _id_token(keys: Keyring, client_id: str | None = None) -> str:
    """Cognito's ID token names the client in ``aud`` (and has no ``client_id``)."""
    claims = access_claims(
        groups=ADMIN,
        token_use="id",
        client_id=client_id,
        aud=WEB_CLIENT,
        email="ada@example.com",
    )
    claims["cognito:username"] = claims.pop("username")
    return _bearer(keys.pool.sign(claims))


REFUSED = [
    # (id, builder, reason sent in the 401)
    pytest.param(lambda k: _unsigned("none", k), "invalid_token", id="alg-none"),
    pytest.param(lambda k: _unsigned("None", k), "invalid_token", id="alg-None-capitalised"),
    pytest.param(_hs256_with_public_key, "invalid_token", id="hs256-keyed-with-public-pem"),
    pytest.param(
        lambda k: _signed(k, iat=int(time.time()) - 7200, exp=int(time.time()) - 10),
        "invalid_token",
        id="expired",
    ),
    pytest.param(
        lambda k: _signed(k, nbf=int(time.time()) + 600), "invalid_token", id="not-yet-valid"
    ),
    pytest.param(
        lambda k: _signed(k, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
        "invalid_token",
        id="wrong-issuer",
    ),
    pytest.param(
        lambda k: _signed(k, iss=ISSUER + "/"), "invalid_token", id="issuer-with-trailing-slash"
    ),
    pytest.param(
        lambda k: _signed(k, client_id="someoneelsesclient00000000"),
        "invalid_token",
        id="wrong-client-id",
    ),
    pytest.param(_id_token, "invalid_token", id="id-token"),
    pytest.param(
        lambda k: _id_token(k, client_id=WEB_CLIENT),
        "invalid_token",
        id="id-token-even-with-client-id",
    ),
    pytest.param(
        lambda k: _bearer(k.rotated.sign(access_claims(groups=ADMIN))),
        "invalid_token",
        id="unknown-kid",
    ),
    pytest.param(
        lambda k: _bearer(jwt.encode(access_claims(groups=ADMIN), k.pool.private, "RS256")),
        "invalid_token",
        id="no-kid",
    ),
    pytest.param(_tampered, "invalid_token", id="tampered-payload"),
    pytest.param(
        lambda k: _bearer(k.rogue.sign(access_claims(groups=ADMIN))),
        "invalid_token",
        id="other-key-same-kid",
    ),
    pytest.param(lambda k: _signed(k, exp=None), "invalid_token", id="missing-exp"),
    pytest.param(lambda k: _signed(k, token_use=None), "invalid_token", id="missing-token-use"),
    pytest.param(lambda k: _bearer("garbage"), "invalid_token", id="garbage"),
    pytest.param(lambda k: _bearer("a.b.c"), "invalid_token", id="garbage-three-parts"),
    pytest.param(lambda k: "Bearer ", "no_token", id="empty-bearer"),
    pytest.param(lambda k: "Bearer", "no_token", id="bearer-without-token"),
    pytest.param(lambda k: "Basic YWRhOnNlY3JldA==", "no_token", id="basic-scheme"),
    pytest.param(
        lambda k: "Token " + k.pool.sign(access_claims(groups=ADMIN)),
        "no_token",
        id="valid-token-under-other-scheme",
    ),
    pytest.param(lambda k: None, "no_token", id="no-authorization-header"),
]
