"""The KMS keys the components make (media, tables, alarm notifications): each rotates every
year, waits 30 days when deleted, and carries its alias (aliases are regional, so a key made
in each region carries the same one). Created as children of the calling component, under
names made from the one given, so the components keep their resource names (and URNs).

A multi-region key has replicas in other regions (``replica_key``): the same key material
and key id, so what one region encrypts decrypts in any other. A replica rotates with its
primary, and has no rotation setting of its own."""

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
    multi_region: bool = False,
) -> aws.kms.Key:
    """The key (``resource_name``) and its alias (``<resource_name>-alias``); ``policy``
    None keeps KMS's default key policy, ``region`` None the provider's region.
    ``multi_region`` makes a primary that ``replica_key`` can replicate; a key is created so
    or not at all (changing it replaces the key), so it is left unset on the others."""
    key = aws.kms.Key(
        resource_name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        policy=policy,
        region=region,
        multi_region=True if multi_region else None,
        tags=dict(tags),
        opts=opts,
    )
    aws.kms.Alias(
        f"{resource_name}-alias", name=alias, target_key_id=key.key_id, region=region, opts=opts
    )
    return key


def replica_key(
    resource_name: str,
    *,
    primary: aws.kms.Key,
    description: str,
    alias: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    previous_alias: str | None = None,
) -> aws.kms.ReplicaKey:
    """A replica of the multi-region key ``primary`` (``resource_name``) in the region of
    ``opts``' provider, with KMS's default key policy, and its alias there
    (``<resource_name>-alias``). ``previous_alias`` is an earlier resource name of that
    alias (on another key of the region): the alias is moved to the replica, where a new
    resource would fail to create a second alias of its name before the old one goes."""
    replica = aws.kms.ReplicaKey(
        resource_name,
        primary_key_arn=primary.arn,
        description=description,
        deletion_window_in_days=DELETION_WINDOW_DAYS,
        tags=dict(tags),
        opts=opts,
    )
    aws.kms.Alias(
        f"{resource_name}-alias",
        name=alias,
        target_key_id=replica.key_id,
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                aliases=[pulumi.Alias(name=previous_alias)] if previous_alias else None
            ),
        ),
    )
    return replica
