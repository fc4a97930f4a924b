"""The whole Pulumi program under mocks, for every stack: the expected graph, named from the
spec, passing every policy rule."""

from __future__ import annotations

import json

import pytest

from flixstack import spec
from infra import outputs, policies
from infra.components import recommendations
from infra.policy import rules
from tests.infra.mockgraph import ACCOUNT, Graph, resolve, run_stack

pytestmark = pytest.mark.usefixtures("no_pip")


def _bucket_suffix(graph: Graph) -> str:
    return (
        ""
        if any("localstack" in r.props.get("bucket", "") for r in graph.of(rules.BUCKET))
        else ACCOUNT
    )


def test_every_stack_passes_every_policy_rule(graph: Graph) -> None:
    assert rules.violations(graph.resources) == {}


def test_one_component_per_capability(graph: Graph) -> None:
    types = {r.type for r in graph.resources}
    for component in (
        "Storage",
        "Data",
        "Messaging",
        "Identity",
        "Api",
        "Transcoding",
        "Cdn",
        "Prewarming",
        "Alerting",
        "Analytics",
        "Observability",
        "Recommendations",
        "WebApp",
        "WebAppRelease",
    ):
        assert f"flixstack:index:{component}" in types


def test_every_lambda_traces_and_may_write_traces(graph: Graph) -> None:
    functions = graph.of(rules.FUNCTION)
    assert {f.props["handler"] for f in functions} >= {
        "functions.api.handler",
        "functions.prewarm.handler",
        "functions.transcode_dispatch.handler",
        "functions.transcode_dispatch.on_task_stopped",
        "functions.events.handler",
    }
    role_policies = {p.props["role"]: p for p in graph.of("aws:iam/rolePolicy:RolePolicy")}
    for function in functions:
        assert function.props["tracingConfig"] == {"mode": "Active"}, function.name
        role = function.props["role"].rsplit("/", 1)[-1]  # the mocks' role name: its logical name
        document = json.loads(role_policies[graph.ids[role]].props["policy"])
        assert policies.tracing() in document["Statement"], function.name


def test_tables_follow_the_spec(graph: Graph) -> None:
    tables = {t.props["name"]: t for t in graph.of(rules.TABLE)}
    stage = next(iter(tables)).split("-")[1]
    naming = spec.Naming(stage)
    assert set(tables) == {naming.table(t) for t in spec.TABLES}
    for table_spec in spec.TABLES:
        table = tables[naming.table(table_spec)]
        assert table.props["billingMode"] == "PAY_PER_REQUEST"
        assert table.props["hashKey"] == table_spec.partition.name
        indexes = {i["name"]: i for i in table.props.get("globalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in table_spec.indexes}
        for index in table_spec.indexes:
            schema = {k["keyType"]: k["attributeName"] for k in indexes[index.name]["keySchemas"]}
            assert schema["HASH"] == index.partition.name
        # a global table (replicas in other regions) streams what replication needs
        if table.props.get("replicas"):
            assert table.props["streamEnabled"] is True
            assert table.props["streamViewType"] == "NEW_AND_OLD_IMAGES"
        else:
            assert table.props.get("streamEnabled", False) == (table_spec.stream is not None)
            assert table.props.get("streamViewType") == table_spec.stream
        if table_spec.ttl_attribute:
            assert table.props["ttl"] == {
                "attributeName": table_spec.ttl_attribute,
                "enabled": True,
            }


def test_buckets_queues_streams_and_pool_follow_the_spec(graph: Graph) -> None:
    stage = graph.of(rules.TABLE)[0].props["name"].split("-")[1]
    naming = spec.Naming(stage, _bucket_suffix(graph))
    # a multi-region stack adds the media replica, in its second region, and a copy of each
    # bucket in every region in each other region; the web app's bucket is the one bucket
    # the runtime does not use
    secondaries = resolve(graph.outputs[outputs.REGIONS])[1:]
    assert {b.props["bucket"] for b in graph.of(rules.BUCKET)} == {
        naming.bucket(b) for b in (*spec.BUCKETS, spec.WEBAPP)
    } | {naming.bucket(spec.MEDIA, region) for region in secondaries[:1]} | {
        naming.bucket(b, region) for b in spec.BUCKETS if b.every_region for region in secondaries
    } | {naming.bucket(spec.LAKE, region) for region in secondaries}  # events, replicated home
    # the training schedule's dead-letter queue is the one queue the runtime does not use
    assert {q.props["name"] for q in graph.of(rules.QUEUE)} == {
        naming.queue(q) for q in (*spec.QUEUES, recommendations.DEAD_LETTER)
    }
    assert {s.props["name"] for s in graph.of(rules.STREAM)} == {
        naming.stream(s) for s in spec.STREAMS
    }
    pools = graph.of("aws:cognito/userPool:UserPool")
    assert [p.props["name"] for p in pools] == [naming.user_pool(spec.USER_POOL)]
    groups = {g.props["name"] for g in graph.of("aws:cognito/userGroup:UserGroup")}
    assert groups == set(spec.USER_POOL.groups)


def test_transcode_queue_redrives_to_its_dead_letter_queue_after_three_receives(
    graph: Graph,
) -> None:
    transcode = next(q for q in graph.of(rules.QUEUE) if q.props["name"].endswith("-transcode"))
    policy = json.loads(transcode.props["redrivePolicy"])
    assert policy["maxReceiveCount"] == spec.TRANSCODE.max_receive_count == 3
    assert policy["deadLetterTargetArn"].endswith("-transcode-dlq")
    alarms = [a for a in graph.of(rules.ALARM) if a.props.get("namespace") == "AWS/SQS"]
    assert {a.props["dimensions"]["QueueName"] for a in alarms} >= {
        q.props["name"] for q in graph.of(rules.QUEUE) if q.props["name"].endswith("-dlq")
    }


def test_media_is_encrypted_with_the_media_kms_key(graph: Graph) -> None:
    media = next(b for b in graph.of(rules.BUCKET) if "-media" in b.props["bucket"])
    sse = next(s for s in graph.of(rules.BUCKET_SSE) if s.props["bucket"] == media.props["bucket"])
    default = sse.props["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"].startswith("arn:aws:kms:")


def _lifecycle(graph: Graph, logical: str) -> dict[str, dict[str, object]]:
    bucket = next(b for b in graph.of(rules.BUCKET) if f"-{logical}" in b.props["bucket"])
    config = next(
        c
        for c in graph.of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        if c.props["bucket"] == bucket.props["bucket"]
    )
    return {rule["id"]: rule for rule in config.props["rules"]}


def test_lifecycle_rules(graph: Graph) -> None:
    for bucket in spec.BUCKETS:
        abort = _lifecycle(graph, bucket.logical)["abort-incomplete-multipart"]
        assert abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    media = _lifecycle(graph, "media")["media-intelligent-tiering"]
    assert media["transitions"] == [{"days": 0, "storageClass": "INTELLIGENT_TIERING"}]
    ingest = _lifecycle(graph, "ingest")["masters-to-glacier-ir"]
    assert ingest["transitions"][0]["storageClass"] == "GLACIER_IR"  # type: ignore[index]


def test_archived_titles_media_goes_to_glacier_ir_by_tag(graph: Graph) -> None:
    archived = _lifecycle(graph, "media")["archived-titles-to-glacier-ir"]
    key, value = spec.ARCHIVE_TAG
    assert archived["filter"] == {"and": {"prefix": spec.MEDIA_TITLES_PREFIX, "tags": {key: value}}}
    assert archived["transitions"] == [{"days": 1, "storageClass": "GLACIER_IR"}]


def test_catalog_indexes_serve_the_admin_access_patterns(graph: Graph) -> None:
    """Titles by lifecycle state and by genre, jobs by title: the queries the repositories
    make, so nothing on a request path scans."""
    tables = {t.props["name"].rsplit("-", 1)[1]: t for t in graph.of(rules.TABLE)}
    wanted = {
        "catalog": {spec.CATALOG_BY_STATE, spec.CATALOG_BY_GENRE},
        "jobs": {spec.JOBS_BY_TITLE},
    }
    for logical, indexes in wanted.items():
        declared = {i["name"]: i for i in tables[logical].props["globalSecondaryIndexes"]}
        attributes = {a["name"]: a["type"] for a in tables[logical].props["attributes"]}
        for index in indexes:
            keys = {k["keyType"]: k["attributeName"] for k in declared[index.name]["keySchemas"]}
            assert keys == {"HASH": index.partition.name, "RANGE": index.sort.name}
            assert attributes[index.partition.name] == attributes[index.sort.name] == "S"
            assert declared[index.name]["projectionType"] == "ALL"


def test_catalog_snapshots_live_in_the_artifacts_bucket_where_readers_may_read(
    graph: Graph,
) -> None:
    """The snapshot (titles + search index) is written under ``catalog/`` in the artifacts
    bucket by the API (admin edits) and the transcoder (new media), and read by the API."""
    artifacts = next(b for b in graph.of(rules.BUCKET) if "-artifacts" in b.props["bucket"])
    arn = f"arn:aws:s3:::{artifacts.props['bucket']}"
    versioning = [
        v
        for v in graph.of("aws:s3/bucketVersioning:BucketVersioning")
        if v.props["bucket"] == artifacts.props["bucket"]
    ]
    assert versioning[0].props["versioningConfiguration"]["status"] == "Enabled"
    api_policy = json.loads(graph.named("api-function-role-policy").props["policy"])
    task_policy = json.loads(graph.named("transcoding-task-role-policy").props["policy"])
    snapshot_key = f"{arn}/{spec.CATALOG_ARTIFACTS_PREFIX}v000000001-abcd1234/search.bin"
    for policy in (api_policy, task_policy):
        assert _allows(policy, "s3:GetObject", snapshot_key)
        assert _allows(policy, "s3:PutObject", snapshot_key)
    assert not _allows(task_policy, "s3:PutObject", f"{arn}/models/x")


def _allows(policy: dict[str, list[dict[str, object]]], action: str, resource: str) -> bool:
    def matches(pattern: str) -> bool:
        return pattern == resource or (pattern.endswith("*") and resource.startswith(pattern[:-1]))

    return any(
        s["Effect"] == "Allow"
        and action in _listed(s["Action"])
        and any(matches(r) for r in _listed(s["Resource"]))
        for s in policy["Statement"]
    )


def _listed(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]


def test_glacier_days_come_from_stack_config() -> None:
    graph = run_stack("dev", {"flixstack:ingestGlacierDays": "45"})
    ingest = _lifecycle(graph, "ingest")["masters-to-glacier-ir"]
    assert ingest["transitions"] == [{"days": 45, "storageClass": "GLACIER_IR"}]


def test_api_lambda_and_http_api(graph: Graph) -> None:
    function = graph.named("api-function")
    assert function.props["runtime"] == "python3.12"
    assert function.props["handler"] == "functions.api.handler"
    assert function.props["reservedConcurrentExecutions"] > 0
    env = function.props["environment"]["variables"]
    assert env["FLIXSTACK_STAGE"] == function.props["name"].split("-")[1]
    # one HTTP API and stage in each region of the stack
    regions = resolve(graph.outputs[outputs.REGIONS])
    stages = graph.of("aws:apigatewayv2/stage:Stage")
    assert sorted(graph.regions[s.name] for s in stages) == sorted(regions)
    for stage in stages:
        settings = stage.props["defaultRouteSettings"]
        assert settings["throttlingRateLimit"] > 0
        assert settings["throttlingBurstLimit"] > 0
        assert stage.props["accessLogSettings"]["destinationArn"].startswith("arn:aws:cloudwatch")
    apis = graph.of("aws:apigatewayv2/api:Api")
    assert len(apis) == len(regions)
    assert {api.props["protocolType"] for api in apis} == {"HTTP"}


def test_api_role_reaches_only_the_stack_resources(graph: Graph) -> None:
    document = json.loads(graph.named("api-function-role-policy").props["policy"])
    statements = {s["Sid"]: s for s in document["Statement"]}
    table_names = {t.props["name"] for t in graph.of(rules.TABLE)}
    keys_table = next(
        name for name in table_names if name.endswith(f"-{spec.CONTENT_KEYS.logical}")
    )
    read_write = {r.split(":")[-1] for r in statements["Tables"]["Resource"] if "/index/" not in r}
    # every table but the content keys, which the API may only read
    assert read_write == table_names - {keys_table}
    assert [r.split(":")[-1] for r in statements["ContentKeys"]["Resource"]] == [keys_table]
    assert "dynamodb:PutItem" not in statements["ContentKeys"]["Action"]


def test_outputs_are_exported() -> None:
    graph = run_stack("dev")
    assert resolve(graph.outputs[outputs.STAGE]) == "dev"
    assert resolve(graph.outputs[outputs.API_URL]).startswith("https://")
    assert set(resolve(graph.outputs[outputs.TABLES])) == {t.logical for t in spec.TABLES}
    # the web app: its distribution's domain (the mocks': <resource name>-id.cloudfront.net)
    assert resolve(graph.outputs[outputs.WEBAPP_URL]) == (
        f"https://webapp-distribution-id.cloudfront.net{spec.WEBAPP_PATH}"
    )
    assert resolve(graph.outputs[outputs.WEBAPP_BUCKET]) == f"flixstack-dev-webapp-{ACCOUNT}"
    assert resolve(graph.outputs[outputs.WEBAPP_DISTRIBUTION_ID]) == "webapp-distribution-id"


def test_the_ingest_bucket_takes_uploads_from_the_web_origins_of_the_stack(graph: Graph) -> None:
    """The admin app PUTs upload parts straight to the ingest bucket: its CORS lets the
    stack's web origins do that and read each part's ETag; no other bucket has CORS."""
    [cors] = graph.of("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
    assert spec.INGEST.logical in cors.props["bucket"]
    [rule] = cors.props["corsRules"]
    assert rule["allowedMethods"] == ["PUT"]
    assert rule["exposeHeaders"] == ["ETag"]
    assert rule["allowedOrigins"]
    assert all(origin.startswith(("http://", "https://")) for origin in rule["allowedOrigins"])
