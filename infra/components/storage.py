"""Storage: the ingest, media, logs and artifacts buckets and the media KMS key and, for
multi-region stacks, what lets each other region serve while the primary is down:

* a replica of the media key in every secondary region: the key is then multi-region, so the
  content keys the transcoder wraps in the primary (``flixstack.aws.key_store``, kept in a
  global table) unwrap in any region;
* a copy of each bucket in every region (``spec.BucketSpec.every_region``: the artifacts)
  in every secondary region, replicated whole from the primary's, which the API there reads
  (``flixstack.aws.artifacts``);
* a replica of the media bucket in the first secondary region, encrypted with the media
  key's replica there, that the CDN fails over to.

One media replica, however many regions the stack spans: a CloudFront origin group has
exactly two origins, so a third copy could never be served, and the CDN, not the bucket's
region, is what viewers are near. Each further copy of the largest data set would cost its
storage and replication traffic and have no reader. The artifacts are small, and read by
every region's API.

Copies and replicas have no server access logs: S3 delivers them only within one region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import Region, tags
from infra.components.buckets import (
    SSE_S3,
    Encryption,
    harden,
    lifecycle_rule_args,
    replication_role,
    replication_rule,
)
from infra.components.keys import replica_key, rotating_key

TYPE = "flixstack:index:Storage"


REPLICATION_RULE = "titles-to-replica"


def copy_rule(bucket: spec.BucketSpec, region: str) -> str:
    """The id of the replication rule that copies ``bucket`` into ``region``."""
    return f"{bucket.logical}-to-{region}"


@dataclass(frozen=True)
class StorageArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    region: str
    """The stack's region (the default provider's), where every bucket but the replica is."""
    ingest_glacier_days: int
    noncurrent_expiry_days: int
    log_retention_days: int
    force_destroy: bool = False
    replica: Region | None = None
    """Where the media replica lives (the first of ``secondaries``); None: no media
    replica."""
    secondaries: Sequence[Region] = ()
    """The stack's other regions: each gets a replica of the media key (then made
    multi-region) and a copy of each bucket in every region; empty: a single-region stack,
    whose media key is a plain one."""
    cdn_reads_media: bool = False
    """True: the ``cdn`` component writes the media buckets' policies (TLS only, plus reads
    by its distributions) and the media keys' policies, since only it knows the
    distributions; storage then writes none for them, as a bucket or key has one policy."""
    upload_origins: Sequence[pulumi.Input[str]] = ()
    """Origins of the pages that upload to the ingest bucket's presigned URLs (the admin web
    app's): CORS lets them PUT and read each part's ETag. Empty: no CORS."""

    def __post_init__(self) -> None:
        names = [r.name for r in self.secondaries]
        if self.region in names or len(set(names)) != len(names):
            raise ValueError(f"the secondary regions {names} must be distinct, not {self.region}")
        if self.replica is not None and self.replica.name not in names:
            raise ValueError(
                f"the media replica's region {self.replica.name} must be a secondary region "
                f"({names}): the media key has a replica only there"
            )


@dataclass(frozen=True)
class MediaCopy:
    """One copy of the media bucket that the CDN reads: the primary, or its replica."""

    role: str
    """``media`` or ``media-replica``: the name of the CDN origin and of resources for it."""
    region: str
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    regional_domain_name: pulumi.Output[str]
    """``<bucket>.s3.<region>.amazonaws.com``: what a CloudFront S3 origin points at."""
    key_id: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    provider: aws.Provider | None = None
    """The provider of the copy's region; None for the default provider (the stack's)."""
    policy_aliases: tuple[pulumi.Alias, ...] = ()
    """Earlier names of the copy's bucket policy: storage wrote the primary's before the CDN
    did, and the CDN's takes it over, so an update never deletes the policy after writing
    the new one."""


def lifecycle_rules(
    bucket: spec.BucketSpec, args: StorageArgs
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """The bucket's lifecycle from the spec (``spec.lifecycle``), in provider terms."""
    return lifecycle_rule_args(
        spec.lifecycle(
            bucket,
            masters_glacier_days=args.ingest_glacier_days,
            noncurrent_days=args.noncurrent_expiry_days,
            log_days=args.log_retention_days,
        )
    )


class Storage(pulumi.ComponentResource):
    media_key_arn: pulumi.Output[str]
    """The media key in the stack's region (with secondaries, the multi-region primary)."""
    media_key_arns: dict[str, pulumi.Output[str]]
    """The media key in each region: the primary's and each replica's, by region."""
    bucket_names: dict[str, pulumi.Output[str]]
    bucket_arns: dict[str, pulumi.Output[str]]
    bucket_domain_names: dict[str, pulumi.Output[str]]
    """``<bucket>.s3.amazonaws.com`` by logical name (CloudFront's log destination form)."""
    bucket_copy_arns: dict[str, dict[str, pulumi.Output[str]]]
    """The copies of the buckets in every region (``spec.BucketSpec.every_region``) in each
    secondary region, by region, then logical name."""
    artifacts_bucket_arns: dict[str, pulumi.Output[str]]
    """The artifacts bucket in each region: the primary's and each copy, by region."""
    media: MediaCopy
    media_replica: MediaCopy | None

    def __init__(
        self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        media_key = rotating_key(
            f"{name}-media-key",
            **self._key_args(args),
            multi_region=bool(args.secondaries),
            opts=pulumi.ResourceOptions(parent=self),
        )
        replica_keys = {
            region.name: replica_key(
                f"{name}-media-key-{region.name}",
                primary=media_key,
                **self._key_args(args),
                opts=pulumi.ResourceOptions(parent=self, provider=region.provider),
                # the media replica's region had a key of its own, with the alias
                previous_alias=f"{name}-{spec.MEDIA.logical}-replica-key-alias"
                if region == args.replica
                else None,
            )
            for region in args.secondaries
        }
        self.media_key_arn = media_key.arn
        self.media_key_arns = {
            args.region: media_key.arn,
            **{region: key.arn for region, key in replica_keys.items()},
        }

        # The logs bucket comes first: the others send their access logs to it.
        ordered = [spec.LOGS, *(b for b in spec.BUCKETS if b is not spec.LOGS)]
        buckets: dict[str, aws.s3.Bucket] = {}
        versionings: dict[str, aws.s3.BucketVersioning] = {}
        for bucket_spec in ordered:
            buckets[bucket_spec.logical], versionings[bucket_spec.logical] = self._bucket(
                f"{name}-{bucket_spec.logical}",
                args.naming.bucket(bucket_spec),
                bucket_spec,
                args,
                media_key.arn,
                logs=buckets.get(spec.LOGS.logical),
            )
        self.bucket_names = {k: b.bucket for k, b in buckets.items()}
        self.bucket_arns = {k: b.arn for k, b in buckets.items()}
        self.bucket_domain_names = {k: b.bucket_domain_name for k, b in buckets.items()}
        media = buckets[spec.MEDIA.logical]
        self.media = MediaCopy(
            role=spec.MEDIA.logical,
            region=args.region,
            bucket_name=media.bucket,
            bucket_arn=media.arn,
            regional_domain_name=media.bucket_regional_domain_name,
            key_id=media_key.key_id,
            key_arn=media_key.arn,
            policy_aliases=(pulumi.Alias(name=f"{name}-{spec.MEDIA.logical}-policy", parent=self),),
        )
        self.media_replica = (
            self._replica(
                name,
                args,
                args.replica,
                media_key,
                replica_keys[args.replica.name],
                versionings[spec.MEDIA.logical],
            )
            if args.replica is not None
            else None
        )
        self.bucket_copy_arns = {region.name: {} for region in args.secondaries}
        for bucket_spec in spec.BUCKETS:
            if bucket_spec.every_region and args.secondaries:
                copy_arns = self._copies(
                    name,
                    args,
                    bucket_spec,
                    buckets[bucket_spec.logical],
                    versionings[bucket_spec.logical],
                )
                for region, arn in copy_arns.items():
                    self.bucket_copy_arns[region][bucket_spec.logical] = arn
        self.artifacts_bucket_arns = {
            args.region: self.bucket_arns[spec.ARTIFACTS.logical],
            **{r: arns[spec.ARTIFACTS.logical] for r, arns in self.bucket_copy_arns.items()},
        }
        self.register_outputs(
            {
                "media_key_arn": self.media_key_arn,
                "media_key_arns": self.media_key_arns,
                "bucket_names": self.bucket_names,
                "bucket_arns": self.bucket_arns,
                "bucket_domain_names": self.bucket_domain_names,
                "bucket_copy_arns": self.bucket_copy_arns,
                "artifacts_bucket_arns": self.artifacts_bucket_arns,
                "media_replica_bucket_name": self.media_replica.bucket_name
                if self.media_replica
                else None,
            }
        )

    @staticmethod
    def _key_args(args: StorageArgs) -> dict[str, Any]:
        """What the media key and its replicas share: description, tags and the spec's
        alias, which each region's carries (aliases are regional)."""
        return {
            "description": f"flixstack {args.naming.stage}: {spec.MEDIA_KEY.purpose}",
            "alias": args.naming.key_alias(spec.MEDIA_KEY),
            "tags": tags(args.naming.stage, "storage"),
        }

    def _replica(
        self,
        name: str,
        args: StorageArgs,
        replica: Region,
        media_key: aws.kms.Key,
        key: aws.kms.ReplicaKey,
        media_versioning: aws.s3.BucketVersioning,
    ) -> MediaCopy:
        """The media bucket's replica in ``replica.name``, encrypted with the media key's
        replica there (``key``), and the replication of ``titles/`` into it (SSE-KMS objects
        re-encrypted with that key)."""
        role = f"{spec.MEDIA.logical}-replica"
        bucket, versioning = self._bucket(
            f"{name}-{role}",
            args.naming.bucket(spec.MEDIA, replica.name),
            spec.MEDIA,
            args,
            key.arn,
            logs=None,
            provider=replica.provider,
        )
        media = self.media
        copier, role_policy = replication_role(
            f"{name}-replication-role",
            pulumi.Output.all(
                source=media.bucket_arn,
                source_key=media_key.arn,
                replica=bucket.arn,
                replica_key=key.arn,
            ).apply(
                lambda v: policies.replication_policy(
                    source_bucket_arn=v["source"],
                    source_key_arn=v["source_key"],
                    source_region=args.region,
                    replica_bucket_arn=v["replica"],
                    replica_key_arn=v["replica_key"],
                    replica_region=replica.name,
                )
            ),
            tags=tags(args.naming.stage, "storage"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-{spec.MEDIA.logical}-replication",
            bucket=media.bucket_name,
            role=copier.arn,
            rules=[
                replication_rule(
                    REPLICATION_RULE,
                    priority=1,
                    prefix=spec.MEDIA_TITLES_PREFIX,
                    destination_arn=bucket.arn,
                    delete_markers=True,
                    replica_key_arn=key.arn,
                )
            ],
            # S3 refuses replication until both buckets are versioned, and checks the role.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[media_versioning, versioning, role_policy]
            ),
        )
        return MediaCopy(
            role=role,
            region=replica.name,
            bucket_name=bucket.bucket,
            bucket_arn=bucket.arn,
            regional_domain_name=bucket.bucket_regional_domain_name,
            key_id=key.key_id,
            key_arn=key.arn,
            provider=replica.provider,
        )

    def _copies(
        self,
        name: str,
        args: StorageArgs,
        bucket_spec: spec.BucketSpec,
        source: aws.s3.Bucket,
        source_versioning: aws.s3.BucketVersioning,
    ) -> dict[str, pulumi.Output[str]]:
        """A copy of the bucket in every secondary region, hardened like the others, and
        one replication configuration on the source with a rule per copy: every object
        (and delete marker) written in the primary reaches every copy. Returns the copies'
        ARNs by region."""
        if bucket_spec.kms:
            raise ValueError(
                f"bucket {bucket_spec.logical}: copies in every region are SSE-S3 (their "
                "replication role holds no KMS key)"
            )
        logical = bucket_spec.logical
        copies: dict[str, aws.s3.Bucket] = {}
        versionings = [source_versioning]
        for region in args.secondaries:
            copies[region.name], versioning = self._bucket(
                f"{name}-{logical}-{region.name}",
                args.naming.bucket(bucket_spec, region.name),
                bucket_spec,
                args,
                None,
                logs=None,
                provider=region.provider,
            )
            versionings.append(versioning)
        role, role_policy = replication_role(
            f"{name}-{logical}-replication-role",
            pulumi.Output.all(source.arn, *(c.arn for c in copies.values())).apply(
                lambda arns: policies.copies_replication_policy(
                    source_bucket_arn=arns[0], copy_bucket_arns=arns[1:]
                )
            ),
            tags=tags(args.naming.stage, "storage"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-{logical}-replication",
            bucket=source.bucket,
            role=role.arn,
            rules=[
                replication_rule(
                    copy_rule(bucket_spec, region),
                    # each rule has a destination of its own: priorities only have to differ
                    priority=priority,
                    prefix="",
                    destination_arn=bucket.arn,
                    delete_markers=True,
                )
                for priority, (region, bucket) in enumerate(copies.items(), start=1)
            ],
            # S3 refuses replication until every bucket is versioned, and checks the role.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*versionings, role_policy]),
        )
        return {region: bucket.arn for region, bucket in copies.items()}

    def _bucket(
        self,
        resource_name: str,
        physical_name: str,
        bucket_spec: spec.BucketSpec,
        args: StorageArgs,
        key_arn: pulumi.Input[str] | None,
        logs: aws.s3.Bucket | None,
        provider: aws.Provider | None = None,
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """One bucket, hardened; ``key_arn`` is the KMS key of a ``kms`` bucket."""
        if bucket_spec.kms and key_arn is None:
            raise ValueError(f"bucket {bucket_spec.logical} is SSE-KMS: it needs a key")
        role = bucket_spec.logical
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        bucket = aws.s3.Bucket(
            resource_name,
            bucket=physical_name,
            force_destroy=args.force_destroy,
            tags=tags(args.naming.stage, "storage", {"purpose": bucket_spec.purpose}),
            opts=child,
        )
        versioning = harden(
            resource_name,
            bucket,
            opts=child,
            # S3 server access logs can only be delivered to SSE-S3 buckets; the others
            # have no reason to pay for KMS requests.
            encryption=Encryption(sse_algorithm="aws:kms", kms_master_key_id=key_arn)
            if bucket_spec.kms
            else SSE_S3,
            bucket_key=bucket_spec.kms,
            # CloudFront standard logs are delivered with an ACL grant to its log delivery
            # account, which buckets without ACLs refuse; public ACLs stay blocked.
            object_ownership="BucketOwnerPreferred"
            if bucket_spec is spec.LOGS
            else "BucketOwnerEnforced",
        )
        # With a CDN, the media bucket's policy is the cdn component's (a bucket has one).
        if not (bucket_spec is spec.MEDIA and args.cdn_reads_media):
            aws.s3.BucketPolicy(
                f"{resource_name}-policy",
                bucket=bucket.bucket,
                policy=pulumi.Output.all(bucket.arn, args.account_id).apply(
                    lambda v: policies.logs_bucket_policy(v[0], v[1])
                )
                if bucket_spec is spec.LOGS
                else bucket.arn.apply(policies.tls_only_bucket_policy),
                opts=child,
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{resource_name}-lifecycle",
            bucket=bucket.bucket,
            rules=lifecycle_rules(bucket_spec, args),
            opts=child,
        )
        if bucket_spec is spec.INGEST and args.upload_origins:
            rule = spec.BROWSER_UPLOADS
            aws.s3.BucketCorsConfiguration(
                f"{resource_name}-cors",
                bucket=bucket.bucket,
                cors_rules=[
                    aws.s3.BucketCorsConfigurationCorsRuleArgs(
                        allowed_origins=list(args.upload_origins),
                        allowed_methods=list(rule.methods),
                        allowed_headers=list(rule.headers),
                        expose_headers=list(rule.expose),
                        max_age_seconds=rule.max_age_s,
                    )
                ],
                opts=child,
            )
        if logs is not None:
            aws.s3.BucketLogging(
                f"{resource_name}-access-logs",
                bucket=bucket.bucket,
                target_bucket=logs.bucket,
                target_prefix=f"s3/{role}/",
                opts=child,
            )
        return bucket, versioning
