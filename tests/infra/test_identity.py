"""Identity under mocks, for every stack: the Cognito pool, its hosted UI domain, the web and
CLI clients, and the HTTP API's JWT authorizer in front of the admin and profile routes."""

from __future__ import annotations

import json
import re

import pytest

from flixstack import spec
from flixstack.settings import Settings
from infra import outputs
from infra.components import api, identity
from infra.config import StackConfig
from tests.infra.mockgraph import REGION, Graph, resolve, run_stack, stack_config

pytestmark = pytest.mark.usefixtures("no_pip")

POOL = "aws:cognito/userPool:UserPool"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
DOMAIN = "aws:cognito/userPoolDomain:UserPoolDomain"
GROUP = "aws:cognito/userGroup:UserGroup"
AUTHORIZER = "aws:apigatewayv2/authorizer:Authorizer"
ROUTE = "aws:apigatewayv2/route:Route"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"

# What Cognito accepts as a prefix domain (global per region).
DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _client(graph: Graph, name: str) -> dict[str, object]:
    (client,) = [c for c in graph.of(CLIENT) if c.props["name"] == name]
    return dict(client.props)


def _output(graph: Graph, key: str) -> object:
    return resolve(graph.outputs[key])


def _stack_callback_urls(stack: str) -> list[str]:
    configured = stack_config(stack).get("flixstack:callbackUrls")
    return json.loads(configured) if configured else list(StackConfig.callback_urls)


# --- the pool ---------------------------------------------------------------------------------
def test_pool_signs_in_by_email_with_a_strong_password_and_optional_totp(graph: Graph) -> None:
    (pool,) = graph.of(POOL)
    assert pool.props["usernameAttributes"] == ["email"]
    assert pool.props["autoVerifiedAttributes"] == ["email"]
    assert pool.props["passwordPolicy"]["minimumLength"] >= 12
    assert pool.props["mfaConfiguration"] == "OPTIONAL"
    assert pool.props["softwareTokenMfaConfiguration"] == {"enabled": True}


def test_pool_has_the_admin_group(graph: Graph) -> None:
    groups = {g.props["name"] for g in graph.of(GROUP)}
    assert spec.ADMIN_GROUP in groups
    assert groups == set(spec.USER_POOL.groups)


def test_pool_has_exactly_the_spec_clients(graph: Graph) -> None:
    # (in any order: the web client waits for the web app's URL)
    assert sorted(c.props["name"] for c in graph.of(CLIENT)) == sorted(spec.USER_POOL.clients)


# --- the clients ------------------------------------------------------------------------------
def test_web_client_uses_the_code_flow_as_a_public_client(stack: str, graph: Graph) -> None:
    web = _client(graph, spec.USER_POOL.web_client)
    assert web["generateSecret"] is False  # PKCE: a browser cannot keep a secret
    assert web["allowedOauthFlows"] == ["code"]
    assert web["allowedOauthFlowsUserPoolClient"] is True
    assert "openid" in web["allowedOauthScopes"]  # type: ignore[operator]
    assert web["supportedIdentityProviders"] == ["COGNITO"]
    # the stack's own, then the web app, where the hosted UI sends viewers back to
    webapp_url = _output(graph, outputs.WEBAPP_URL)
    assert web["callbackUrls"] == [*_stack_callback_urls(stack), webapp_url]
    assert web["logoutUrls"] == web["callbackUrls"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in web["explicitAuthFlows"]  # type: ignore[operator]


def test_callback_urls_come_from_stack_config() -> None:
    urls = ["https://dev.flix.example/auth/callback", "http://localhost:8000/auth/callback"]
    graph = run_stack("dev", {"flixstack:callbackUrls": json.dumps(urls)})
    web = _client(graph, spec.USER_POOL.web_client)
    assert web["callbackUrls"] == [*urls, _output(graph, outputs.WEBAPP_URL)]
    assert web["logoutUrls"] == web["callbackUrls"]


def test_cli_client_signs_in_with_password_and_refresh_only(graph: Graph) -> None:
    cli = _client(graph, spec.USER_POOL.cli_client)
    assert sorted(cli["explicitAuthFlows"]) == [  # type: ignore[call-overload]
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    ]
    assert cli["generateSecret"] is False
    assert not cli.get("allowedOauthFlows")
    assert not cli.get("allowedOauthFlowsUserPoolClient")
    assert not cli.get("callbackUrls")


@pytest.mark.parametrize("name", spec.USER_POOL.clients)
def test_clients_hide_users_revoke_tokens_and_set_token_lifetimes(graph: Graph, name: str) -> None:
    client = _client(graph, name)
    assert client["preventUserExistenceErrors"] == "ENABLED"
    assert client["enableTokenRevocation"] is True
    assert client["tokenValidityUnits"] == {
        "accessToken": "hours",
        "idToken": "hours",
        "refreshToken": "days",
    }
    assert client["accessTokenValidity"] == 1
    assert client["idTokenValidity"] == 1
    assert client["refreshTokenValidity"] == 30


# --- the hosted UI ----------------------------------------------------------------------------
def test_hosted_ui_domain_has_a_valid_unique_prefix(graph: Graph) -> None:
    (domain,) = graph.of(DOMAIN)
    (pool,) = graph.of(POOL)
    prefix = domain.props["domain"]
    assert DOMAIN_PREFIX.match(prefix)
    assert not any(word in prefix for word in ("aws", "amazon", "cognito"))
    assert prefix.startswith(pool.props["name"].removesuffix(f"-{spec.USER_POOL.logical}"))
    assert domain.props["userPoolId"] == _output(graph, outputs.USER_POOL_ID)
    assert _output(graph, outputs.HOSTED_UI_URL) == (
        f"https://{prefix}.auth.{REGION}.amazoncognito.com"
    )


def test_domain_prefix_carries_the_bucket_suffix_when_there_is_one() -> None:
    assert identity.domain_prefix(spec.Naming("dev", "123456789012")) == (
        "flixstack-dev-123456789012"
    )
    assert identity.domain_prefix(spec.Naming("localstack")) == "flixstack-localstack"


@pytest.mark.parametrize(
    "naming",
    [
        spec.Naming("laws"),  # reserved word "aws"
        spec.Naming("dev", "amazonian"),  # reserved word "amazon"
        spec.Naming("x" * 60),  # longer than 63 characters
    ],
)
def test_domain_prefix_rejects_what_cognito_would(naming: spec.Naming) -> None:
    with pytest.raises(ValueError, match="domain prefix"):
        identity.domain_prefix(naming)


# --- the API ----------------------------------------------------------------------------------
def test_authorizer_accepts_tokens_of_the_pool_for_both_clients(graph: Graph) -> None:
    """In every region: the pool is the primary region's, whatever region the API is in."""
    pool_id = _output(graph, outputs.USER_POOL_ID)
    client_ids = [_output(graph, outputs.WEB_CLIENT_ID), _output(graph, outputs.CLI_CLIENT_ID)]
    apis = {a.name: a for a in graph.of("aws:apigatewayv2/api:Api")}
    authorizers = graph.of(AUTHORIZER)
    assert len(authorizers) == len(apis)
    for authorizer in authorizers:
        assert authorizer.props["authorizerType"] == "JWT"
        assert authorizer.props["identitySources"] == ["$request.header.Authorization"]
        assert authorizer.props["jwtConfiguration"] == {
            "issuer": f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}",
            "audiences": client_ids,
        }
        # each region's authorizer guards that region's API (``<api>-jwt`` of ``<api>-http``)
        http_api = apis[authorizer.name.removesuffix("-jwt") + "-http"]
        assert authorizer.props["apiId"] == graph.ids[http_api.name]
        assert graph.regions[authorizer.name] == graph.regions[http_api.name]


def test_admin_profile_playback_and_key_routes_need_a_token_and_the_rest_is_public(
    graph: Graph,
) -> None:
    protected = {
        "ANY /admin/{proxy+}", "ANY /profiles", "ANY /profiles/{proxy+}",
        "ANY /playback/{proxy+}", "ANY /keys/{proxy+}",
    }  # fmt: skip
    assert set(api.AUTHORIZED_ROUTES.values()) == protected
    # in every region: the routes of each HTTP API use its own authorizer
    for authorizer in graph.of(AUTHORIZER):
        routes = {
            r.props["routeKey"]: r.props
            for r in graph.of(ROUTE)
            if r.props["apiId"] == authorizer.props["apiId"]
        }
        assert set(routes) == protected | {"$default"}
        for key in protected:
            assert routes[key]["authorizationType"] == "JWT"
            assert routes[key]["authorizerId"] == graph.ids[authorizer.name]
            assert routes[key]["target"] == routes["$default"]["target"]
        assert routes["$default"].get("authorizationType", "NONE") == "NONE"
        assert "authorizerId" not in routes["$default"]


def test_api_lambda_knows_the_pool_and_its_clients(
    graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment infra gives the API Lambda
    env = graph.named("api-function").props["environment"]["variables"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # WHEN the app reads its settings
    settings = Settings()
    # THEN it accepts tokens of this stack's pool and of both its clients, web first
    assert settings.user_pool_id == _output(graph, outputs.USER_POOL_ID)
    assert settings.user_pool_client_ids == [
        _output(graph, outputs.WEB_CLIENT_ID),
        _output(graph, outputs.CLI_CLIENT_ID),
    ]
    assert json.loads(env["FLIXSTACK_USER_POOL_CLIENT_IDS"]) == settings.user_pool_client_ids


def test_identity_outputs_are_exported() -> None:
    graph = run_stack("dev")
    assert _output(graph, outputs.WEB_CLIENT_ID) != _output(graph, outputs.CLI_CLIENT_ID)
    assert str(_output(graph, outputs.HOSTED_UI_URL)).endswith(".amazoncognito.com")
