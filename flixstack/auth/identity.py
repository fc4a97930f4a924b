"""Which user pool and app clients this deployment trusts, and how to sign in to them.

On AWS the infra passes the pool id and client ids as settings; against an emulator they
are found by the spec's names. Either way the issuer is Cognito's
(``https://cognito-idp.<region>.amazonaws.com/<pool>``); the keys are read from the
endpoint in use (an emulator serves them at the same path as Cognito does).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.auth.tokens import Jwks, Principal, TokenVerifier, bearer
from flixstack.aws.clients import AwsClients
from flixstack.aws.inventory import find_user_pool_id
from flixstack.errors import InvalidInput, ServiceUnavailable, Unauthorized
from flixstack.settings import Settings


@dataclass(frozen=True)
class Pool:
    pool_id: str
    region: str
    client_ids: dict[str, str]
    """App client name -> id."""
    endpoint: str | None = None

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        base = self.endpoint.rstrip("/") + f"/{self.pool_id}" if self.endpoint else self.issuer
        return f"{base}/.well-known/jwks.json"

    def client_id(self, name: str) -> str:
        try:
            return self.client_ids[name]
        except KeyError:
            raise ServiceUnavailable(f"the user pool has no app client {name!r}") from None


def find_pool(settings: Settings, clients: AwsClients) -> Pool:
    name = settings.naming.user_pool(spec.USER_POOL)
    try:
        pool_id = settings.user_pool_id or find_user_pool_id(clients, name)
        if pool_id is None:
            raise ServiceUnavailable(f"no user pool {name} (run `flixstack bootstrap` or deploy)")
        if settings.user_pool_client_ids:  # from infra, in the spec's order
            ids = dict(zip(spec.USER_POOL.clients, settings.user_pool_client_ids, strict=False))
        else:
            ids = _named_clients(clients, pool_id)
    except ClientError as exc:
        raise ServiceUnavailable(f"cannot read user pool {name}: {exc}") from exc
    return Pool(pool_id, clients.region_of("cognito-idp"), ids, settings.endpoint)


def _named_clients(clients: AwsClients, pool_id: str) -> dict[str, str]:
    listed = clients.cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    return {
        c["ClientName"]: c["ClientId"]
        for c in listed["UserPoolClients"]
        if c.get("ClientName") in spec.USER_POOL.clients
    }


class Authenticator:
    """Turns an Authorization header into a :class:`Principal`. The pool is looked up on
    first use (not at start-up, so the public API works before the pool exists)."""

    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        self._settings = settings
        self._clients = clients
        self._verifier: TokenVerifier | None = None
        self._lock = threading.Lock()

    @classmethod
    def with_verifier(cls, settings: Settings, verifier: TokenVerifier) -> Authenticator:
        authenticator = cls(settings, AwsClients(settings))
        authenticator._verifier = verifier
        return authenticator

    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            with self._lock:
                if self._verifier is None:
                    pool = find_pool(self._settings, self._clients)
                    self._verifier = TokenVerifier(
                        pool.issuer,
                        pool.client_ids.values(),
                        Jwks(pool.jwks_url, refresh_min_s=self._settings.jwks_refresh_min_s),
                        leeway_s=self._settings.jwt_leeway_s,
                    )
        return self._verifier

    def principal(self, authorization: str | None) -> Principal:
        token = bearer(authorization)  # 401 before any lookup when there is no token
        return self.verifier().verify(token)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int


def sign_in(clients: AwsClients, pool: Pool, username: str, password: str) -> Tokens:
    """Username-and-password sign-in through the command line's app client."""
    try:
        response = clients.cognito.initiate_auth(
            ClientId=pool.client_id(spec.USER_POOL.cli_client),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise Unauthorized("wrong username or password", reason="bad_credentials") from exc
        raise ServiceUnavailable(f"sign-in failed: {exc}") from exc
    if "ChallengeName" in response:
        raise InvalidInput(
            f"sign-in needs {response['ChallengeName']}; finish it in the web app",
            reason="challenge",
        )
    result = response["AuthenticationResult"]
    return Tokens(
        access_token=result["AccessToken"],
        id_token=result["IdToken"],
        refresh_token=result.get("RefreshToken", ""),
        expires_in=result["ExpiresIn"],
    )
