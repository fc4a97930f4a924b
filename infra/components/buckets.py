"""Building blocks the components with buckets share (``storage``, ``webapp``,
``regional_events``).

Each function creates its resources as children of the calling component, under names made
from the one it is given, so a component that uses them keeps its resource names (and URNs).
The hardening the policy pack checks lives here once: no ACLs, no public access, default
encryption and versioning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies

Encryption = (
    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
)

SSE_S3 = Encryption(sse_algorithm="AES256")
"""S3-managed keys: what access logs need, and enough for objects that are not secret."""


def harden(
    resource_name: str,
    bucket: aws.s3.Bucket,
    *,
    opts: pulumi.ResourceOptions,
    encryption: Encryption = SSE_S3,
    bucket_key: bool = False,
    object_ownership: str = "BucketOwnerEnforced",
) -> aws.s3.BucketVersioning:
    """The bucket's ownership controls (no ACLs unless ``object_ownership`` says otherwise),
    public access block, default encryption and versioning: ``<resource_name>-ownership``,
    ``-public-access``, ``-encryption`` and ``-versioning``. Returns the versioning, which
    replication has to wait for."""
    aws.s3.BucketOwnershipControls(
        f"{resource_name}-ownership",
        bucket=bucket.bucket,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=opts,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{resource_name}-public-access",
        bucket=bucket.bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{resource_name}-encryption",
        bucket=bucket.bucket,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=encryption,
                bucket_key_enabled=bucket_key,
            )
        ],
        opts=opts,
    )
    return aws.s3.BucketVersioning(
        f"{resource_name}-versioning",
        bucket=bucket.bucket,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=opts,
    )


def _filter(rule: spec.LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleFilterArgs:
    if rule.tag is None:
        return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix)
    return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
        and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(
            prefix=rule.prefix, tags={rule.tag[0]: rule.tag[1]}
        )
    )


def lifecycle_rule_args(
    rules: Sequence[spec.LifecycleRule],
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Lifecycle rules of the spec (``spec.lifecycle``) in provider terms."""
    return [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id=rule.id,
            status="Enabled",
            filter=_filter(rule),
            transitions=[
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=kind)
                for days, kind in rule.transitions
            ]
            or None,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=rule.expiration_days
            )
            if rule.expiration_days
            else None,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=rule.abort_multipart_days
            )
            if rule.abort_multipart_days
            else None,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=rule.noncurrent_expiration_days
            )
            if rule.noncurrent_expiration_days
            else None,
        )
        for rule in rules
    ]


def replication_role(
    resource_name: str,
    policy: pulumi.Input[str],
    *,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role S3 replicates a bucket with (``resource_name``) and its ``policy``
    (``<resource_name>-policy``), which the replication configuration must wait for: S3
    checks the role when the configuration is made."""
    role = aws.iam.Role(
        resource_name,
        assume_role_policy=policies.assume_role_policy("s3.amazonaws.com"),
        tags=dict(tags),
        opts=opts,
    )
    role_policy = aws.iam.RolePolicy(
        f"{resource_name}-policy", role=role.id, policy=policy, opts=opts
    )
    return role, role_policy


def replication_rule(
    rule_id: str,
    *,
    priority: int,
    prefix: str,
    destination_arn: pulumi.Input[str],
    delete_markers: bool,
    replica_key_arn: pulumi.Input[str] | None = None,
) -> aws.s3.BucketReplicationConfigRuleArgs:
    """One enabled replication rule: objects under ``prefix`` (and delete markers, if
    ``delete_markers``) into ``destination_arn``; with ``replica_key_arn``, SSE-KMS
    objects too, encrypted there with that key."""
    rules = aws.s3
    enabled = "Enabled"
    return rules.BucketReplicationConfigRuleArgs(
        id=rule_id,
        status=enabled,
        priority=priority,
        filter=rules.BucketReplicationConfigRuleFilterArgs(prefix=prefix),
        delete_marker_replication=rules.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
            status=enabled if delete_markers else "Disabled"
        ),
        source_selection_criteria=rules.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
            sse_kms_encrypted_objects=rules.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                status=enabled
            )
        )
        if replica_key_arn is not None
        else None,
        destination=rules.BucketReplicationConfigRuleDestinationArgs(
            bucket=destination_arn,
            encryption_configuration=rules.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                replica_kms_key_id=replica_key_arn
            )
            if replica_key_arn is not None
            else None,
        ),
    )
