"""Verifying Cognito access tokens: who is calling, and may they.

An access token is accepted only if it is an RS256 JWT signed by a key of the pool's JWKS
(fetched once and cached; fetched again, at most every ``refresh_min_s``, when a token
names a key id the cache lacks, as after a key rotation), issued by the pool (``iss``),
current (``exp``, and ``nbf`` if present), an *access* token (``token_use``) and issued to
one of the app clients the API trusts (``client_id``). The algorithm list is pinned, so
``alg: none`` and HS256 tokens "signed" with the public key are refused before any key is
used. Anything wrong is one :class:`Unauthorized` (401): the reason is logged, not sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from aws_lambda_powertools import Logger

from flixstack import spec
from flixstack.errors import Forbidden, ServiceUnavailable, Unauthorized

logger = Logger(service="auth", child=True)
ALGORITHMS = ["RS256"]
ACCESS_TOKEN_USE = "access"  # noqa: S105 (a claim value, not a secret)
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "token_use", "client_id"]


@dataclass(frozen=True)
class Principal:
    """The verified caller: the account is the Cognito user (``sub``)."""

    subject: str
    username: str
    groups: frozenset[str]
    client_id: str

    @property
    def is_admin(self) -> bool:
        return spec.ADMIN_GROUP in self.groups

    def require_admin(self) -> Principal:
        if not self.is_admin:
            raise Forbidden(f"this needs the {spec.ADMIN_GROUP} group", reason="not_admin")
        return self


Fetch = Callable[[str], dict[str, Any]]


def fetch_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=5.0)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ServiceUnavailable(f"cannot read the signing keys at {url}: {exc}") from exc
    return body


class Jwks:
    """The pool's public keys by key id, cached; unknown ids trigger a bounded refetch."""

    def __init__(
        self,
        url: str,
        fetch: Fetch = fetch_json,
        refresh_min_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._refresh_min_s = refresh_min_s
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        self._fetched_at = self._clock()  # a failed attempt counts too: no retry storms
        keys = {}
        for data in self._fetch(self.url).get("keys", []):
            try:
                key = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key we cannot use (another kty) is no reason to refuse the rest
            if key.key_id and data.get("use", "sig") == "sig":
                keys[key.key_id] = key
        self._keys = keys

    def key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            due = (
                self._fetched_at is None or self._clock() - self._fetched_at >= self._refresh_min_s
            )
            if kid not in self._keys and due:
                self._load()
                logger.info("signing keys loaded", extra={"url": self.url, "keys": len(self._keys)})
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("the token's signing key is unknown", reason="invalid_token")
        return key


class TokenVerifier:
    def __init__(
        self, issuer: str, client_ids: Iterable[str], jwks: Jwks, leeway_s: float = 0.0
    ) -> None:
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        self._jwks = jwks
        self._leeway = leeway_s

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r} is not accepted")
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise jwt.InvalidTokenError("no key id")
            claims = jwt.decode(
                token,
                self._jwks.key(kid),
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            logger.info("token refused", extra={"why": str(exc)})
            raise Unauthorized("the access token is not valid", reason="invalid_token") from exc
        if claims["token_use"] != ACCESS_TOKEN_USE:
            raise Unauthorized("an access token is needed", reason="invalid_token")
        if claims["client_id"] not in self.client_ids:
            raise Unauthorized("the token was issued to another client", reason="invalid_token")
        groups = claims.get("cognito:groups", [])
        return Principal(
            subject=str(claims["sub"]),
            username=str(claims.get("username", claims["sub"])),
            groups=frozenset(g for g in groups if isinstance(g, str)),
            client_id=str(claims["client_id"]),
        )


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        raise Unauthorized("sign in: send Authorization: Bearer <access token>", reason="no_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be Bearer <token>", reason="no_token")
    return token.strip()
