"""Analytics: what reads the player events stream, and the data lake it fills.

* The consumer Lambda (``functions.events.handler``) takes the stream through an event
  source mapping with partial batch responses: it keeps sessions, QoE sums and trending in
  the analytics table, viewing progress in the viewers table, and sends poison records to
  the events dead-letter queue itself. A batch that keeps failing is halved until the bad
  records are alone; after ``MAX_RETRY_ATTEMPTS`` (or ``MAX_RECORD_AGE_S``) the mapping
  gives up on it and sends its metadata (shard, sequence numbers) to the same queue, whose
  depth alarm ``messaging`` creates. The records stay readable in the stream for its
  retention, for a replay.
* A Firehose delivery stream reads the same stream (a second shared-throughput consumer)
  and writes it to the lake bucket as Parquet under ``events/dt=<day>/hour=<HH>/``
  (``spec.lake_partition``), converting the JSON records with the Glue table's schema.
* The Glue table (columns from ``flixstack.events.lake``) uses Athena partition projection,
  so new hours are queryable without a crawler; an Athena workgroup with enforced settings
  keeps query results encrypted in the lake and caps the bytes a query may scan.

The consumer and the delivery are made by functions (``events_consumer``, ``lake_delivery``)
that ``regional_events`` also makes each secondary region's with: those read the region's
stream, and its delivery converts with this component's Glue table, whose lake S3 fills
with every region's events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from flixstack.events import lake
from infra import policies
from infra.components import tags
from infra.components.function import PythonFunction, PythonFunctionArgs

TYPE = "flixstack:index:Analytics"
CAPABILITY = "analytics"
HANDLER = "functions.events.handler"
SERVICE = spec.EVENTS_SERVICE
"""Powertools service name: the ``service`` dimension of the consumer's metrics."""

# --- the consumer's event source ----------------------------------------------------------
BATCH_SIZE = spec.EVENTS_BATCH_RECORDS
"""Records per invocation, as the local poller hands them over: the consumer writes each
session, QoE minute and counter once per batch, so fuller batches write less per event."""
BATCHING_WINDOW_S = 1
"""Wait up to a second to fill a batch: fewer, fuller invocations at a second of lag."""
PARALLELIZATION_FACTOR = 2
"""Concurrent batches per shard; Lambda keeps each partition key (session) in order."""
MAX_RETRY_ATTEMPTS = spec.EVENTS_MAX_RETRIES
MAX_RECORD_AGE_S = 3600
"""A record older than this goes to the dead-letter queue instead of holding its shard."""
RESERVED_CONCURRENCY = spec.EVENTS.shards * PARALLELIZATION_FACTOR
"""One invocation per shard and parallel batch: what the event source can use at most."""
TIMEOUT_S = 60
MEMORY_MB = 512

# --- the lake ------------------------------------------------------------------------------
DELIVERY_BUFFER_MB = 128
"""Parquet conversion needs a buffer of at least 64 MB; larger files query faster."""
DELIVERY_BUFFER_S = 300
DELIVERY_LOG_STREAM = "DestinationDelivery"
PARQUET_COMPRESSION = "SNAPPY"
LAKE_FILE_EXTENSION = ".parquet"
"""As the local consumer names its files, and DuckDB's reader (``lake_store``) globs them."""
FIREHOSE_PARTITION_VALUES: Mapping[str, str] = {
    "dt": "!{timestamp:yyyy-MM-dd}",
    "hour": "!{timestamp:HH}",
}
"""Each partition key's value in Firehose's prefix (its arrival time, UTC)."""
LAKE_START = "2026-01-01"
"""The first day partition projection offers (queries name days, so the range is cheap)."""
PROJECTIONS: Mapping[str, Mapping[str, str]] = {
    "dt": {
        "type": "date",
        "format": "yyyy-MM-dd",
        "range": f"{LAKE_START},NOW",
        "interval": "1",
        "interval.unit": "DAYS",
    },
    "hour": {"type": "integer", "range": "0,23", "digits": "2"},
}
"""Athena partition projection, per partition key of ``lake.PARTITION_KEYS``."""
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
GIB = 1024**3


@dataclass(frozen=True)
class AnalyticsArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    region: str
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    architecture: str
    environment: Mapping[str, pulumi.Input[str]]
    """Runtime settings (stage, bucket suffix)."""
    stream_arn: pulumi.Input[str]
    """The ``spec.EVENTS`` stream."""
    table_arns: Mapping[str, pulumi.Input[str]]
    bucket_names: Mapping[str, pulumi.Input[str]]
    bucket_arns: Mapping[str, pulumi.Input[str]]
    dead_letter_arn: pulumi.Input[str]
    """The ``spec.EVENTS_DLQ`` queue."""
    log_retention_days: int
    query_limit_gib: int
    """The most data one Athena query of the workgroup may scan."""
    force_destroy: bool = False


def lake_prefix(keys: Sequence[lake.Column] = lake.PARTITION_KEYS) -> str:
    """Where Firehose writes: ``events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/``."""
    return spec.LAKE_EVENTS_PREFIX + "".join(
        f"{key.name}={FIREHOSE_PARTITION_VALUES[key.name]}/" for key in keys
    )


def lake_error_prefix(keys: Sequence[lake.Column] = lake.PARTITION_KEYS) -> str:
    """Where Firehose puts records it could not convert, by kind of failure and hour
    (outside ``events/``, so Athena never reads them as events)."""
    hour = lake_prefix(keys).removeprefix(spec.LAKE_EVENTS_PREFIX)
    return f"{spec.LAKE_ERRORS_PREFIX}!{{firehose:error-output-type}}/{hour}"


def lake_delivery_name(naming: spec.Naming, region: str | None = None) -> str:
    """The Firehose delivery stream's name: ``flixstack-prod-events-lake``, and with
    ``region`` a secondary region's, ``flixstack-prod-events-lake-us-west-2``. Firehose
    starts each object's name with it, so the objects every region's delivery writes into
    the one lake (replicated under the same partition folders) never collide."""
    name = f"{naming.prefix}-{spec.EVENTS.logical}-lake"
    return f"{name}-{region}" if region else name


def events_location(bucket: str) -> str:
    return f"s3://{bucket}/{spec.LAKE_EVENTS_PREFIX}"


def table_parameters(
    bucket: str, keys: Sequence[lake.Column] = lake.PARTITION_KEYS
) -> dict[str, str]:
    """The Glue table's parameters: external Parquet, and Athena partition projection of
    every partition key with the location template of ``spec.lake_partition``."""
    names = [key.name for key in keys]
    if set(names) != set(PROJECTIONS):
        raise ValueError(f"partition keys {names} need projections (have {sorted(PROJECTIONS)})")
    template = "".join(f"{name}=${{{name}}}/" for name in names)
    return {
        "EXTERNAL": "TRUE",
        "classification": "parquet",
        "parquet.compression": PARQUET_COMPRESSION,
        "projection.enabled": "true",
        **{
            f"projection.{name}.{setting}": value
            for name in names
            for setting, value in PROJECTIONS[name].items()
        },
        "storage.location.template": events_location(bucket) + template,
    }


@dataclass(frozen=True)
class ConsumerArgs:
    """What one region's events consumer is made of: the primary's (``Analytics``) and each
    secondary region's (``regional_events``), which differ in nothing but these."""

    naming: spec.Naming
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    architecture: str
    environment: Mapping[str, pulumi.Input[str]]
    stream_arn: pulumi.Input[str]
    """The ``spec.EVENTS`` stream it reads."""
    table_arns: Mapping[str, pulumi.Input[str]]
    """The tables it calls, in its region (a global table's replica outside the primary)."""
    artifacts_bucket_arn: pulumi.Input[str]
    """The artifacts bucket it reads catalog snapshots from: its region's copy
    (``flixstack.aws.artifacts``)."""
    dead_letter_arn: pulumi.Input[str]
    """The ``spec.EVENTS_DLQ`` queue of its region."""
    log_retention_days: int


def events_consumer(
    name: str, args: ConsumerArgs, *, opts: pulumi.ResourceOptions
) -> PythonFunction:
    """The consumer Lambda (``<name>-function``) and the event source mapping that feeds it
    the stream (``<name>-source``), as the module's docstring describes. ``opts`` says
    whose children they are and, outside the primary, with which region's provider."""

    def policy(log_group_arn: pulumi.Output[str]) -> pulumi.Output[str]:
        return pulumi.Output.all(
            stream=args.stream_arn,
            analytics=args.table_arns[spec.ANALYTICS.logical],
            viewers=args.table_arns[spec.VIEWERS.logical],
            catalog=args.table_arns[spec.CATALOG.logical],
            artifacts=args.artifacts_bucket_arn,
            dead_letter=args.dead_letter_arn,
            logs=log_group_arn,
        ).apply(
            lambda v: policies.events_consumer_policy(
                stream_arn=v["stream"],
                analytics_table_arn=v["analytics"],
                viewers_table_arn=v["viewers"],
                catalog_table_arn=v["catalog"],
                artifacts_bucket_arn=v["artifacts"],
                dead_letter_arn=v["dead_letter"],
                log_group_arn=v["logs"],
            )
        )

    function = PythonFunction(
        f"{name}-function",
        PythonFunctionArgs(
            naming=args.naming,
            function=f"{spec.EVENTS.logical}-consumer",
            capability=CAPABILITY,
            handler=HANDLER,
            service=SERVICE,
            code=args.code,
            layer_arn=args.layer_arn,
            architecture=args.architecture,
            policy=policy,
            environment=dict(args.environment),
            log_retention_days=args.log_retention_days,
            reserved_concurrency=RESERVED_CONCURRENCY,
            memory_mb=MEMORY_MB,
            timeout_s=TIMEOUT_S,
        ),
        opts=opts,
    )
    aws.lambda_.EventSourceMapping(
        f"{name}-source",
        event_source_arn=args.stream_arn,
        function_name=function.function_arn,
        starting_position="LATEST",
        batch_size=BATCH_SIZE,
        maximum_batching_window_in_seconds=BATCHING_WINDOW_S,
        parallelization_factor=PARALLELIZATION_FACTOR,
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=MAX_RETRY_ATTEMPTS,
        maximum_record_age_in_seconds=MAX_RECORD_AGE_S,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=args.dead_letter_arn
            )
        ),
        tags=tags(args.naming.stage, CAPABILITY),
        # Lambda checks the role may read the stream when the mapping is created.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[function.role_policy])
        ),
    )
    return function


@dataclass(frozen=True)
class LakeSchema:
    """The Glue table whose schema Firehose converts records with: the primary's, in the
    home region, for every region's delivery stream (one schema, one table to query)."""

    region: str
    database_name: pulumi.Input[str]
    database_arn: pulumi.Input[str]
    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]


@dataclass(frozen=True)
class DeliveryArgs:
    """What one region's Firehose delivery of the events stream to a lake bucket is made of."""

    naming: spec.Naming
    account_id: pulumi.Input[str]
    stream_name: str
    """The delivery stream's name, which Firehose starts every object's name with: each
    region's must differ, so that objects replicated into one lake never collide."""
    stream_arn: pulumi.Input[str]
    """The ``spec.EVENTS`` stream it reads (its region's)."""
    bucket_arn: pulumi.Input[str]
    """The lake bucket it writes (its region's)."""
    schema: LakeSchema
    log_retention_days: int


def lake_delivery(
    name: str, args: DeliveryArgs, *, opts: pulumi.ResourceOptions
) -> aws.kinesis.FirehoseDeliveryStream:
    """The delivery stream (``<name>-delivery``) with its role, log group and log stream
    (``<name>-delivery-role``, ``-delivery-logs``, ...): reads the stream, converts records
    to Parquet with the Glue table's schema and writes them under ``lake_prefix()``, the
    layout the table's partition projection reads."""
    stage_tags = tags(args.naming.stage, CAPABILITY)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-delivery-logs",
        name=f"/aws/kinesisfirehose/{args.stream_name}",
        retention_in_days=args.log_retention_days,
        tags=stage_tags,
        opts=opts,
    )
    log_stream = aws.cloudwatch.LogStream(
        f"{name}-delivery-log-stream",
        name=DELIVERY_LOG_STREAM,
        log_group_name=log_group.name,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{name}-delivery-role",
        assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
            lambda account: policies.assume_role_policy("firehose.amazonaws.com", account)
        ),
        tags=stage_tags,
        opts=opts,
    )
    schema = args.schema
    role_policy = aws.iam.RolePolicy(
        f"{name}-delivery-role-policy",
        role=role.id,
        policy=pulumi.Output.all(
            stream=args.stream_arn,
            bucket=args.bucket_arn,
            account=args.account_id,
            database=schema.database_arn,
            table=schema.table_arn,
            logs=log_group.arn,
        ).apply(
            lambda v: policies.lake_delivery_policy(
                stream_arn=v["stream"],
                bucket_arn=v["bucket"],
                glue_catalog_arn=f"arn:aws:glue:{schema.region}:{v['account']}:catalog",
                glue_database_arn=v["database"],
                glue_table_arn=v["table"],
                log_stream_arn=f"{v['logs']}:log-stream:{DELIVERY_LOG_STREAM}",
            )
        ),
        opts=opts,
    )
    return aws.kinesis.FirehoseDeliveryStream(
        f"{name}-delivery",
        name=args.stream_name,
        destination="extended_s3",
        kinesis_source_configuration={
            "kinesis_stream_arn": args.stream_arn,
            "role_arn": role.arn,
        },
        extended_s3_configuration={
            "bucket_arn": args.bucket_arn,
            "role_arn": role.arn,
            "prefix": lake_prefix(),
            "error_output_prefix": lake_error_prefix(),
            "file_extension": LAKE_FILE_EXTENSION,
            "buffering_size": DELIVERY_BUFFER_MB,
            "buffering_interval": DELIVERY_BUFFER_S,
            # Parquet compresses its own pages; Firehose must not compress the file.
            "compression_format": "UNCOMPRESSED",
            "cloudwatch_logging_options": {
                "enabled": True,
                "log_group_name": log_group.name,
                "log_stream_name": log_stream.name,
            },
            "data_format_conversion_configuration": {
                "enabled": True,
                "input_format_configuration": {"deserializer": {"open_x_json_ser_de": {}}},
                "output_format_configuration": {
                    "serializer": {"parquet_ser_de": {"compression": PARQUET_COMPRESSION}}
                },
                "schema_configuration": {
                    "catalog_id": args.account_id,
                    "region": schema.region,
                    "database_name": schema.database_name,
                    "table_name": schema.table_name,
                    "role_arn": role.arn,
                    "version_id": "LATEST",
                },
            },
        },
        tags=stage_tags,
        # Firehose checks its role can read the stream, the schema and the bucket.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[role_policy])),
    )


class Analytics(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    delivery_stream_name: pulumi.Output[str]
    glue_database: pulumi.Output[str]
    glue_table: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AnalyticsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        function = self._consumer(name, args)
        database, table = self._catalog(name, args)
        delivery = self._delivery(name, args, database, table)
        workgroup = self._workgroup(name, args)
        self.function_name = function.function_name
        self.function_arn = function.function_arn
        self.delivery_stream_name = delivery.name
        self.glue_database = database.name
        self.glue_table = table.name
        self.workgroup_name = workgroup.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "delivery_stream_name": self.delivery_stream_name,
                "glue_database": self.glue_database,
                "glue_table": self.glue_table,
                "workgroup_name": self.workgroup_name,
            }
        )

    def _consumer(self, name: str, args: AnalyticsArgs) -> PythonFunction:
        return events_consumer(
            name,
            ConsumerArgs(
                naming=args.naming,
                code=args.code,
                layer_arn=args.layer_arn,
                architecture=args.architecture,
                environment=args.environment,
                stream_arn=args.stream_arn,
                table_arns=args.table_arns,
                artifacts_bucket_arn=args.bucket_arns[spec.ARTIFACTS.logical],
                dead_letter_arn=args.dead_letter_arn,
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _catalog(
        self, name: str, args: AnalyticsArgs
    ) -> tuple[aws.glue.CatalogDatabase, aws.glue.CatalogTable]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = args.bucket_names[spec.LAKE.logical]
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=args.naming.glue(spec.LAKE_DATABASE),
            description=f"flixstack {args.naming.stage}: {spec.LAKE.purpose}",
            tags=tags(args.naming.stage, CAPABILITY),
            opts=child,
        )
        table = aws.glue.CatalogTable(
            f"{name}-table",
            name=spec.LAKE_TABLE,
            database_name=database.name,
            description=spec.EVENTS.purpose,
            table_type="EXTERNAL_TABLE",
            parameters=pulumi.Output.from_input(bucket).apply(table_parameters),
            partition_keys=[
                aws.glue.CatalogTablePartitionKeyArgs(name=c.name, type=c.type, comment=c.comment)
                for c in lake.PARTITION_KEYS
            ],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=pulumi.Output.from_input(bucket).apply(events_location),
                input_format=PARQUET_INPUT,
                output_format=PARQUET_OUTPUT,
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=PARQUET_SERDE,
                    parameters={"serialization.format": "1"},
                ),
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(
                        name=c.name, type=c.type, comment=c.comment
                    )
                    for c in lake.COLUMNS
                ],
            ),
            opts=child,
        )
        return database, table

    def _delivery(
        self,
        name: str,
        args: AnalyticsArgs,
        database: aws.glue.CatalogDatabase,
        table: aws.glue.CatalogTable,
    ) -> aws.kinesis.FirehoseDeliveryStream:
        return lake_delivery(
            name,
            DeliveryArgs(
                naming=args.naming,
                account_id=args.account_id,
                stream_name=lake_delivery_name(args.naming),
                stream_arn=args.stream_arn,
                bucket_arn=args.bucket_arns[spec.LAKE.logical],
                schema=LakeSchema(
                    region=args.region,
                    database_name=database.name,
                    database_arn=database.arn,
                    table_name=table.name,
                    table_arn=table.arn,
                ),
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _workgroup(self, name: str, args: AnalyticsArgs) -> aws.athena.Workgroup:
        bucket = pulumi.Output.from_input(args.bucket_names[spec.LAKE.logical])
        return aws.athena.Workgroup(
            f"{name}-workgroup",
            name=args.naming.workgroup(spec.ATHENA_WORKGROUP),
            description=f"flixstack {args.naming.stage}: queries over the events lake",
            state="ENABLED",
            force_destroy=args.force_destroy,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=args.query_limit_gib * GIB,
                engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(
                    selected_engine_version="AUTO"
                ),
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=bucket.apply(
                        lambda b: f"s3://{b}/{spec.ATHENA_RESULTS_PREFIX}"
                    ),
                    expected_bucket_owner=args.account_id,
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
            tags=tags(args.naming.stage, CAPABILITY),
            opts=pulumi.ResourceOptions(parent=self),
        )
