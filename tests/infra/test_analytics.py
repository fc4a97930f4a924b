"""Analytics under Pulumi mocks: the events stream's consumer Lambda and its event source,
the Firehose delivery of the stream to the lake as Parquet, the Glue table with partition
projection, and the Athena workgroup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flixstack import spec
from flixstack.events import lake
from infra import outputs, policies
from infra.components import analytics
from infra.policy import rules
from tests.infra.mockgraph import (
    ACCOUNT,
    REGION,
    Graph,
    naming,
    resolve,
    run_stack,
    stack_config,
    statements,
)

pytestmark = pytest.mark.usefixtures("no_pip")

FUNCTION = "analytics-function"
EVENT_SOURCE = "aws:lambda/eventSourceMapping:EventSourceMapping"
DELIVERY = "analytics-delivery"


def _stream_arn(graph: Graph) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:{naming(graph).stream(spec.EVENTS)}"


def _dead_letter_arn(graph: Graph) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{naming(graph).queue(spec.EVENTS_DLQ)}"


def _table_arn(graph: Graph, table: spec.TableSpec) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{naming(graph).table(table)}"


def _bucket_arn(graph: Graph, bucket: spec.BucketSpec) -> str:
    return f"arn:aws:s3:::{naming(graph).bucket(bucket)}"


def _source(graph: Graph) -> dict[str, Any]:
    (source,) = [
        s for s in graph.of(EVENT_SOURCE) if s.props["eventSourceArn"] == _stream_arn(graph)
    ]
    return dict(source.props)


def _at(template: str, day: str, hour: int) -> str:
    """A Firehose prefix as it is for records arriving on ``day`` at ``hour`` (UTC)."""
    return template.replace("!{timestamp:yyyy-MM-dd}", day).replace(
        "!{timestamp:HH}", f"{hour:02d}"
    )


# --- the consumer ----------------------------------------------------------------------------
def test_the_consumer_is_the_events_handler_traced_with_reserved_concurrency(
    graph: Graph,
) -> None:
    props = graph.named(FUNCTION).props
    assert props["name"] == f"{naming(graph).prefix}-events-consumer"
    assert props["handler"] == analytics.HANDLER == "functions.events.handler"
    assert props["runtime"] == "python3.12"
    assert props["tracingConfig"] == {"mode": "Active"}
    env = props["environment"]["variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == spec.EVENTS_SERVICE
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == spec.METRICS_NAMESPACE
    assert env["FLIXSTACK_STAGE"] == naming(graph).stage
    # every shard's parallel batches may run at once, and no more
    assert props["reservedConcurrentExecutions"] == (
        spec.EVENTS.shards * analytics.PARALLELIZATION_FACTOR
    )
    logs = graph.named(f"{FUNCTION}-logs").props
    assert props["loggingConfig"]["logGroup"] == logs["name"] == f"/aws/lambda/{props['name']}"
    assert logs["retentionInDays"] > 0


def test_the_stream_triggers_it_with_partial_batch_failures_bisection_and_a_dead_letter_queue(
    graph: Graph,
) -> None:
    source = _source(graph)
    assert source["functionName"].endswith(f":{graph.named(FUNCTION).props['name']}")
    assert source["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["bisectBatchOnFunctionError"] is True
    assert 1 <= source["maximumRetryAttempts"] <= 5
    assert 60 <= source["maximumRecordAgeInSeconds"] <= spec.EVENTS.retention_hours * 3600
    assert source["maximumBatchingWindowInSeconds"] == 1
    assert source["batchSize"] == spec.EVENTS_BATCH_RECORDS <= 10_000  # Kinesis sources cap it
    assert source["startingPosition"] == "LATEST"
    assert source["parallelizationFactor"] == analytics.PARALLELIZATION_FACTOR
    assert source["destinationConfig"] == {"onFailure": {"destinationArn": _dead_letter_arn(graph)}}


def test_the_consumer_role_reaches_only_what_the_consumer_uses(graph: Graph) -> None:
    found = statements(graph, f"{FUNCTION}-role-policy")
    assert set(found) == {
        "Logs",
        "ReadStream",
        "Analytics",
        "Progress",
        "Catalog",
        "CatalogSnapshots",
        "DeadLetters",
        "Tracing",
    }
    assert found["ReadStream"]["Resource"] == [_stream_arn(graph)]
    assert found["Analytics"]["Resource"] == [_table_arn(graph, spec.ANALYTICS)]
    assert found["Progress"]["Resource"] == [_table_arn(graph, spec.VIEWERS)]
    assert found["Catalog"]["Resource"] == [_table_arn(graph, spec.CATALOG)]
    assert found["Catalog"]["Action"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ]
    assert found["CatalogSnapshots"] == {
        "Sid": "CatalogSnapshots",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [f"{_bucket_arn(graph, spec.ARTIFACTS)}/{spec.CATALOG_ARTIFACTS_PREFIX}*"],
    }
    assert found["DeadLetters"]["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert found["Tracing"] == policies.tracing()
    actions = {a for s in found.values() for a in s["Action"]}
    # no deletes, no scans, no other queue, and no table it does not name
    assert not {a for a in actions if "Delete" in a or a.endswith(":Scan")}
    senders = [s for s in found.values() if "sqs:SendMessage" in s["Action"]]
    assert [s["Resource"] for s in senders] == [[_dead_letter_arn(graph)]]
    assert rules.iam_no_wildcards([graph.named(f"{FUNCTION}-role-policy")]) == []


def test_the_event_source_may_use_what_the_role_grants(graph: Graph) -> None:
    """Lambda reads the stream and sends failed batches' metadata with the function's role:
    a mapping whose role lacks either fails to create, or drops what it gives up on."""
    source = _source(graph)
    found = statements(graph, f"{FUNCTION}-role-policy")
    assert source["eventSourceArn"] in found["ReadStream"]["Resource"]
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator"} <= set(found["ReadStream"]["Action"])
    assert (
        source["destinationConfig"]["onFailure"]["destinationArn"]
        in (found["DeadLetters"]["Resource"])
    )


def test_the_events_dead_letter_queue_is_alarmed_like_every_other(graph: Graph) -> None:
    """The home region's (test_regional_events.py: each other region's its own)."""
    (alarm,) = [
        a
        for a in graph.of(rules.ALARM)
        if (a.props.get("dimensions") or {}).get("QueueName")
        == naming(graph).queue(spec.EVENTS_DLQ)
        and graph.regions[a.name] == REGION
    ]
    assert alarm.props["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm.props["threshold"] == 0
    assert alarm.props["alarmActions"]
    # retained long enough to replay: the stream keeps its records a day
    (queue,) = [
        q
        for q in graph.of(rules.QUEUE)
        if q.props["name"] == naming(graph).queue(spec.EVENTS_DLQ)
        and graph.regions[q.name] == REGION
    ]
    assert queue.props["messageRetentionSeconds"] == spec.EVENTS_DLQ.retention_s


# --- the lake --------------------------------------------------------------------------------
def test_firehose_writes_the_stream_to_the_lake_as_parquet_by_hour(graph: Graph) -> None:
    props = graph.named(DELIVERY).props
    assert props["destination"] == "extended_s3"
    assert props["kinesisSourceConfiguration"]["kinesisStreamArn"] == _stream_arn(graph)
    s3 = props["extendedS3Configuration"]
    assert s3["bucketArn"] == _bucket_arn(graph, spec.LAKE)
    # the folders the local consumer writes and Athena's projection reads
    assert s3["prefix"] == "events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    assert _at(s3["prefix"], "2026-12-05", 7) == spec.lake_partition("2026-12-05", 7)
    assert s3["fileExtension"] == ".parquet"  # what the lake's DuckDB reader globs
    assert s3["errorOutputPrefix"].startswith(spec.LAKE_ERRORS_PREFIX)
    assert "!{firehose:error-output-type}" in s3["errorOutputPrefix"]
    assert not s3["errorOutputPrefix"].startswith(spec.LAKE_EVENTS_PREFIX)
    assert s3["bufferingSize"] >= 64  # what Parquet conversion requires
    assert s3["compressionFormat"] == "UNCOMPRESSED"  # Parquet compresses its pages itself
    conversion = s3["dataFormatConversionConfiguration"]
    assert conversion["enabled"] is True
    assert conversion["inputFormatConfiguration"] == {"deserializer": {"openXJsonSerDe": {}}}
    assert conversion["outputFormatConfiguration"]["serializer"]["parquetSerDe"] == {
        "compression": "SNAPPY"
    }
    schema = conversion["schemaConfiguration"]
    assert schema["databaseName"] == graph.named("analytics-database").props["name"]
    assert schema["tableName"] == graph.named("analytics-table").props["name"]
    assert schema["catalogId"] == ACCOUNT
    assert schema["versionId"] == "LATEST"
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True
    assert logging["logGroupName"] == graph.named("analytics-delivery-logs").props["name"]
    assert logging["logStreamName"] == graph.named("analytics-delivery-log-stream").props["name"]
    roles = {props["kinesisSourceConfiguration"]["roleArn"], s3["roleArn"], schema["roleArn"]}
    assert roles == {f"arn:aws:iam::{ACCOUNT}:role/analytics-delivery-role"}


def test_the_delivery_role_reads_the_stream_and_schema_and_writes_only_its_prefixes(
    graph: Graph,
) -> None:
    trust = json.loads(graph.named("analytics-delivery-role").props["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": ACCOUNT}}
    found = statements(graph, "analytics-delivery-role-policy")
    assert set(found) == {"ReadStream", "LakeBucket", "LakeObjects", "Schema", "DeliveryLogs"}
    lake_arn = _bucket_arn(graph, spec.LAKE)
    assert found["ReadStream"]["Resource"] == [_stream_arn(graph)]
    assert found["LakeBucket"]["Resource"] == [lake_arn]
    assert found["LakeObjects"]["Resource"] == [
        f"{lake_arn}/{spec.LAKE_ERRORS_PREFIX}*",
        f"{lake_arn}/{spec.LAKE_EVENTS_PREFIX}*",
    ]
    assert "s3:DeleteObject" not in found["LakeObjects"]["Action"]
    database = graph.named("analytics-database").props["name"]
    assert found["Schema"]["Resource"] == sorted(
        [
            f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:{database}",
            f"arn:aws:glue:{REGION}:{ACCOUNT}:{spec.LAKE_TABLE}",
        ]
    )
    assert not [a for a in found["Schema"]["Action"] if not a.startswith("glue:GetTable")]
    (log_stream,) = found["DeliveryLogs"]["Resource"]
    assert log_stream.endswith(
        f":/aws/kinesisfirehose/{naming(graph).prefix}-events-lake:log-stream:"
        f"{analytics.DELIVERY_LOG_STREAM}"
    )
    assert rules.iam_no_wildcards([graph.named("analytics-delivery-role-policy")]) == []


def test_the_glue_table_is_the_lake_s_columns_over_parquet_with_partition_projection(
    graph: Graph,
) -> None:
    n = naming(graph)
    assert graph.named("analytics-database").props["name"] == n.glue(spec.LAKE_DATABASE)
    props = graph.named("analytics-table").props
    assert props["name"] == spec.LAKE_TABLE
    assert props["databaseName"] == n.glue(spec.LAKE_DATABASE)
    assert props["tableType"] == "EXTERNAL_TABLE"
    storage = props["storageDescriptor"]
    location = f"s3://{n.bucket(spec.LAKE)}/{spec.LAKE_EVENTS_PREFIX}"
    assert storage["location"] == location
    assert storage["serDeInfo"]["serializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["inputFormat"] == analytics.PARQUET_INPUT
    assert storage["outputFormat"] == analytics.PARQUET_OUTPUT
    # the columns are lake.COLUMNS, in order, and the partitions lake.PARTITION_KEYS
    assert [(c["name"], c["type"], c["comment"]) for c in storage["columns"]] == [
        (c.name, c.type, c.comment) for c in lake.COLUMNS
    ]
    assert [(k["name"], k["type"]) for k in props["partitionKeys"]] == [
        (k.name, k.type) for k in lake.PARTITION_KEYS
    ]
    parameters = props["parameters"]
    assert parameters["classification"] == "parquet"
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.dt.type"] == "date"
    assert parameters["projection.dt.format"] == "yyyy-MM-dd"
    assert parameters["projection.dt.range"].endswith(",NOW")
    assert parameters["projection.hour.type"] == "integer"
    assert parameters["projection.hour.range"] == "0,23"
    assert parameters["projection.hour.digits"] == "2"
    template = parameters["storage.location.template"]
    assert template == f"{location}dt=${{dt}}/hour=${{hour}}/"
    hour = template.replace("${dt}", "2026-12-05").replace("${hour}", "07")
    assert hour == f"s3://{n.bucket(spec.LAKE)}/{spec.lake_partition('2026-12-05', 7)}"
    # projection, so nothing has to discover partitions
    assert not graph.of("aws:glue/crawler:Crawler")


def test_projection_must_cover_every_partition_key() -> None:
    extra = (*lake.PARTITION_KEYS, lake.Column("cdn", "string", "not projected"))
    with pytest.raises(ValueError, match="projections"):
        analytics.table_parameters("lake", extra)


def test_the_athena_workgroup_enforces_encrypted_results_in_the_lake_and_a_scan_limit(
    stack: str, graph: Graph
) -> None:
    n = naming(graph)
    (workgroup,) = graph.of("aws:athena/workgroup:Workgroup")
    assert workgroup.props["name"] == n.workgroup(spec.ATHENA_WORKGROUP)
    configuration = workgroup.props["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["publishCloudwatchMetricsEnabled"] is True
    limit = int(stack_config(stack).get("flixstack:athenaQueryLimitGib", "10"))
    assert configuration["bytesScannedCutoffPerQuery"] == limit * 1024**3
    results = configuration["resultConfiguration"]
    assert results["outputLocation"] == f"s3://{n.bucket(spec.LAKE)}/{spec.ATHENA_RESULTS_PREFIX}"
    assert results["encryptionConfiguration"] == {"encryptionOption": "SSE_S3"}
    assert results["expectedBucketOwner"] == ACCOUNT


def test_the_scan_limit_comes_from_stack_config() -> None:
    graph = run_stack("dev", {"flixstack:athenaQueryLimitGib": "3"})
    (workgroup,) = graph.of("aws:athena/workgroup:Workgroup")
    assert workgroup.props["configuration"]["bytesScannedCutoffPerQuery"] == 3 * 1024**3


def test_query_results_and_undeliverable_records_expire(graph: Graph) -> None:
    lake_bucket = naming(graph).bucket(spec.LAKE)
    (config,) = [
        c
        for c in graph.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if c.props["bucket"] == lake_bucket
    ]
    found = {r["id"]: r for r in config.props["rules"]}
    assert found["expire-athena-results"]["filter"] == {"prefix": spec.ATHENA_RESULTS_PREFIX}
    assert found["expire-delivery-errors"]["filter"] == {"prefix": spec.LAKE_ERRORS_PREFIX}
    # the events themselves are kept
    assert not [r for r in found.values() if r.get("filter", {}).get("prefix") == "events/"]


def test_analytics_outputs_are_exported() -> None:
    graph = run_stack("dev")
    n = spec.Naming("dev", ACCOUNT)
    assert resolve(graph.outputs[outputs.EVENTS_FUNCTION]) == f"{n.prefix}-events-consumer"
    assert resolve(graph.outputs[outputs.LAKE_DELIVERY_STREAM]) == f"{n.prefix}-events-lake"
    assert resolve(graph.outputs[outputs.LAKE_DATABASE]) == n.glue(spec.LAKE_DATABASE)
    assert resolve(graph.outputs[outputs.LAKE_TABLE]) == spec.LAKE_TABLE
    assert resolve(graph.outputs[outputs.ATHENA_WORKGROUP]) == n.workgroup(spec.ATHENA_WORKGROUP)
