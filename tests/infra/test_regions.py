"""The multi-region shape under Pulumi mocks: the prod stack over its two regions, the same
program over three, and the single-region stacks that stay so. Each region gets a provider of
its own (the primary: the default provider), the API, a replica of every table and a KMS key
for them, a replica of the media key and of the signing secret, and a copy of the artifacts;
each region's API calls its region's and is alarmed there; the media bucket replicates to
one replica; a custom domain routes by latency to the healthy regions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from flixstack import spec
from infra import outputs, policies
from infra.components import api_domain, cdn
from infra.policy import rules
from infra.policy.rules import Resource
from tests.infra.conftest import shared_graph
from tests.infra.mockgraph import (
    ACCOUNT,
    REGION,
    Graph,
    api_gateway_zone,
    explicit_provider,
    naming,
    resolve,
    run_stack,
    stack_config,
    statements,
)

pytestmark = pytest.mark.usefixtures("no_pip")

PROVIDER = "pulumi:providers:aws"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
ALIAS = "aws:kms/alias:Alias"
LAYER = "aws:lambda/layerVersion:LayerVersion"
HTTP_API = "aws:apigatewayv2/api:Api"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
CERTIFICATE = "aws:acm/certificate:Certificate"
CERTIFICATE_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
DOMAIN_NAME = "aws:apigatewayv2/domainName:DomainName"
API_MAPPING = "aws:apigatewayv2/apiMapping:ApiMapping"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
THREE_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
SINGLE_REGION = ("dev", "localstack")


@dataclass(frozen=True)
class Stack:
    graph: Graph
    regions: list[str]
    """The configured regions, the primary first."""
    domain: str
    zone: str

    @property
    def secondaries(self) -> list[str]:
        return self.regions[1:]


@pytest.fixture(params=["prod", "three-regions"])
def multi(request: pytest.FixtureRequest, no_pip: None) -> Stack:
    """The prod stack as its file has it (two regions), and with a third region."""
    config = stack_config("prod")
    extra = (
        {"flixstack:regions": json.dumps(THREE_REGIONS)} if request.param == "three-regions" else {}
    )
    return Stack(
        shared_graph("prod", extra),
        THREE_REGIONS if extra else json.loads(config["flixstack:regions"]),
        config["flixstack:apiDomain"],
        config["flixstack:hostedZoneId"],
    )


def _in(graph: Graph, type_: str, region: str) -> list[Resource]:
    return [r for r in graph.of(type_) if graph.regions[r.name] == region]


def _api_functions(graph: Graph) -> dict[str, Resource]:
    """The API's function in each region, by region."""
    functions = [
        f for f in graph.of(rules.FUNCTION) if f.props["handler"] == "functions.api.handler"
    ]
    by_region = {graph.regions[f.name]: f for f in functions}
    assert len(by_region) == len(functions)  # one per region
    return by_region


def _data_key(graph: Graph, region: str) -> Resource:
    (key,) = [k for k in _in(graph, KEY, region) if k.name.startswith("data-")]
    return key


def _key_arn(graph: Graph, key: Resource) -> str:
    """The ARN the mocks give a KMS key (``arn:aws:kms:<region>:<account>:<name>``)."""
    return f"arn:aws:kms:{graph.regions[key.name]}:{ACCOUNT}:{key.name}"


# --- regions and providers -----------------------------------------------------------------------
def test_the_prod_stack_spans_its_regions_with_a_provider_each(multi: Stack) -> None:
    graph = multi.graph
    # GIVEN the primary region's default provider and one explicit provider per other region
    providers = {p.name: p.props for p in graph.of(PROVIDER)}
    assert set(providers) == {f"aws-{region}" for region in multi.secondaries}
    for region in multi.secondaries:
        assert providers[f"aws-{region}"]["region"] == region
        # it may act in the stack's account only
        assert providers[f"aws-{region}"]["allowedAccountIds"] == json.dumps([ACCOUNT])
    # THEN resources are created in every region, and those outside the primary by the
    # provider of their region (not by a per-resource region argument)
    assert set(graph.regions.values()) == set(multi.regions)
    for region in multi.secondaries:
        regional = [n for n, r in graph.regions.items() if r == region and not n.startswith("aws-")]
        assert regional
        assert {graph.providers[n] for n in regional} == {f"aws-{region}"}


def test_every_region_has_a_rotating_kms_key_for_the_tables(multi: Stack) -> None:
    graph = multi.graph
    prefix = naming(graph).prefix
    for region in multi.regions:
        key = _data_key(graph, region)
        assert key.props["enableKeyRotation"] is True
        # its alias is the same in every region (aliases are regional)
        (alias,) = [a for a in _in(graph, ALIAS, region) if a.name == f"{key.name}-alias"]
        assert alias.props["name"] == f"alias/{prefix}-{spec.DATA_KEY.logical}"
        # this account's principals use it through DynamoDB in its own region only
        statement = json.loads(key.props["policy"])["Statement"][1]
        assert statement["Condition"]["StringEquals"] == {
            "kms:CallerAccount": ACCOUNT,
            "kms:ViaService": f"dynamodb.{region}.amazonaws.com",
        }
        assert key.props["policy"] == policies.table_key_policy(ACCOUNT, region)
    # every region holds keys, and every key of the stack rotates
    assert {graph.regions[k.name] for k in graph.of(KEY)} == set(multi.regions)
    assert rules.encrypted_at_rest(graph.of(KEY)) == []


# --- DynamoDB global tables ------------------------------------------------------------------------
def test_every_table_is_a_global_table_replicated_to_each_secondary_region(multi: Stack) -> None:
    graph = multi.graph
    tables = graph.of(rules.TABLE)
    assert len(tables) == len(spec.TABLES)
    for table in tables:
        # the table is the primary region's, encrypted with that region's key
        assert graph.regions[table.name] == multi.regions[0]
        assert table.props["serverSideEncryption"] == {
            "enabled": True,
            "kmsKeyArn": _key_arn(graph, _data_key(graph, multi.regions[0])),
        }
        # global tables replicate from a stream of new and old images
        assert table.props["streamEnabled"] is True
        assert table.props["streamViewType"] == "NEW_AND_OLD_IMAGES"
        # a replica in each secondary region: its own key, PITR, deletion protection
        assert table.props["replicas"] == [
            {
                "regionName": region,
                "kmsKeyArn": _key_arn(graph, _data_key(graph, region)),
                "pointInTimeRecovery": True,
                "deletionProtectionEnabled": True,
                "propagateTags": True,
            }
            for region in multi.secondaries
        ]
    assert rules.dynamodb_point_in_time_recovery(tables) == []


# --- media replication ---------------------------------------------------------------------------
def test_media_replicates_to_one_replica_in_the_first_secondary_region(multi: Stack) -> None:
    """However many regions: a CloudFront origin group has two origins, so one replica."""
    graph = multi.graph
    replica = naming(graph).bucket(spec.MEDIA, multi.secondaries[0])
    media_buckets = [b for b in graph.of(rules.BUCKET) if b.name.startswith("storage-media")]
    assert {b.props["bucket"]: graph.regions[b.name] for b in media_buckets} == {
        naming(graph).bucket(spec.MEDIA): multi.regions[0],
        replica: multi.secondaries[0],
    }
    (replication,) = [
        r for r in graph.of(REPLICATION) if r.props["bucket"] == naming(graph).bucket(spec.MEDIA)
    ]
    (rule,) = replication.props["rules"]
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::{replica}"
    for distribution in graph.of(rules.DISTRIBUTION):
        if distribution.props["tags"]["capability"] != cdn.CAPABILITY:
            continue
        (group,) = distribution.props["originGroups"]
        assert [m["originId"] for m in group["members"]] == ["media", "media-replica"]


# --- what each region's API needs there -----------------------------------------------------------
def _home_artifacts(graph: Graph) -> str:
    return naming(graph).bucket(spec.ARTIFACTS)


def test_every_secondary_has_a_hardened_copy_of_the_artifacts(multi: Stack) -> None:
    graph = multi.graph
    n = naming(graph)
    copies = [
        b for b in graph.of(rules.BUCKET) if b.props["bucket"].startswith(f"{n.prefix}-artifacts")
    ]
    # GIVEN the home bucket and one copy a secondary region, made by that region's provider
    assert {b.props["bucket"]: graph.regions[b.name] for b in copies} == {
        _home_artifacts(graph): multi.regions[0],
        **{n.bucket(spec.ARTIFACTS, region): region for region in multi.secondaries},
    }
    for region in multi.secondaries:
        (copy,) = [b for b in copies if graph.regions[b.name] == region]
        assert graph.providers[copy.name] == f"aws-{region}"
        # THEN each copy is hardened like every bucket: SSE-S3 (the spec's artifacts are not
        # KMS), no public access, versioned (replication needs it), TLS only, and the spec's
        # lifecycle; S3 delivers access logs within a region only, so it has none
        name = copy.props["bucket"]
        sse = graph.named(f"{copy.name}-encryption").props["rules"][0]
        assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
        assert graph.named(f"{copy.name}-public-access").props["restrictPublicBuckets"] is True
        versioning = graph.named(f"{copy.name}-versioning").props
        assert versioning["versioningConfiguration"] == {"status": "Enabled"}
        assert graph.named(f"{copy.name}-policy").props["policy"] == (
            policies.tls_only_bucket_policy(f"arn:aws:s3:::{name}")
        )
        assert graph.named(f"{copy.name}-lifecycle").props["bucket"] == name
        assert [r for r in graph.of(LOGGING) if r.props["bucket"] == name] == []


def test_the_home_artifacts_replicate_whole_into_every_copy(multi: Stack) -> None:
    graph = multi.graph
    n = naming(graph)
    (replication,) = [
        r for r in graph.of(REPLICATION) if r.props["bucket"] == _home_artifacts(graph)
    ]
    assert graph.regions[replication.name] == multi.regions[0]
    # one rule a copy, each its own id and priority, every object and its deletes
    replicated = replication.props["rules"]
    assert [r["destination"] for r in replicated] == [
        {"bucket": f"arn:aws:s3:::{n.bucket(spec.ARTIFACTS, region)}"}
        for region in multi.secondaries
    ]
    assert (
        len({r["id"] for r in replicated})
        == len({r["priority"] for r in replicated})
        == len(multi.secondaries)
    )
    for rule in replicated:
        assert rule["status"] == "Enabled"
        assert rule["filter"] == {"prefix": ""}
        assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    # by a role of its own, which S3 may assume and which reads the home bucket only and
    # writes the copies only
    role = f"storage-{spec.ARTIFACTS.logical}-replication-role"
    assert replication.props["role"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert graph.named(role).props["assumeRolePolicy"] == policies.assume_role_policy(
        "s3.amazonaws.com"
    )
    assert graph.named(f"{role}-policy").props["policy"] == policies.copies_replication_policy(
        source_bucket_arn=f"arn:aws:s3:::{_home_artifacts(graph)}",
        copy_bucket_arns=[
            f"arn:aws:s3:::{n.bucket(spec.ARTIFACTS, region)}" for region in multi.secondaries
        ],
    )


def _media_key(graph: Graph) -> Resource:
    return graph.named("storage-media-key")


def test_the_media_key_is_multi_region_with_a_replica_and_its_alias_in_each_secondary(
    multi: Stack,
) -> None:
    graph = multi.graph
    primary = _media_key(graph)
    assert primary.props["multiRegion"] is True
    assert primary.props["enableKeyRotation"] is True  # a replica rotates with it
    replicas = {graph.regions[r.name]: r for r in graph.of(REPLICA_KEY)}
    assert set(replicas) == set(multi.secondaries)
    for region, replica in replicas.items():
        assert graph.providers[replica.name] == f"aws-{region}"
        assert replica.props["primaryKeyArn"] == _key_arn(graph, primary)
        assert replica.props["deletionWindowInDays"] == 30
        # the runtime names the key by its alias, in whichever region it runs
        (alias,) = [a for a in _in(graph, ALIAS, region) if a.name == f"{replica.name}-alias"]
        assert alias.props["name"] == naming(graph).key_alias(spec.MEDIA_KEY)
        assert alias.props["targetKeyId"] == f"{replica.name}-key-id"
    # the media replica is encrypted with the key's replica in its region: no key of its own
    replica_region = multi.secondaries[0]
    sse = graph.named("storage-media-replica-encryption").props["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == (
        f"arn:aws:kms:{replica_region}:{ACCOUNT}:{replicas[replica_region].name}"
    )
    assert [k.name for k in graph.of(KEY) if k.name.startswith("storage-")] == [primary.name]


def test_the_replica_region_s_alias_moves_from_its_old_key_to_the_replica(
    monkeypatch: pytest.MonkeyPatch, no_pip: None
) -> None:
    """The media replica's region had a key of its own carrying the alias: the replica's
    alias takes over that resource, as creating a second alias of the name would fail."""
    options: dict[str, pulumi.ResourceOptions | None] = {}
    alias_type = aws.kms.Alias

    def recording(
        resource_name: str, *args: Any, opts: pulumi.ResourceOptions | None = None, **kw: Any
    ) -> Any:
        options[resource_name] = opts
        return alias_type(resource_name, *args, opts=opts, **kw)

    monkeypatch.setattr(aws.kms, "Alias", recording)
    run_stack("prod", {"flixstack:regions": json.dumps(THREE_REGIONS)})
    (moved,) = options[f"storage-media-key-{THREE_REGIONS[1]}-alias"].aliases  # type: ignore[union-attr]
    assert isinstance(moved, pulumi.Alias)
    assert moved.name == "storage-media-replica-key-alias"
    assert not options[f"storage-media-key-{THREE_REGIONS[2]}-alias"].aliases  # type: ignore[union-attr]
    assert not options["storage-media-key-alias"].aliases  # type: ignore[union-attr]


def test_the_signing_secret_has_a_replica_in_each_secondary(multi: Stack) -> None:
    secret = multi.graph.named("cdn-signing-secret")
    assert secret.props["replicas"] == [{"region": region} for region in multi.secondaries]
    # under the AWS managed key, which every region has: no key of the stack's to replicate
    assert "kmsKeyId" not in secret.props


def _api_statements(graph: Graph, region: str) -> dict[str, dict[str, Any]]:
    name = "api" if region == REGION else f"api-{region}"
    return statements(graph, f"{name}-function-role-policy")


def test_each_region_s_api_calls_the_tables_key_and_secret_of_its_region(multi: Stack) -> None:
    graph = multi.graph
    n = naming(graph)
    home_buckets = [f"arn:aws:s3:::{n.bucket(b)}" for b in spec.BUCKETS]
    for region in multi.regions:
        found = _api_statements(graph, region)
        # GIVEN the API in `region`: the tables (global table replicas outside the primary)
        # and their indexes there
        tables = [
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:{n.table(t)}"
            for t in spec.TABLES
            if t is not spec.CONTENT_KEYS
        ]
        assert found["Tables"]["Resource"] == sorted([*tables, *(f"{t}/index/*" for t in tables)])
        assert found["ContentKeys"]["Resource"] == [
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:{n.table(spec.CONTENT_KEYS)}"
        ]
        # the media key there (it unwraps content keys made in the primary)
        key = _media_key(graph) if region == REGION else graph.named(f"storage-media-key-{region}")
        assert found["Keys"]["Resource"] == [_key_arn(graph, key)]
        # the signing secret there: a replica's ARN is the primary's in its region
        assert found["Secrets"]["Resource"] == [
            f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{n.secret(spec.CDN_SIGNING)}-AbCdEf"
        ]
        # the events stream there, and its dead-letter queue (which /health describes)
        assert [arn.split(":")[3] for arn in found["Streams"]["Resource"]] == [region]
        events_dlq = n.queue(spec.EVENTS_DLQ)
        assert [
            arn.split(":")[3] for arn in found["Queues"]["Resource"] if arn.endswith(events_dlq)
        ] == [region]
        # THEN the home region's buckets, other queues and user pool are still the ones it
        # writes and calls
        assert found["Buckets"]["Resource"] == sorted(home_buckets)
        assert found["Objects"]["Resource"] == sorted(f"{b}/*" for b in home_buckets)
        home_queues = [a for a in found["Queues"]["Resource"] if not a.endswith(events_dlq)]
        for arns in (home_queues, found["UserPools"]["Resource"]):
            assert arns
            assert all(f":{REGION}:" in arn for arn in arns)
        if region == REGION:
            assert "BucketCopies" not in found
            continue
        # AND outside the primary, it reads (only) its region's copy of the artifacts
        copy = f"arn:aws:s3:::{n.bucket(spec.ARTIFACTS, region)}"
        assert found["BucketCopies"]["Resource"] == [copy]
        assert found["BucketCopyObjects"] == {
            "Sid": "BucketCopyObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{copy}/*"],
        }
        # and names no table, key or secret of another region
        for sid in ("Tables", "ContentKeys", "Keys", "Secrets"):
            assert all(f":{region}:" in arn for arn in found[sid]["Resource"]), sid


@pytest.mark.parametrize("stack", SINGLE_REGION)
def test_single_region_stacks_keep_a_plain_key_and_no_copies(graph: Graph) -> None:
    """A key is made multi-region or not at all: theirs stays as it is, not replaced."""
    assert "multiRegion" not in _media_key(graph).props
    assert graph.of(REPLICA_KEY) == []
    assert "replicas" not in graph.named("cdn-signing-secret").props
    assert graph.of(REPLICATION) == []
    (function,) = _api_functions(graph).values()
    variables = function.props["environment"]["variables"]
    assert variables["FLIXSTACK_REGION"] == variables["FLIXSTACK_HOME_REGION"] == REGION
    assert "BucketCopies" not in _api_statements(graph, REGION)


def test_every_function_knows_its_region_and_home(multi: Stack) -> None:
    """The functions of the primary alone (transcoding, prewarming) run where their home is:
    the home region they are told is their own. The API and the events consumer are in
    every region, each told its own."""
    graph = multi.graph
    everywhere = {"functions.api.handler", "functions.events.handler"}
    placed: dict[str, list[str]] = {handler: [] for handler in everywhere}
    for function in graph.of(rules.FUNCTION):
        variables = function.props["environment"]["variables"]
        region = graph.regions[function.name]
        assert variables["FLIXSTACK_HOME_REGION"] == REGION, function.name
        assert variables.get("FLIXSTACK_REGION", REGION) == region, function.name
        if function.props["handler"] in everywhere:
            placed[function.props["handler"]].append(region)
        else:
            assert region == REGION, function.name
    assert {handler: sorted(r) for handler, r in placed.items()} == dict.fromkeys(
        everywhere, sorted(multi.regions)
    )


# --- each region's API is alarmed there ------------------------------------------------------------
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def test_each_secondary_api_is_alarmed_in_its_region_on_a_topic_there(multi: Stack) -> None:
    graph = multi.graph
    prefix = naming(graph).prefix
    alarms = {a.props["name"]: a for a in graph.of(rules.ALARM)}
    # the primary's alarms keep their names
    assert {f"{prefix}-api-5xx", f"{prefix}-api-latency-p99"} <= set(alarms)
    for region in multi.secondaries:
        # GIVEN the region's API and its alarm topic, made there (a topic of one region
        # only hears alarms of that region), encrypted with a key there, mailing the same
        (http_api,) = _in(graph, HTTP_API, region)
        (topic,) = _in(graph, TOPIC, region)
        assert graph.providers[topic.name] == f"aws-{region}"
        assert (
            topic.props["kmsMasterKeyId"] == f"arn:aws:kms:{region}:{ACCOUNT}:alerting-{region}-key"
        )
        topic_arn = f"arn:aws:sns:{region}:{ACCOUNT}:{prefix}-alarms"
        policy = statements(graph, f"alerting-{region}-topic-policy")["CloudWatchAlarmsPublish"]
        assert policy["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
            f"arn:aws:cloudwatch:{region}:"
        )
        # whoever the primary's topic mails (prod sets nobody), so does this one
        assert [e.props["endpoint"] for e in _in(graph, SUBSCRIPTION, region)] == [
            e.props["endpoint"] for e in _in(graph, SUBSCRIPTION, REGION)
        ]
        # THEN its 5xx share and p99 latency are alarmed there, on its API, notifying it
        errors = alarms[f"{prefix}-api-5xx-{region}"]
        latency = alarms[f"{prefix}-api-latency-p99-{region}"]
        for alarm in (errors, latency):
            assert graph.providers[alarm.name] == f"aws-{region}"
            assert alarm.props["alarmActions"] == alarm.props["okActions"] == [topic_arn]
        queries = {q["id"]: q for q in errors.props["metricQueries"]}
        assert queries["errors"]["metric"]["dimensions"] == {"ApiId": graph.ids[http_api.name]}
        assert latency.props["dimensions"] == {"ApiId": graph.ids[http_api.name]}
        primary = alarms[f"{prefix}-api-latency-p99"].props
        assert latency.props["threshold"] == primary["threshold"]


def test_a_us_east_1_secondary_s_topic_also_takes_the_cdn_alarms(no_pip: None) -> None:
    """CloudFront's alarms live in us-east-1: when that is a secondary region, its topic is
    theirs too (a second topic of the name there would collide)."""
    regions = ["eu-west-1", "us-east-1"]
    email = "oncall@example.com"
    graph = run_stack(
        "prod",
        {
            "aws:region": regions[0],
            "flixstack:regions": json.dumps(regions),
            "flixstack:alarmEmail": email,
        },
    )
    topics = {t.name: graph.regions[t.name] for t in graph.of(TOPIC)}
    assert topics == {"alerting-topic": regions[0], "alerting-us-east-1-topic": regions[1]}
    # each mails the address
    mails = {graph.regions[e.name]: e.props["endpoint"] for e in graph.of(SUBSCRIPTION)}
    assert mails == {region: email for region in regions}
    prefix = naming(graph).prefix
    cdn_alarms = [a for a in graph.of(rules.ALARM) if a.props["name"].startswith(f"{prefix}-cdn-")]
    assert cdn_alarms
    for alarm in cdn_alarms:
        assert alarm.props["alarmActions"] == [f"arn:aws:sns:us-east-1:{ACCOUNT}:{prefix}-alarms"]


# --- the API in every region ---------------------------------------------------------------------
def test_the_api_runs_in_every_region_with_that_region_s_layer(multi: Stack) -> None:
    graph = multi.graph
    functions = _api_functions(graph)
    assert set(functions) == set(multi.regions)
    urls = resolve(graph.outputs[outputs.API_URLS])
    assert set(urls) == set(multi.regions)
    for region, function in functions.items():
        # the same function, with a layer of its own region (layers are regional)
        assert function.props["name"] == f"{naming(graph).prefix}-api"
        (layer,) = _in(graph, LAYER, region)
        (layer_arn,) = function.props["layers"]
        assert layer_arn == f"arn:aws:lambda:{region}:{ACCOUNT}:{layer.name}"
        # it runs in its region, whose replicas it calls, and knows the home region, whose
        # single-region resources (queues, stream, pool, buckets) it calls there
        variables = function.props["environment"]["variables"]
        assert variables["FLIXSTACK_REGION"] == region
        assert variables["FLIXSTACK_HOME_REGION"] == multi.regions[0] == REGION
        # and is served by that region's HTTP API, whose own URL is exported
        (http_api,) = _in(graph, HTTP_API, region)
        assert (
            urls[region]
            == f"https://{graph.ids[http_api.name]}.execute-api.{region}.amazonaws.com/"
        )


# --- one domain: latency routing with health-checked failover --------------------------------------
def test_each_region_has_a_certificate_validated_through_one_dns_record(multi: Stack) -> None:
    graph = multi.graph
    certificates = {graph.regions[c.name]: c for c in graph.of(CERTIFICATE)}
    assert set(certificates) == set(multi.regions)
    for certificate in certificates.values():
        assert certificate.props["domainName"] == multi.domain
        assert certificate.props["validationMethod"] == "DNS"
    # ACM's validation record is the same in every region: it is written once
    (validation,) = [r for r in graph.of(rules.DNS_RECORD) if r.props["type"] == "CNAME"]
    assert validation.props["zoneId"] == multi.zone
    assert validation.props["name"].endswith(f".{multi.domain}.")
    assert validation.props["records"][0].endswith(".acm-validations.aws.")
    validations = {graph.regions[v.name]: v for v in graph.of(CERTIFICATE_VALIDATION)}
    assert set(validations) == set(multi.regions)
    for region, check in validations.items():
        assert check.props["certificateArn"] == (
            f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{certificates[region].name}"
        )
        assert check.props["validationRecordFqdns"] == [validation.props["name"].rstrip(".")]


def test_each_region_s_api_has_the_domain_mapped_to_it(multi: Stack) -> None:
    graph = multi.graph
    for region in multi.regions:
        (domain,) = _in(graph, DOMAIN_NAME, region)
        assert domain.props["domainName"] == multi.domain
        configuration = domain.props["domainNameConfiguration"]
        assert configuration["certificateArn"].startswith(f"arn:aws:acm:{region}:")
        assert configuration["endpointType"] == "REGIONAL"
        assert configuration["securityPolicy"] == "TLS_1_2"
        (mapping,) = _in(graph, API_MAPPING, region)
        (http_api,) = _in(graph, HTTP_API, region)
        assert mapping.props["apiId"] == graph.ids[http_api.name]
        assert mapping.props["domainName"] == graph.ids[domain.name]
        assert mapping.props["stage"] == "$default"


def test_latency_records_answer_with_healthy_regions_only(multi: Stack) -> None:
    graph = multi.graph
    urls = resolve(graph.outputs[outputs.API_URLS])
    checks = {c.props["tags"]["region"]: c for c in graph.of(HEALTH_CHECK)}
    records = {
        r.props["setIdentifier"]: r
        for r in graph.of(rules.DNS_RECORD)
        if r.props.get("latencyRoutingPolicies")
    }
    assert set(checks) == set(records) == set(multi.regions)
    for region in multi.regions:
        # GIVEN a health check of the region's own endpoint (not the routed domain)
        check = checks[region].props
        assert check["type"] == "HTTPS"
        assert check["fqdn"] == api_domain.host(urls[region])
        assert check["resourcePath"] == "/health"
        assert check["port"] == 443
        assert check["enableSni"] is True
        assert check["failureThreshold"] == api_domain.HEALTH_CHECK_FAILURES
        # THEN the domain's record for the region answers only while it passes
        record = records[region].props
        assert record["zoneId"] == multi.zone
        assert record["name"] == multi.domain
        assert record["type"] == "A"
        assert record["latencyRoutingPolicies"] == [{"region": region}]
        assert record["healthCheckId"] == graph.ids[checks[region].name]
        (target,) = _in(graph, DOMAIN_NAME, region)
        assert record["aliases"] == [
            {
                "name": f"d-{target.name}.execute-api.{region}.amazonaws.com",
                "zoneId": api_gateway_zone(region),
                "evaluateTargetHealth": True,
            }
        ]


def test_clients_get_the_domain_and_the_regions_their_own_urls(multi: Stack) -> None:
    graph = multi.graph
    url = f"https://{multi.domain}/"
    assert resolve(graph.outputs[outputs.API_URL]) == url
    assert resolve(graph.outputs[outputs.REGIONS]) == multi.regions
    assert resolve(graph.outputs[outputs.REGION]) == multi.regions[0]
    # the key URIs the transcoder writes into playlists survive a region's failure
    (definition,) = json.loads(graph.named("transcoding-task").props["containerDefinitions"])
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    assert environment["FLIXSTACK_API_BASE_URL"] == url.rstrip("/")


def test_the_multi_region_stack_passes_every_policy_rule(multi: Stack) -> None:
    assert rules.violations(multi.graph.resources) == {}


def test_without_a_domain_the_regions_keep_their_own_urls() -> None:
    graph = run_stack("prod", without=("flixstack:apiDomain", "flixstack:hostedZoneId"))
    for type_ in (CERTIFICATE, DOMAIN_NAME, HEALTH_CHECK, rules.DNS_RECORD):
        assert graph.of(type_) == []
    urls = resolve(graph.outputs[outputs.API_URLS])
    assert set(urls) == {"us-east-1", "us-west-2"}
    assert resolve(graph.outputs[outputs.API_URL]) == urls["us-east-1"]


# --- single-region stacks ------------------------------------------------------------------------
@pytest.mark.parametrize("stack", SINGLE_REGION)
def test_single_region_stacks_stay_in_their_region(graph: Graph) -> None:
    assert graph.of(PROVIDER) == []
    assert set(graph.regions.values()) == {REGION}
    assert set(graph.providers.values()) == {None}
    for table in graph.of(rules.TABLE):
        assert "replicas" not in table.props
        assert table.props["serverSideEncryption"]["kmsKeyArn"] == _key_arn(
            graph, _data_key(graph, REGION)
        )
    assert graph.of(CERTIFICATE) == graph.of(rules.DNS_RECORD) == []
    urls = resolve(graph.outputs[outputs.API_URLS])
    assert list(urls) == [REGION]
    assert resolve(graph.outputs[outputs.API_URL]) == urls[REGION]
    assert resolve(graph.outputs[outputs.REGIONS]) == [REGION]


# --- stack configuration -------------------------------------------------------------------------
def test_the_primary_region_must_be_aws_region() -> None:
    with pytest.raises(ValueError, match=r"must be aws:region \(us-west-2\)"):
        run_stack("prod", {"aws:region": "us-west-2"})


def test_a_stack_file_with_the_old_replica_setting_is_told_what_replaces_it() -> None:
    with pytest.raises(ValueError, match=r"flixstack:regions.*\[<aws:region>, us-west-2\]"):
        run_stack("dev", {"flixstack:mediaReplicaRegion": "us-west-2"})


# --- the mocks --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reference", "provider"),
    [
        (
            "urn:pulumi:prod::flixstack::pulumi:providers:aws::aws-us-west-2::aws-us-west-2-id",
            "aws-us-west-2",
        ),
        ("urn:pulumi:prod::flixstack::pulumi:providers:aws::default_7_51_1::abc", None),
        ("", None),
        (None, None),
    ],
)
def test_the_mocks_name_the_explicit_provider_of_a_registration(
    reference: str | None, provider: str | None
) -> None:
    assert explicit_provider(reference) == provider


def test_a_region_failing_its_health_check_raises_an_alarm_in_us_east_1(multi: Stack) -> None:
    """Route53 publishes health-check metrics in us-east-1: each region's check has an
    alarm there, on that check, that notifies the us-east-1 alarm topic both ways."""
    graph = multi.graph
    checks = {graph.ids[c.name]: c.props["tags"]["region"] for c in graph.of(HEALTH_CHECK)}
    alarms = [a for a in graph.of(rules.ALARM) if a.props.get("namespace") == "AWS/Route53"]
    watched = {a.props["dimensions"]["HealthCheckId"]: a for a in alarms}
    assert set(watched) == set(checks)
    assert len(alarms) == len(multi.regions)
    for alarm in alarms:
        props = alarm.props
        assert props["metricName"] == "HealthCheckStatus"
        assert (props["statistic"], props["comparisonOperator"], props["threshold"]) == (
            "Minimum", "LessThanThreshold", 1
        )  # fmt: skip
        assert props["treatMissingData"] == "breaching"
        assert graph.regions[alarm.name] == api_domain.HEALTH_METRICS_REGION
        [topic] = props["alarmActions"]
        assert props["okActions"] == [topic]
        assert f":{api_domain.HEALTH_METRICS_REGION}:" in topic
