"""Storage: the ingest, media, logs and artifacts buckets, and the media KMS key."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import tags

TYPE = "flixstack:index:Storage"


@dataclass(frozen=True)
class StorageArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    ingest_glacier_days: int
    noncurrent_expiry_days: int
    log_retention_days: int
    force_destroy: bool = False


def _filter(rule: spec.LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleFilterArgs:
    if rule.tag is None:
        return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix)
    return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
        and_=aws.s3.BucketLifecycleConfigurationRuleFilterAndArgs(
            prefix=rule.prefix, tags={rule.tag[0]: rule.tag[1]}
        )
    )


def lifecycle_rules(
    bucket: spec.BucketSpec, args: StorageArgs
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """The bucket's lifecycle from the spec (``spec.lifecycle``), in provider terms."""
    rules = spec.lifecycle(
        bucket,
        masters_glacier_days=args.ingest_glacier_days,
        noncurrent_days=args.noncurrent_expiry_days,
        log_days=args.log_retention_days,
    )
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


class Storage(pulumi.ComponentResource):
    media_key_arn: pulumi.Output[str]
    bucket_names: dict[str, pulumi.Output[str]]
    bucket_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        stage = args.naming.stage
        media_key = aws.kms.Key(
            f"{name}-media-key",
            description=f"flixstack {stage}: media and content keys at rest",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags(stage, "storage"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-media-key-alias",
            name=f"alias/{args.naming.prefix}-media",
            target_key_id=media_key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.media_key_arn = media_key.arn

        # The logs bucket comes first: the others send their access logs to it.
        ordered = [spec.LOGS, *(b for b in spec.BUCKETS if b is not spec.LOGS)]
        buckets: dict[str, aws.s3.Bucket] = {}
        for bucket_spec in ordered:
            buckets[bucket_spec.logical] = self._bucket(
                name, bucket_spec, args, media_key, logs=buckets.get(spec.LOGS.logical)
            )
        self.bucket_names = {k: b.bucket for k, b in buckets.items()}
        self.bucket_arns = {k: b.arn for k, b in buckets.items()}
        self.register_outputs(
            {
                "media_key_arn": self.media_key_arn,
                "bucket_names": self.bucket_names,
                "bucket_arns": self.bucket_arns,
            }
        )

    def _bucket(
        self,
        name: str,
        bucket_spec: spec.BucketSpec,
        args: StorageArgs,
        media_key: aws.kms.Key,
        logs: aws.s3.Bucket | None,
    ) -> aws.s3.Bucket:
        role = bucket_spec.logical
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-{role}",
            bucket=args.naming.bucket(bucket_spec),
            force_destroy=args.force_destroy,
            tags=tags(args.naming.stage, "storage", {"purpose": bucket_spec.purpose}),
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-{role}-ownership",
            bucket=bucket.bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-{role}-public-access",
            bucket=bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        if bucket_spec.kms:
            encryption = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=media_key.arn
            )
        else:
            # S3 server access logs can only be delivered to SSE-S3 buckets; the others
            # have no reason to pay for KMS requests.
            encryption = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-{role}-encryption",
            bucket=bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=encryption,
                    bucket_key_enabled=bucket_spec.kms,
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-{role}-versioning",
            bucket=bucket.bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        if bucket_spec is spec.LOGS:
            policy = pulumi.Output.all(bucket.arn, args.account_id).apply(
                lambda v: policies.logs_bucket_policy(v[0], v[1])
            )
        else:
            policy = bucket.arn.apply(policies.tls_only_bucket_policy)
        aws.s3.BucketPolicy(
            f"{name}-{role}-policy", bucket=bucket.bucket, policy=policy, opts=child
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-{role}-lifecycle",
            bucket=bucket.bucket,
            rules=lifecycle_rules(bucket_spec, args),
            opts=child,
        )
        if logs is not None:
            aws.s3.BucketLogging(
                f"{name}-{role}-access-logs",
                bucket=bucket.bucket,
                target_bucket=logs.bucket,
                target_prefix=f"s3/{role}/",
                opts=child,
            )
        return bucket
