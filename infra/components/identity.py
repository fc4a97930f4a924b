"""Identity: the Cognito user pool (email sign-in, password policy, optional MFA), its web
client (authorization code + PKCE) and the admin group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import tags

TYPE = "flixstack:index:Identity"


@dataclass(frozen=True)
class IdentityArgs:
    naming: spec.Naming
    callback_urls: Sequence[str]
    deletion_protection: bool = True


class Identity(pulumi.ComponentResource):
    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    web_client_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pool_spec = spec.USER_POOL
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
        client = aws.cognito.UserPoolClient(
            f"{name}-{pool_spec.web_client}",
            name=pool_spec.web_client,
            user_pool_id=pool.id,
            generate_secret=False,  # a browser app is a public client: PKCE, no secret
            allowed_oauth_flows=["code"],
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_scopes=["openid", "email", "profile"],
            callback_urls=list(args.callback_urls),
            logout_urls=list(args.callback_urls),
            supported_identity_providers=["COGNITO"],
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            opts=child,
        )
        for group in pool_spec.groups:
            aws.cognito.UserGroup(
                f"{name}-group-{group}", name=group, user_pool_id=pool.id, opts=child
            )
        self.user_pool_id = pool.id
        self.user_pool_arn = pool.arn
        self.web_client_id = client.id
        self.register_outputs(
            {
                "user_pool_id": self.user_pool_id,
                "user_pool_arn": self.user_pool_arn,
                "web_client_id": self.web_client_id,
            }
        )
