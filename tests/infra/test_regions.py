"""The multi-region shape under Pulumi mocks: the prod stack over its two regions, the same
program over three, and the single-region stacks that stay so. Each region gets a provider of
its own (the primary: the default provider), the API, a replica of every table and a KMS key
for them; the media bucket replicates to one replica; a custom domain routes by latency to
the healthy regions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from flixstack import spec
from infra import outputs, policies
from infra.components import api_domain, cdn
from infra.components.storage import replica_bucket_name
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
)

pytestmark = pytest.mark.usefixtures("no_pip")

PROVIDER = "pulumi:providers:aws"
KEY = "aws:kms/key:Key"
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
    replica = replica_bucket_name(naming(graph), spec.MEDIA, multi.secondaries[0])
    media_buckets = [b for b in graph.of(rules.BUCKET) if b.name.startswith("storage-media")]
    assert {b.props["bucket"]: graph.regions[b.name] for b in media_buckets} == {
        naming(graph).bucket(spec.MEDIA): multi.regions[0],
        replica: multi.secondaries[0],
    }
    (replication,) = graph.of(REPLICATION)
    (rule,) = replication.props["rules"]
    assert rule["destination"]["bucket"] == f"arn:aws:s3:::{replica}"
    for distribution in graph.of(rules.DISTRIBUTION):
        if distribution.props["tags"]["capability"] != cdn.CAPABILITY:
            continue
        (group,) = distribution.props["originGroups"]
        assert [m["originId"] for m in group["members"]] == ["media", "media-replica"]


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
        # it calls the stack's single-region resources (queues, pool, secret) in the primary
        assert function.props["environment"]["variables"]["FLIXSTACK_REGION"] == REGION
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
