"""Regional events: the player events path of one secondary region of a stack, so that the
API there records heartbeats (resume points) and QoE in its own region, and keeps doing so
while the primary is down.

Each secondary region gets what the primary has for the events stream, made by the same
functions as the primary's, so the two cannot drift:

* the ``spec.EVENTS`` stream (``messaging.kinesis_stream``);
* the ``spec.EVENTS_DLQ`` queue, TLS only, with its not-empty alarm notifying
  ``alarm_actions`` (a topic in the region);
* the consumer Lambda and its event source mapping (``analytics.events_consumer``), which
  writes progress, sessions and QoE to the region's replicas of the global tables, told
  its region (``FLIXSTACK_REGION``) and the stack's home (``FLIXSTACK_HOME_REGION``);
* a copy of the lake bucket in the region and a Firehose delivery into it
  (``analytics.lake_delivery``), which converts records with the home region's Glue
  table, so the region needs no catalog of its own.

S3 replicates ``events/`` of the region's lake copy into the home lake, where the one Glue
table's partition projection reads every region's Parquet files under the same
``dt=/hour=`` folders: Athena in the home region sees every region's events. Firehose
names its objects after its delivery stream, which carries the region
(``analytics.lake_delivery_name``), so regions never overwrite each other's files. Deletes
do not replicate: the home lake is the record, and the region's copy only a staging area
whose events expire once S3 has long since copied them (``COPY_EVENTS_DAYS``). Records
Firehose could not convert stay in the region's copy, under ``errors/``, and expire as the
home lake's do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import Region, messaging, tags
from infra.components.analytics import (
    ConsumerArgs,
    DeliveryArgs,
    LakeSchema,
    events_consumer,
    lake_delivery,
    lake_delivery_name,
)
from infra.components.buckets import (
    harden,
    lifecycle_rule_args,
    replication_role,
    replication_rule,
)
from infra.components.messaging import (
    kinesis_stream,
    not_empty_alarm,
    sqs_queue,
    sqs_queue_policy,
)

TYPE = "flixstack:index:RegionalEvents"
CAPABILITY = "analytics"
"""The capability of the primary's consumer and delivery, whose copies are tagged alike (as
the stream, queue and lake bucket are as the primary's)."""
REPLICATION_RULE = "events-to-home"
COPY_EVENTS_DAYS = 14
"""How long events stay in a region's lake copy. Nothing reads the copy: S3 replicates
each object into the home lake within minutes, and keeps retrying while the home region is
down; two weeks covers a long outage. Expiring only adds a delete marker, which is never
replicated, and the version itself stays for the bucket's noncurrent expiry: time enough
for S3 Batch Replication of anything that failed."""
REPLICATE_EVENTS = ("s3:ReplicateObject", "s3:ReplicateTags")
"""Replicating objects and their tags, not deletes: the home lake is the record."""


@dataclass(frozen=True)
class RegionalEventsArgs:
    naming: spec.Naming
    region: Region
    """The secondary region, with its provider: every resource is made there."""
    home_region: str
    """The stack's primary region: its Glue table converts records, its lake keeps them."""
    account_id: pulumi.Input[str]
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    """The dependency layer in this region (layers are regional)."""
    architecture: str
    environment: Mapping[str, pulumi.Input[str]]
    """Runtime settings of the consumer; its region and the home region are added."""
    table_arns: Mapping[str, pulumi.Input[str]]
    """The global tables' replicas in this region, by logical name."""
    artifacts_bucket_arn: pulumi.Input[str]
    """The artifacts bucket's copy in this region, where the consumer reads catalog
    snapshots (``flixstack.aws.artifacts``)."""
    home_lake_bucket_arn: pulumi.Input[str]
    glue_database: pulumi.Input[str]
    """The home region's lake database and table (``Analytics.glue_database``,
    ``glue_table``), whose schema Firehose converts records with."""
    glue_table: pulumi.Input[str]
    log_retention_days: int
    noncurrent_expiry_days: int
    alarm_actions: Sequence[pulumi.Input[str]]
    """Where the dead-letter queue's alarm notifies: a topic in this region (CloudWatch
    alarms notify topics of their own region only)."""
    force_destroy: bool = False
    home_lake_ready: Sequence[pulumi.Resource] = field(default=())
    """What replication into the home lake waits for: its versioning, as S3 refuses to
    replicate into an unversioned bucket (pass the storage component: depending on a
    component waits for all of its children)."""

    def __post_init__(self) -> None:
        if self.region.name == self.home_region or self.region.provider is None:
            raise ValueError(
                f"regional events are for a secondary region with its own provider, not "
                f"{self.region.name} (home {self.home_region})"
            )


def consumer_environment(
    environment: Mapping[str, pulumi.Input[str]], region: str, home_region: str
) -> dict[str, pulumi.Input[str]]:
    """The consumer's settings: its clients of ``spec.REGIONAL_SERVICES`` talk to
    ``region``, the rest to ``home_region`` (``flixstack.settings``)."""
    return {**environment, "FLIXSTACK_REGION": region, "FLIXSTACK_HOME_REGION": home_region}


def glue_table_arns(region: str, account_id: str, database: str, table: str) -> tuple[str, str]:
    """The ARNs of a Glue database and of one of its tables, as IAM names them.

    >>> glue_table_arns("us-east-1", "1", "db", "t")
    ('arn:aws:glue:us-east-1:1:database/db', 'arn:aws:glue:us-east-1:1:table/db/t')
    """
    prefix = f"arn:aws:glue:{region}:{account_id}"
    return f"{prefix}:database/{database}", f"{prefix}:table/{database}/{table}"


def events_replication_policy(*, source_bucket_arn: str, home_bucket_arn: str) -> str:
    """The replication role of a region's lake copy: reads the copy's configuration and the
    object versions under ``events/`` (with their ACLs and tags, as S3 replication asks)
    and replicates them into ``events/`` of the home lake. Both buckets are SSE-S3, so it
    holds no KMS key, and it may not replicate deletes."""
    events = spec.LAKE_EVENTS_PREFIX
    return policies.document(
        policies.allow(
            "SourceBucket",
            ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            [source_bucket_arn],
        ),
        policies.allow(
            "SourceEvents", policies.REPLICATION_READ, [f"{source_bucket_arn}/{events}*"]
        ),
        policies.allow("HomeEvents", REPLICATE_EVENTS, [f"{home_bucket_arn}/{events}*"]),
    )


def lake_copy_lifecycle(noncurrent_days: int, log_days: int) -> tuple[spec.LifecycleRule, ...]:
    """The home lake's rules (``spec.lifecycle``), and events expiring after
    ``COPY_EVENTS_DAYS``: the home lake keeps them."""
    home = spec.lifecycle(
        spec.LAKE,
        masters_glacier_days=0,  # the lake holds no masters: not read for it
        noncurrent_days=noncurrent_days,
        log_days=log_days,
    )
    expiry = spec.LifecycleRule(
        "expire-replicated-events",
        prefix=spec.LAKE_EVENTS_PREFIX,
        expiration_days=COPY_EVENTS_DAYS,
    )
    return (*home, expiry)


class RegionalEvents(pulumi.ComponentResource):
    stream_arn: pulumi.Output[str]
    stream_name: pulumi.Output[str]
    function_name: pulumi.Output[str]
    dead_letter_arn: pulumi.Output[str]
    lake_bucket_name: pulumi.Output[str]
    delivery_stream_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionalEventsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        stream = kinesis_stream(f"{name}-stream", args.naming, spec.EVENTS, opts=child)
        dead_letter = self._dead_letter(name, args, child)
        function = events_consumer(
            name,
            ConsumerArgs(
                naming=args.naming,
                code=args.code,
                layer_arn=args.layer_arn,
                architecture=args.architecture,
                environment=consumer_environment(
                    args.environment, args.region.name, args.home_region
                ),
                stream_arn=stream.arn,
                table_arns=args.table_arns,
                artifacts_bucket_arn=args.artifacts_bucket_arn,
                dead_letter_arn=dead_letter.arn,
                log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )
        lake, versioning = self._lake_copy(name, args, child)
        delivery = self._delivery(name, args, stream, lake, child)
        self._replication(name, args, lake, versioning, child)
        self.stream_arn = stream.arn
        self.stream_name = stream.name
        self.function_name = function.function_name
        self.dead_letter_arn = dead_letter.arn
        self.lake_bucket_name = lake.bucket
        self.delivery_stream_name = delivery.name
        self.register_outputs(
            {
                "stream_arn": self.stream_arn,
                "stream_name": self.stream_name,
                "function_name": self.function_name,
                "dead_letter_arn": self.dead_letter_arn,
                "lake_bucket_name": self.lake_bucket_name,
                "delivery_stream_name": self.delivery_stream_name,
            }
        )

    @staticmethod
    def _dead_letter(
        name: str, args: RegionalEventsArgs, child: pulumi.ResourceOptions
    ) -> aws.sqs.Queue:
        """The region's events dead-letter queue: as the primary's, TLS only, alarmed as
        soon as it holds a message."""
        queue = sqs_queue(f"{name}-dlq", args.naming, spec.EVENTS_DLQ, opts=child)
        sqs_queue_policy(f"{name}-dlq-policy", queue, args.account_id, opts=child)
        not_empty_alarm(
            f"{name}-dlq-depth",
            args.naming,
            spec.EVENTS_DLQ,
            queue.name,
            args.alarm_actions,
            capability=messaging.CAPABILITY,
            opts=child,
        )
        return queue

    @staticmethod
    def _lake_copy(
        name: str, args: RegionalEventsArgs, child: pulumi.ResourceOptions
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """The region's copy of the lake bucket, hardened as every bucket of the stack, TLS
        only, with the home lake's lifecycle and its events expiring once replicated. No
        server access logs: S3 delivers them only within one region."""
        resource_name = f"{name}-lake"
        bucket = aws.s3.Bucket(
            resource_name,
            bucket=args.naming.bucket(spec.LAKE, args.region.name),
            force_destroy=args.force_destroy,
            tags=tags(args.naming.stage, "storage", {"purpose": spec.LAKE.purpose}),
            opts=child,
        )
        versioning = harden(resource_name, bucket, opts=child)
        aws.s3.BucketPolicy(
            f"{resource_name}-policy",
            bucket=bucket.bucket,
            policy=bucket.arn.apply(policies.tls_only_bucket_policy),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{resource_name}-lifecycle",
            bucket=bucket.bucket,
            rules=lifecycle_rule_args(
                lake_copy_lifecycle(args.noncurrent_expiry_days, args.log_retention_days)
            ),
            opts=child,
        )
        return bucket, versioning

    @staticmethod
    def _delivery(
        name: str,
        args: RegionalEventsArgs,
        stream: aws.kinesis.Stream,
        lake: aws.s3.Bucket,
        child: pulumi.ResourceOptions,
    ) -> aws.kinesis.FirehoseDeliveryStream:
        """Firehose from the region's stream into its lake copy, converting with the home
        region's Glue table (Firehose looks a schema up in any region)."""
        arns = pulumi.Output.all(
            account=args.account_id, database=args.glue_database, table=args.glue_table
        ).apply(
            lambda v: glue_table_arns(args.home_region, v["account"], v["database"], v["table"])
        )
        return lake_delivery(
            name,
            DeliveryArgs(
                naming=args.naming,
                account_id=args.account_id,
                stream_name=lake_delivery_name(args.naming, args.region.name),
                stream_arn=stream.arn,
                bucket_arn=lake.arn,
                schema=LakeSchema(
                    region=args.home_region,
                    database_name=args.glue_database,
                    database_arn=arns[0],
                    table_name=args.glue_table,
                    table_arn=arns[1],
                ),
                log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )

    @staticmethod
    def _replication(
        name: str,
        args: RegionalEventsArgs,
        lake: aws.s3.Bucket,
        versioning: aws.s3.BucketVersioning,
        child: pulumi.ResourceOptions,
    ) -> aws.s3.BucketReplicationConfig:
        """``events/`` of the region's lake copy into the home lake, without deletes."""
        role, role_policy = replication_role(
            f"{name}-replication-role",
            pulumi.Output.all(lake.arn, args.home_lake_bucket_arn).apply(
                lambda arns: events_replication_policy(
                    source_bucket_arn=arns[0], home_bucket_arn=arns[1]
                )
            ),
            tags=tags(args.naming.stage, CAPABILITY),
            opts=child,
        )
        return aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=lake.bucket,
            role=role.arn,
            rules=[
                replication_rule(
                    REPLICATION_RULE,
                    priority=1,
                    prefix=spec.LAKE_EVENTS_PREFIX,
                    destination_arn=args.home_lake_bucket_arn,
                    delete_markers=False,
                )
            ],
            # S3 refuses replication until both buckets are versioned, and checks the role.
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(depends_on=[versioning, role_policy, *args.home_lake_ready]),
            ),
        )
