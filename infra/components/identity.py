"""Identity: the Cognito user pool (email sign-in, password policy, optional MFA), its hosted
UI domain, the web client (authorization code + PKCE), the CLI client (username and
password) and the admin group."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import tags

TYPE = "flixstack:index:Identity"

HOURS, DAYS = "hours", "days"
ACCESS_TOKEN_HOURS = 1
ID_TOKEN_HOURS = 1
REFRESH_TOKEN_DAYS = 30
TOKEN_VALIDITY_UNITS = aws.cognito.UserPoolClientTokenValidityUnitsArgs(
    access_token=HOURS, id_token=HOURS, refresh_token=DAYS
)
OAUTH_SCOPES = ("openid", "email", "profile")
"""What the web client may ask the hosted UI for (and the web app asks for)."""
HOSTED_UI_LOGIN_VERSION = 1
"""The classic hosted UI: works without a managed-login branding resource."""

# Cognito prefix domains are global per region: 1-63 lower-case letters, digits and dashes,
# not starting or ending with a dash, and without these reserved words.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED_WORDS = ("aws", "amazon", "cognito")


def domain_prefix(naming: spec.Naming) -> str:
    """The hosted UI's domain prefix: the stack prefix, and the bucket suffix (the account
    id on AWS) when there is one, so two accounts deploying the same stage do not clash.

    >>> domain_prefix(spec.Naming("dev", "123456789012"))
    'flixstack-dev-123456789012'
    """
    prefix = f"{naming.prefix}-{naming.bucket_suffix}" if naming.bucket_suffix else naming.prefix
    if not _DOMAIN_PREFIX.match(prefix):
        raise ValueError(
            f"Cognito domain prefix {prefix!r} must be 1-63 lower-case letters, digits and dashes"
        )
    reserved = [word for word in _RESERVED_WORDS if word in prefix]
    if reserved:
        raise ValueError(f"Cognito domain prefix {prefix!r} may not contain {reserved}")
    return prefix


def hosted_ui_url(prefix: str, region: str) -> str:
    return f"https://{prefix}.auth.{region}.amazoncognito.com"


def stack_hosted_ui_url(naming: spec.Naming, region: str) -> str:
    """The hosted UI's URL that ``Identity`` makes for ``naming``, known before it exists:
    the web client's callback URLs name the web app, so the web app's content security
    policy cannot wait for the pool."""
    return hosted_ui_url(domain_prefix(naming), region)


def issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens (and the base of its JWKS URL)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@dataclass(frozen=True)
class IdentityArgs:
    naming: spec.Naming
    region: str
    callback_urls: Sequence[pulumi.Input[str]]
    """Where the hosted UI may send viewers after sign-in and sign-out: the configured ones
    and the web app's URL (an output of its distribution)."""
    deletion_protection: bool = True


class Identity(pulumi.ComponentResource):
    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    web_client_id: pulumi.Output[str]
    cli_client_id: pulumi.Output[str]
    client_ids: pulumi.Output[list[str]]
    """Every app client's id, the web client first: the audiences the API accepts."""
    issuer: pulumi.Output[str]
    hosted_ui_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool_spec = spec.USER_POOL
        prefix = domain_prefix(args.naming)
        pool = aws.cognito.UserPool(
            f"{name}-pool",
            name=args.naming.user_pool(pool_spec),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(
                enabled=True
            ),
            password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
                minimum_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_numbers=True,
                require_symbols=False,
                temporary_password_validity_days=3,
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(
                        name="verified_email", priority=1
                    )
                ]
            ),
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            tags=tags(args.naming.stage, "identity"),
            opts=child,
        )
        domain = aws.cognito.UserPoolDomain(
            f"{name}-domain",
            domain=prefix,
            user_pool_id=pool.id,
            managed_login_version=HOSTED_UI_LOGIN_VERSION,
            opts=child,
        )
        web = aws.cognito.UserPoolClient(
            f"{name}-{pool_spec.web_client}",
            name=pool_spec.web_client,
            user_pool_id=pool.id,
            generate_secret=False,  # a browser app is a public client: PKCE, no secret
            allowed_oauth_flows=["code"],
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_scopes=list(OAUTH_SCOPES),
            callback_urls=list(args.callback_urls),
            logout_urls=list(args.callback_urls),
            supported_identity_providers=["COGNITO"],
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_HOURS,
            id_token_validity=ID_TOKEN_HOURS,
            refresh_token_validity=REFRESH_TOKEN_DAYS,
            token_validity_units=TOKEN_VALIDITY_UNITS,
            opts=child,
        )
        cli = aws.cognito.UserPoolClient(
            f"{name}-{pool_spec.cli_client}",
            name=pool_spec.cli_client,
            user_pool_id=pool.id,
            generate_secret=False,  # a command line on a laptop cannot keep a secret
            allowed_oauth_flows_user_pool_client=False,  # no hosted UI, no OAuth flows
            explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=ACCESS_TOKEN_HOURS,
            id_token_validity=ID_TOKEN_HOURS,
            refresh_token_validity=REFRESH_TOKEN_DAYS,
            token_validity_units=TOKEN_VALIDITY_UNITS,
            opts=child,
        )
        for group in pool_spec.groups:
            aws.cognito.UserGroup(
                f"{name}-group-{group}", name=group, user_pool_id=pool.id, opts=child
            )
        region = args.region
        self.user_pool_id = pool.id
        self.user_pool_arn = pool.arn
        self.web_client_id = web.id
        self.cli_client_id = cli.id
        ids = {pool_spec.web_client: web.id, pool_spec.cli_client: cli.id}
        self.client_ids = pulumi.Output.all(*(ids[client] for client in pool_spec.clients))
        self.issuer = pool.id.apply(lambda pool_id: issuer(region, pool_id))
        self.hosted_ui_url = domain.domain.apply(lambda d: hosted_ui_url(d, region))
        self.register_outputs(
            {
                "user_pool_id": self.user_pool_id,
                "user_pool_arn": self.user_pool_arn,
                "web_client_id": self.web_client_id,
                "cli_client_id": self.cli_client_id,
                "client_ids": self.client_ids,
                "issuer": self.issuer,
                "hosted_ui_url": self.hosted_ui_url,
            }
        )
