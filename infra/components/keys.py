"""The KMS keys the components make (media, tables, alarm notifications): each rotates every
year, waits 30 days when deleted, and carries its alias (aliases are regional, so a key made
in each region carries the same one). Created as children of the calling component, under
names made from the one given, so the components keep their resource names (and URNs)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

DELETION_WINDOW_DAYS = 30


def rotating_key(
    resource_name: str,
    *,
    description: str,
    alias: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    policy: pulumi.Input[str] | None = None,
    region: str | None = None,
) -> aws.kms.Key:
    """The key (``resource_name``) and its alias (``<resource_name>-alias``); ``policy``
    None keeps KMS's default key policy, ``region`` None the provider's region."""
    key = aws.kms.Key(
        resource_name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        region=region,
        tags=dict(tags),
        opts=opts,
    )
    aws.kms.Alias(
        f"{resource_name}-alias", name=alias, target_key_id=key.key_id, region=region, opts=opts
    )
    return key
