"""The events path of one secondary region under Pulumi mocks: the region's events stream,
dead-letter queue, consumer and lake copy, each made as the primary's (the prod stack's,
compared property by property) but in the region through its provider, with IAM that names
only the region's resources, and S3 replication of ``events/`` into the home lake, where
the home region's Glue table reads them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pytest

from flixstack import spec
from flixstack.settings import Settings
from infra import policies
from infra.components import Region, analytics
from infra.components.regional_events import (
    COPY_EVENTS_DAYS,
    REPLICATION_RULE,
    RegionalEvents,
    RegionalEventsArgs,
    events_replication_policy,
    glue_table_arns,
    lake_copy_lifecycle,
)
from infra.policy import rules
from infra.policy.rules import Resource
from tests.infra.conftest import shared_graph
from tests.infra.mockgraph import ACCOUNT, Graph, run, statements

HOME = "us-east-1"
REGION = "us-west-2"
PROVIDER = f"aws-{REGION}"
NAME = f"events-{REGION}"
NAMING = spec.Naming("prod", ACCOUNT)
ENVIRONMENT = {
    "FLIXSTACK_STAGE": NAMING.stage,
    "FLIXSTACK_BUCKET_SUFFIX": NAMING.bucket_suffix,
    "FLIXSTACK_HOME_REGION": HOME,
}
"""What the program gives every deployable (``runtime_environment``)."""
TABLE_ARNS = {
    t.logical: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMING.table(t)}" for t in spec.TABLES
}
"""The global tables' replicas in the region."""
ARTIFACTS_COPY_ARN = f"arn:aws:s3:::{NAMING.bucket(spec.ARTIFACTS, REGION)}"
HOME_LAKE_ARN = f"arn:aws:s3:::{NAMING.bucket(spec.LAKE)}"
GLUE_DATABASE = NAMING.glue(spec.LAKE_DATABASE)
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAMING.prefix}-alarms"
LAYER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{NAMING.prefix}-dependencies:1"
LOG_DAYS = 30
NONCURRENT_DAYS = 45

STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:{NAMING.stream(spec.EVENTS)}"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{NAMING.queue(spec.EVENTS_DLQ)}"
LAKE_COPY = NAMING.bucket(spec.LAKE, REGION)
LAKE_COPY_ARN = f"arn:aws:s3:::{LAKE_COPY}"

OUTPUTS = (
    "stream_arn",
    "stream_name",
    "function_name",
    "dead_letter_arn",
    "lake_bucket_name",
    "delivery_stream_name",
)
"""The component's declared outputs, exported by the test program."""
ESM = rules.EVENT_SOURCE_MAPPING
DELIVERY = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE = "aws:iam/role:Role"


def _args(region: Region) -> RegionalEventsArgs:
    """The component's arguments in ``region``: plausible ones, as the program passes."""
    return RegionalEventsArgs(
        naming=NAMING,
        region=region,
        home_region=HOME,
        account_id=ACCOUNT,
        code=pulumi.AssetArchive({}),
        layer_arn=LAYER_ARN,
        architecture="arm64",
        environment=ENVIRONMENT,
        table_arns=TABLE_ARNS,
        artifacts_bucket_arn=ARTIFACTS_COPY_ARN,
        home_lake_bucket_arn=HOME_LAKE_ARN,
        glue_database=GLUE_DATABASE,
        glue_table=spec.LAKE_TABLE,
        log_retention_days=LOG_DAYS,
        noncurrent_expiry_days=NONCURRENT_DAYS,
        alarm_actions=[TOPIC_ARN],
        force_destroy=True,
    )


def program() -> None:
    provider = aws.Provider(PROVIDER, region=REGION, allowed_account_ids=[ACCOUNT])
    events = RegionalEvents(NAME, _args(Region(REGION, provider)))
    for output in OUTPUTS:
        pulumi.export(output, getattr(events, output))


@pytest.fixture(scope="module")
def graph() -> Graph:
    """The component alone, in us-west-2 of a stack whose home is us-east-1."""
    return run(program, stack="prod", config={"aws:region": HOME})


@pytest.fixture
def primary(no_pip: None) -> Graph:
    """The prod stack as the program makes it: its primary region's events path is the one
    a secondary region's must equal."""
    return shared_graph("prod")


def _one(graph: Graph, type_: str) -> Resource:
    (resource,) = graph.of(type_)
    return resource


def _primary_one(primary: Graph, type_: str, **props: str) -> Resource:
    """The primary region's resource of ``type_`` whose properties include ``props``."""
    (resource,) = [
        r
        for r in primary.of(type_)
        if primary.regions[r.name] == HOME and all(r.props.get(k) == v for k, v in props.items())
    ]
    return resource


def _without(props: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


def _consumer(graph: Graph) -> Resource:
    (function,) = [f for f in graph.of(rules.FUNCTION) if f.props["handler"] == analytics.HANDLER]
    return function


def _settings(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What the runtime makes of an environment infra gives it (and of nothing else)."""
    for name in [n for n in os.environ if n.startswith(("FLIXSTACK_", "AWS_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --- where ----------------------------------------------------------------------------------
def test_every_resource_is_made_in_the_region_by_its_provider(graph: Graph) -> None:
    made = [r for r in graph.resources if r.type.startswith("aws:")]
    assert len(made) > 20
    # THEN each is the region's, through the explicit provider (no per-resource region)
    assert {graph.regions[r.name] for r in made} == {REGION}
    assert {graph.providers[r.name] for r in made} == {PROVIDER}
    assert not [r.name for r in made if "region" in r.props]


def test_the_outputs_name_the_region_s_resources(graph: Graph) -> None:
    assert set(OUTPUTS) == set(RegionalEvents.__annotations__)  # every declared output
    # (the mocks' root resource may still hold an earlier run's exports: compare ours)
    assert {k: graph.outputs[k] for k in OUTPUTS} == {
        "stream_arn": STREAM_ARN,
        "stream_name": NAMING.stream(spec.EVENTS),
        "function_name": f"{NAMING.prefix}-{spec.EVENTS.logical}-consumer",
        "dead_letter_arn": DLQ_ARN,
        "lake_bucket_name": LAKE_COPY,
        "delivery_stream_name": analytics.lake_delivery_name(NAMING, REGION),
    }


def test_a_secondary_region_needs_its_provider_and_is_not_the_home() -> None:
    other = cast(aws.Provider, object())  # never used: the arguments are refused first
    for region in (Region(REGION, None), Region(HOME, other)):
        with pytest.raises(ValueError, match="secondary region"):
            _args(region)


# --- the stream and its dead-letter queue ----------------------------------------------------
def test_the_stream_is_configured_exactly_as_the_primary_s(graph: Graph, primary: Graph) -> None:
    stream = _one(graph, rules.STREAM).props
    assert stream["name"] == NAMING.stream(spec.EVENTS)
    assert stream["shardCount"] == spec.EVENTS.shards
    assert stream["retentionPeriod"] == spec.EVENTS.retention_hours
    assert stream["encryptionType"] == "KMS"
    home = _primary_one(primary, rules.STREAM, name=NAMING.stream(spec.EVENTS)).props
    assert stream == home


def test_the_dead_letter_queue_is_the_primary_s_tls_only_and_alarmed_in_the_region(
    graph: Graph, primary: Graph
) -> None:
    queue = _one(graph, rules.QUEUE).props
    assert queue["name"] == NAMING.queue(spec.EVENTS_DLQ)
    assert queue["messageRetentionSeconds"] == spec.EVENTS_DLQ.retention_s
    assert queue["sqsManagedSseEnabled"] is True
    assert queue == _primary_one(primary, rules.QUEUE, name=NAMING.queue(spec.EVENTS_DLQ)).props
    assert rules.sqs_tls_only(graph.resources) == []
    alarm = _one(graph, rules.ALARM).props
    assert alarm["dimensions"] == {"QueueName": NAMING.queue(spec.EVENTS_DLQ)}
    assert alarm["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["threshold"] == 0
    assert alarm["alarmActions"] == alarm["okActions"] == [TOPIC_ARN]
    (home,) = [
        a
        for a in primary.of(rules.ALARM)
        if primary.regions[a.name] == HOME and a.props.get("dimensions") == alarm["dimensions"]
    ]
    notified = ("alarmActions", "okActions")
    assert _without(alarm, *notified) == _without(home.props, *notified)


# --- the consumer ----------------------------------------------------------------------------
def test_the_consumer_is_the_primary_s_function(graph: Graph, primary: Graph) -> None:
    function = _consumer(graph).props
    home = _consumer_in(primary).props
    # the same function, but for what is the region's: its code's layer, its role, its
    # environment (below)
    differ = ("environment", "layers", "role", "code")
    assert _without(function, *differ) == _without(home, *differ)
    assert function["reservedConcurrentExecutions"] == analytics.RESERVED_CONCURRENCY
    assert function["layers"] == [LAYER_ARN]
    logs = graph.named(f"{NAME}-function-logs").props
    assert function["loggingConfig"]["logGroup"] == logs["name"]
    assert logs["retentionInDays"] == LOG_DAYS


def _consumer_in(primary: Graph) -> Resource:
    (function,) = [
        f
        for f in primary.of(rules.FUNCTION)
        if f.props["handler"] == analytics.HANDLER and primary.regions[f.name] == HOME
    ]
    return function


def test_the_consumer_knows_its_region_and_the_home_region(
    graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _consumer(graph).props["environment"]["variables"]
    assert env == {
        **ENVIRONMENT,
        "FLIXSTACK_REGION": REGION,
        "FLIXSTACK_HOME_REGION": HOME,
        "POWERTOOLS_SERVICE_NAME": spec.EVENTS_SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": spec.METRICS_NAMESPACE,
    }
    # WHEN the runtime reads it THEN the tables are the region's, the rest the home's
    settings = _settings(env, monkeypatch)
    assert (settings.region, settings.home) == (REGION, HOME)


def test_the_region_s_stream_triggers_it_as_the_primary_s_does(
    graph: Graph, primary: Graph
) -> None:
    source = _one(graph, ESM).props
    assert source["eventSourceArn"] == STREAM_ARN
    assert source["functionName"].endswith(f":{_consumer(graph).props['name']}")
    assert source["destinationConfig"] == {"onFailure": {"destinationArn": DLQ_ARN}}
    assert source["batchSize"] == analytics.BATCH_SIZE
    assert source["maximumBatchingWindowInSeconds"] == analytics.BATCHING_WINDOW_S
    assert source["parallelizationFactor"] == analytics.PARALLELIZATION_FACTOR
    assert source["bisectBatchOnFunctionError"] is True
    assert source["maximumRetryAttempts"] == analytics.MAX_RETRY_ATTEMPTS
    assert source["maximumRecordAgeInSeconds"] == analytics.MAX_RECORD_AGE_S
    assert source["functionResponseTypes"] == ["ReportBatchItemFailures"]
    (home,) = [
        s
        for s in primary.of(ESM)
        if primary.regions[s.name] == HOME and ":kinesis:" in s.props["eventSourceArn"]
    ]
    wired = ("eventSourceArn", "functionName", "destinationConfig")
    assert _without(source, *wired) == _without(home.props, *wired)


def test_the_consumer_role_names_only_the_region_s_stream_queue_tables_and_artifacts(
    graph: Graph,
) -> None:
    policy = f"{NAME}-function-role-policy"
    found = statements(graph, policy)
    assert found["ReadStream"]["Resource"] == [STREAM_ARN]
    assert found["DeadLetters"]["Resource"] == [DLQ_ARN]
    assert found["Analytics"]["Resource"] == [TABLE_ARNS[spec.ANALYTICS.logical]]
    assert found["Progress"]["Resource"] == [TABLE_ARNS[spec.VIEWERS.logical]]
    assert found["Catalog"]["Resource"] == [TABLE_ARNS[spec.CATALOG.logical]]
    assert found["CatalogSnapshots"]["Resource"] == [
        f"{ARTIFACTS_COPY_ARN}/{spec.CATALOG_ARTIFACTS_PREFIX}*"
    ]
    assert found["Tracing"] == policies.tracing()
    # nothing of the home region: the region records progress while the home is down
    named = [arn for s in found.values() for arn in s["Resource"] if arn != "*"]
    assert not [arn for arn in named if HOME in arn]
    assert rules.iam_no_wildcards([graph.named(policy)]) == []


# --- the lake copy ---------------------------------------------------------------------------
def test_the_lake_copy_is_hardened_like_every_bucket(graph: Graph) -> None:
    bucket = graph.named(f"{NAME}-lake").props
    assert bucket["bucket"] == LAKE_COPY
    assert bucket["forceDestroy"] is True
    for rule in (rules.s3_encrypted, rules.s3_public_access_blocked, rules.s3_tls_only):
        assert rule(graph.resources) == []
    (versioning,) = graph.of(VERSIONING)
    assert versioning.props["bucket"] == LAKE_COPY
    assert versioning.props["versioningConfiguration"] == {"status": "Enabled"}


def test_the_lake_copy_keeps_the_home_lake_s_lifecycle_and_lets_replicated_events_go(
    graph: Graph,
) -> None:
    found = {r["id"]: r for r in _one(graph, LIFECYCLE).props["rules"]}
    home = spec.lifecycle(
        spec.LAKE, masters_glacier_days=0, noncurrent_days=NONCURRENT_DAYS, log_days=LOG_DAYS
    )
    assert {rule.id for rule in home} < set(found)
    housekeeping = found["abort-incomplete-multipart"]
    assert housekeeping["noncurrentVersionExpiration"] == {"noncurrentDays": NONCURRENT_DAYS}
    assert found["expire-delivery-errors"]["expiration"] == {"days": LOG_DAYS}
    events = found["expire-replicated-events"]
    assert events["filter"] == {"prefix": spec.LAKE_EVENTS_PREFIX}
    assert events["expiration"] == {"days": COPY_EVENTS_DAYS}
    # the home lake keeps its events
    assert not [r for r in home if r.prefix == spec.LAKE_EVENTS_PREFIX and r.expiration_days]
    assert lake_copy_lifecycle(NONCURRENT_DAYS, LOG_DAYS)[: len(home)] == home


def test_events_replicate_into_the_home_lake_without_deletes(graph: Graph) -> None:
    replication = _one(graph, REPLICATION).props
    assert replication["bucket"] == LAKE_COPY
    (rule,) = replication["rules"]
    assert rule["id"] == REPLICATION_RULE
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": spec.LAKE_EVENTS_PREFIX}
    assert rule["destination"] == {"bucket": HOME_LAKE_ARN}
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    role = graph.named(f"{NAME}-replication-role")
    assert replication["role"] == f"arn:aws:iam::{ACCOUNT}:role/{role.name}"
    (trust,) = json.loads(role.props["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    found = statements(graph, f"{NAME}-replication-role-policy")
    assert found["SourceEvents"]["Resource"] == [f"{LAKE_COPY_ARN}/{spec.LAKE_EVENTS_PREFIX}*"]
    assert found["HomeEvents"]["Resource"] == [f"{HOME_LAKE_ARN}/{spec.LAKE_EVENTS_PREFIX}*"]
    assert rules.iam_no_wildcards([graph.named(f"{NAME}-replication-role-policy")]) == []


def test_the_replication_role_reads_events_of_the_copy_and_writes_them_home_only() -> None:
    document = json.loads(
        events_replication_policy(
            source_bucket_arn="arn:aws:s3:::copy", home_bucket_arn="arn:aws:s3:::home"
        )
    )
    found = {s["Sid"]: s for s in document["Statement"]}
    assert set(found) == {"SourceBucket", "SourceEvents", "HomeEvents"}
    assert found["SourceBucket"]["Resource"] == ["arn:aws:s3:::copy"]
    assert found["SourceEvents"]["Resource"] == ["arn:aws:s3:::copy/events/*"]
    assert found["HomeEvents"]["Resource"] == ["arn:aws:s3:::home/events/*"]
    actions = {a for s in found.values() for a in s["Action"]}
    assert "s3:ReplicateObject" in actions
    # deletes stay in the region, and no statement reaches anything but the two buckets
    assert not [a for a in actions if "Delete" in a or "*" in a]
    assert not [a for a in actions if not a.startswith("s3:")]


def test_firehose_writes_the_primary_s_layout_converting_with_the_home_glue_table(
    graph: Graph, primary: Graph
) -> None:
    delivery = _one(graph, DELIVERY).props
    assert delivery["name"] == analytics.lake_delivery_name(NAMING, REGION)
    assert delivery["kinesisSourceConfiguration"]["kinesisStreamArn"] == STREAM_ARN
    s3 = delivery["extendedS3Configuration"]
    assert s3["bucketArn"] == LAKE_COPY_ARN
    schema = s3["dataFormatConversionConfiguration"]["schemaConfiguration"]
    assert schema["region"] == HOME
    assert schema["databaseName"] == GLUE_DATABASE
    assert schema["tableName"] == spec.LAKE_TABLE
    assert schema["catalogId"] == ACCOUNT
    (home,) = [d for d in primary.of(DELIVERY) if primary.regions[d.name] == HOME]
    home_s3 = home.props["extendedS3Configuration"]
    # the same folders (the Glue table's projection reads them), format and buffering ...
    same = (
        "prefix",
        "errorOutputPrefix",
        "fileExtension",
        "bufferingSize",
        "bufferingInterval",
        "compressionFormat",
    )
    assert {k: s3[k] for k in same} == {k: home_s3[k] for k in same}
    assert s3["prefix"] == analytics.lake_prefix()
    home_conversion = home_s3["dataFormatConversionConfiguration"]
    conversion = s3["dataFormatConversionConfiguration"]
    assert _without(conversion, "schemaConfiguration") == _without(
        home_conversion, "schemaConfiguration"
    )
    # ... from a delivery stream of another name: object names start with it, so the files
    # of both regions sit side by side in the home lake's folders
    assert delivery["name"] != home.props["name"]
    assert REGION in delivery["name"]


def test_the_delivery_role_reads_the_home_schema_and_writes_the_region_s_copy(
    graph: Graph,
) -> None:
    policy = f"{NAME}-delivery-role-policy"
    found = statements(graph, policy)
    database_arn, table_arn = glue_table_arns(HOME, ACCOUNT, GLUE_DATABASE, spec.LAKE_TABLE)
    assert found["Schema"]["Resource"] == sorted(
        [f"arn:aws:glue:{HOME}:{ACCOUNT}:catalog", database_arn, table_arn]
    )
    assert found["ReadStream"]["Resource"] == [STREAM_ARN]
    assert found["LakeBucket"]["Resource"] == [LAKE_COPY_ARN]
    assert found["LakeObjects"]["Resource"] == [
        f"{LAKE_COPY_ARN}/{spec.LAKE_ERRORS_PREFIX}*",
        f"{LAKE_COPY_ARN}/{spec.LAKE_EVENTS_PREFIX}*",
    ]
    (log_stream,) = found["DeliveryLogs"]["Resource"]
    assert f":/aws/kinesisfirehose/{analytics.lake_delivery_name(NAMING, REGION)}:" in log_stream
    assert rules.iam_no_wildcards([graph.named(policy)]) == []


def test_glue_arns_are_iam_s() -> None:
    assert glue_table_arns("eu-west-1", ACCOUNT, "db", "t") == (
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:database/db",
        f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/db/t",
    )


def test_each_region_s_delivery_has_a_name_of_its_own() -> None:
    names = {
        analytics.lake_delivery_name(NAMING),
        *(analytics.lake_delivery_name(NAMING, r) for r in ("us-west-2", "eu-west-1")),
    }
    assert len(names) == 3
    assert analytics.lake_delivery_name(NAMING) == f"{NAMING.prefix}-events-lake"


# --- the policy pack -------------------------------------------------------------------------
def test_the_component_passes_every_policy_rule(graph: Graph) -> None:
    assert rules.violations(graph.resources) == {}
