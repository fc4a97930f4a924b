"""Playback and delivery under Pulumi mocks: the CloudFront distributions (origin access
control, failover to the media replica, signed cookies, cache and CORS policies, logs and the
optional features), the signing secret, S3 cross-region replication, and what the API and
the transcoder get from them."""

from __future__ import annotations

import json
import runpy
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime import rpc

from flixstack import spec
from flixstack.local import edge
from flixstack.playback.signing import SigningKey
from flixstack.settings import Settings
from infra import outputs
from infra.components import cdn
from infra.components.storage import REPLICATION_RULE, Storage
from infra.policy import rules
from infra.policy.rules import Resource
from tests.infra.conftest import shared_graph
from tests.infra.mockgraph import (
    ACCOUNT,
    REGION,
    ROOT,
    SIGNING_CONFIG,
    SIGNING_PRIVATE_KEY,
    SIGNING_PUBLIC_KEY,
    Graph,
    pem_key_pair,
    resolve,
    run,
    run_stack,
    stack_config,
)

pytestmark = pytest.mark.usefixtures("no_pip")

CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
PUBLIC_KEY = "aws:cloudfront/publicKey:PublicKey"
KEY_GROUP = "aws:cloudfront/keyGroup:KeyGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PROVIDER = "pulumi:providers:aws"
REPLICA_REGION = "us-west-2"  # stacks/Pulumi.prod.yaml
SINGLE_REGION = ("dev", "localstack")
YEAR_S = 365 * 24 * 3600


@pytest.fixture
def prod(no_pip: None) -> Graph:
    """The multi-region stack: the media replica in a second region."""
    return shared_graph("prod")


def _naming(graph: Graph) -> spec.Naming:
    stage = graph.of(rules.TABLE)[0].props["name"].split("-")[1]
    localstack = any("localstack" in b.props["bucket"] for b in graph.of(rules.BUCKET))
    return spec.Naming(stage, "" if localstack else ACCOUNT)


def _configured_cdns(stack: str) -> list[dict[str, Any]]:
    return list(json.loads(stack_config(stack)["flixstack:cdns"]))


def _media_distributions(graph: Graph) -> list[Resource]:
    """The CDN's distributions (the web app has one of its own)."""
    return [d for d in graph.of(rules.DISTRIBUTION) if d.props["tags"]["capability"] == "cdn"]


def _distributions(graph: Graph) -> dict[str, dict[str, Any]]:
    return {d.props["tags"]["cdn"]: dict(d.props) for d in _media_distributions(graph)}


def _behaviors(distribution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """By path pattern; the default behaviour under ``*``."""
    ordered = {b["pathPattern"]: b for b in distribution["orderedCacheBehaviors"]}
    return {**ordered, "*": distribution["defaultCacheBehavior"]}


def _one(graph: Graph, type_: str) -> dict[str, Any]:
    """The one resource of the type that the CDN (or storage) made."""
    (resource,) = [r for r in graph.of(type_) if not r.name.startswith("webapp")]
    return dict(resource.props)


def _cache_policy(graph: Graph, role: str) -> dict[str, Any]:
    (policy,) = [p for p in graph.of(CACHE_POLICY) if p.props["name"].endswith(f"-{role}")]
    return dict(policy.props)


def _mock_id(props: dict[str, Any]) -> str:
    """The id the mocks give a resource with a ``name`` property."""
    return f"{props['name']}-id"


def _statements(graph: Graph, resource: str) -> dict[str, dict[str, Any]]:
    document = json.loads(graph.named(resource).props["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def _env(graph: Graph, function: str) -> dict[str, str]:
    return dict(graph.named(function).props["environment"]["variables"])


def _distribution_arns(graph: Graph) -> list[str]:
    return sorted(
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/{d.name}-id"
        for d in _media_distributions(graph)
    )


# --- the distributions ---------------------------------------------------------------------------
def test_one_distribution_per_configured_cdn_and_at_least_two(stack: str, graph: Graph) -> None:
    configured = [c["name"] for c in _configured_cdns(stack)]
    distributions = _distributions(graph)
    assert len(distributions) >= 2
    assert sorted(distributions) == sorted(configured)
    for props in distributions.values():
        assert props["enabled"] is True
        assert props["isIpv6Enabled"] is True
        assert props["httpVersion"] == "http2and3"
        assert props["priceClass"] == stack_config(stack).get(
            "flixstack:cdnPriceClass", "PriceClass_100"
        )


def test_every_origin_is_a_media_bucket_reached_through_origin_access_control(
    graph: Graph,
) -> None:
    naming = _naming(graph)
    access = _one(graph, rules.ORIGIN_ACCESS_CONTROL)
    assert access["originAccessControlOriginType"] == "s3"
    assert access["signingBehavior"] == "always"
    assert access["signingProtocol"] == "sigv4"
    media_buckets = {naming.bucket(spec.MEDIA)} | {
        naming.bucket(spec.MEDIA, p.props["region"]) for p in graph.of(PROVIDER)
    }
    for props in _distributions(graph).values():
        for origin in props["origins"]:
            assert origin["originAccessControlId"] == _mock_id(access)
            assert "s3OriginConfig" not in origin  # no legacy origin access identity
            assert "customOriginConfig" not in origin
            bucket, _, endpoint = origin["domainName"].partition(".s3.")
            assert bucket in media_buckets
            assert endpoint.endswith(".amazonaws.com")  # the REST endpoint, not a website


@pytest.mark.parametrize("stack", SINGLE_REGION)
def test_single_region_stacks_serve_the_primary_without_failover(graph: Graph) -> None:
    assert not graph.of(PROVIDER)
    assert not graph.of(REPLICATION)
    for props in _distributions(graph).values():
        assert [o["originId"] for o in props["origins"]] == [spec.MEDIA.logical]
        assert not props.get("originGroups")
        targets = {b["targetOriginId"] for b in _behaviors(props).values()}
        assert targets == {spec.MEDIA.logical}


def test_multi_region_distributions_fail_over_to_the_replica(prod: Graph) -> None:
    naming = _naming(prod)
    replica = naming.bucket(spec.MEDIA, REPLICA_REGION)
    for props in _distributions(prod).values():
        origins = {o["originId"]: o for o in props["origins"]}
        assert origins["media-replica"]["domainName"] == (
            f"{replica}.s3.{REPLICA_REGION}.amazonaws.com"
        )
        (group,) = props["originGroups"]
        assert [m["originId"] for m in group["members"]] == ["media", "media-replica"]
        assert sorted(group["failoverCriteria"]["statusCodes"]) == [403, 404, 500, 502, 503, 504]
        # every request goes to the group, so every path fails over
        assert {b["targetOriginId"] for b in _behaviors(props).values()} == {group["originId"]}
        assert set(_behaviors(props)["*"]["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}


# --- signed cookies ------------------------------------------------------------------------------
def test_media_paths_need_signed_cookies_from_the_stack_key_group_but_posters(
    graph: Graph,
) -> None:
    public_key = _one(graph, PUBLIC_KEY)
    assert public_key["encodedKey"] == SIGNING_PUBLIC_KEY
    key_group = _one(graph, KEY_GROUP)
    assert key_group["items"] == [_mock_id(public_key)]
    for props in _distributions(graph).values():
        behaviors = _behaviors(props)
        assert set(behaviors) == {"*", cdn.POSTER_PATTERN, *cdn.MANIFEST_PATTERNS}
        for pattern, behavior in behaviors.items():
            if pattern == cdn.POSTER_PATTERN:
                assert not behavior.get("trustedKeyGroups")
            else:
                assert behavior["trustedKeyGroups"] == [_mock_id(key_group)], pattern


def test_the_one_unsigned_path_is_the_local_edges_public_path() -> None:
    """Browse pages show posters before playback: CloudFront and the local edge agree."""
    assert [path.lstrip("/") for path in edge.PUBLIC_PATHS] == [cdn.POSTER_PATTERN]
    assert cdn.POSTER_PATTERN.startswith(spec.MEDIA_TITLES_PREFIX)


def test_signing_secret_holds_the_key_pair_id_and_private_key_as_the_api_reads_them(
    stack: str, graph: Graph
) -> None:
    naming = _naming(graph)
    secret = _one(graph, SECRET)
    assert secret["name"] == naming.secret(spec.CDN_SIGNING)
    force_destroy = stack_config(stack).get("flixstack:forceDestroy") == "true"
    assert secret["recoveryWindowInDays"] == (0 if force_destroy else 30)
    version = _one(graph, SECRET_VERSION)
    assert version["secretId"] == _mock_id(secret)
    # the value reaches the engine as a secret (encrypted in the state)
    wrapped = version["secretString"]
    assert wrapped[rpc._special_sig_key] == rpc._special_secret_sig
    value = json.loads(wrapped["value"])
    key_pair_id = _mock_id(_one(graph, PUBLIC_KEY))
    assert value == {"key_pair_id": key_pair_id, "private_key": SIGNING_PRIVATE_KEY}
    assert SigningKey.from_secret(wrapped["value"]).key_pair_id == key_pair_id


@pytest.mark.parametrize(
    "missing", ["flixstack:cdnSigningPublicKey", "flixstack:cdnSigningPrivateKey"]
)
def test_a_stack_without_the_signing_key_pair_fails_fast(missing: str) -> None:
    config = {**stack_config("dev"), **SIGNING_CONFIG}
    del config[missing]

    def program() -> None:
        runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__")

    with pytest.raises(pulumi.config.ConfigMissingError, match=missing):
        run(program, stack="dev", config=config)


def test_a_private_key_of_another_pair_is_refused() -> None:
    _, other_private = pem_key_pair()
    with pytest.raises(ValueError, match="not the private half"):
        cdn.signing_secret_value("K1", other_private, SIGNING_PUBLIC_KEY)
    assert json.loads(cdn.signing_secret_value("K1", SIGNING_PRIVATE_KEY, SIGNING_PUBLIC_KEY)) == {
        "key_pair_id": "K1",
        "private_key": SIGNING_PRIVATE_KEY,
    }


def test_only_rsa_2048_public_keys_are_accepted() -> None:
    small, _ = pem_key_pair(1024)
    with pytest.raises(ValueError, match="RSA 2048"):
        cdn.load_public_key(small)


# --- caching, CORS, logs ---------------------------------------------------------------------------
def test_segments_are_cached_a_year_and_manifests_seconds(graph: Graph) -> None:
    segments = _cache_policy(graph, "segments")
    manifests = _cache_policy(graph, "manifests")
    assert segments["defaultTtl"] == segments["maxTtl"] == YEAR_S
    assert segments["minTtl"] >= 3600
    assert manifests["defaultTtl"] == manifests["maxTtl"] == 5
    assert manifests["minTtl"] == 0
    for policy in (segments, manifests):
        keyed = policy["parametersInCacheKeyAndForwardedToOrigin"]
        assert keyed["cookiesConfig"] == {"cookieBehavior": "none"}  # not the signed cookies
        assert keyed["queryStringsConfig"] == {"queryStringBehavior": "none"}
    assert manifests["parametersInCacheKeyAndForwardedToOrigin"]["enableAcceptEncodingGzip"]
    assert not segments["parametersInCacheKeyAndForwardedToOrigin"]["enableAcceptEncodingGzip"]
    for props in _distributions(graph).values():
        behaviors = _behaviors(props)
        for pattern in ("titles/*.m3u8", "titles/*.mpd"):
            assert behaviors[pattern]["cachePolicyId"] == _mock_id(manifests)
            assert behaviors[pattern]["compress"] is True
        for pattern in ("*", cdn.POSTER_PATTERN):
            assert behaviors[pattern]["cachePolicyId"] == _mock_id(segments)
            assert behaviors[pattern]["compress"] is False


def test_web_origins_from_config_fetch_media_with_credentials(stack: str, graph: Graph) -> None:
    headers = _one(graph, HEADERS_POLICY)
    cors = headers["corsConfig"]
    assert cors["accessControlAllowCredentials"] is True
    assert cors["accessControlAllowOrigins"]["items"] == json.loads(
        stack_config(stack)["flixstack:cdnWebOrigins"]
    )
    assert "*" not in cors["accessControlAllowOrigins"]["items"]  # never with credentials
    assert cors["accessControlAllowMethods"]["items"] == ["GET", "HEAD", "OPTIONS"]
    assert cors["originOverride"] is True
    assert headers["securityHeadersConfig"]["strictTransportSecurity"]["accessControlMaxAgeSec"] > 0
    for props in _distributions(graph).values():
        for behavior in _behaviors(props).values():
            assert behavior["responseHeadersPolicyId"] == _mock_id(headers)


def test_access_logs_go_to_the_logs_bucket_without_cookies(graph: Graph) -> None:
    logs = _naming(graph).bucket(spec.LOGS)
    for name, props in _distributions(graph).items():
        assert props["loggingConfig"] == {
            "bucket": f"{logs}.s3.amazonaws.com",
            "prefix": f"cdn/{name}/",
            "includeCookies": False,
        }
    # CloudFront delivers standard logs with ACLs: only the logs bucket keeps them
    ownership = {o.props["bucket"]: o.props["rule"]["objectOwnership"] for o in graph.of(OWNERSHIP)}
    assert ownership.pop(logs) == "BucketOwnerPreferred"
    assert set(ownership.values()) == {"BucketOwnerEnforced"}


# --- HTTPS and the optional features ---------------------------------------------------------------
@pytest.mark.parametrize("stack", SINGLE_REGION)
def test_without_a_certificate_the_default_one_serves_and_http_is_redirected(graph: Graph) -> None:
    for props in _distributions(graph).values():
        assert props["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
        assert not props.get("aliases")
        policies = {b["viewerProtocolPolicy"] for b in _behaviors(props).values()}
        assert policies == {"redirect-to-https"}
        assert props["restrictions"] == {"geoRestriction": {"restrictionType": "none"}}
        assert all("originShield" not in o for o in props["origins"])


CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0123abcd-0000-4000-8000-000000000000"
ALIASED = {
    "flixstack:cdnCertificateArn": CERTIFICATE,
    "flixstack:cdnCookieDomain": "flix.example.com",
    "flixstack:cdns": json.dumps(
        [
            {"name": "cloudfront-a", "aliases": ["cdn-a.flix.example.com"]},
            {"name": "cloudfront-b", "aliases": ["cdn-b.flix.example.com"], "enabled": False},
        ]
    ),
    "flixstack:cdnViewerProtocolPolicy": "https-only",
    "flixstack:cdnGeoRestriction": json.dumps({"type": "whitelist", "locations": ["US", "CA"]}),
    "flixstack:cdnOriginShieldRegion": "us-east-1",
}


def test_certificate_aliases_geo_restriction_and_origin_shield_from_config() -> None:
    graph = run_stack("dev", ALIASED)
    distributions = _distributions(graph)
    assert distributions["cloudfront-a"]["aliases"] == ["cdn-a.flix.example.com"]
    for props in distributions.values():
        assert props["viewerCertificate"] == {
            "acmCertificateArn": CERTIFICATE,
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1.2_2021",
        }
        assert {b["viewerProtocolPolicy"] for b in _behaviors(props).values()} == {"https-only"}
        assert props["restrictions"]["geoRestriction"] == {
            "restrictionType": "whitelist",
            "locations": ["US", "CA"],
        }
        (origin,) = props["origins"]
        assert origin["originShield"] == {"enabled": True, "originShieldRegion": "us-east-1"}
    # the API offers the aliases and sets the cookies on their parent domain
    env = _env(graph, "api-function")
    assert [c["base_url"] for c in json.loads(env["FLIXSTACK_CDNS"])] == [
        "https://cdn-a.flix.example.com",
        "https://cdn-b.flix.example.com",
    ]
    assert env["FLIXSTACK_CDN_COOKIE_DOMAIN"] == "flix.example.com"
    assert env["FLIXSTACK_MEDIA_BASE_URL"] == "https://cdn-a.flix.example.com"


def test_origin_shield_stands_before_the_primary_only(prod: Graph) -> None:
    for props in _distributions(prod).values():
        shields = {o["originId"]: o.get("originShield") for o in props["origins"]}
        assert shields == {
            "media": {"enabled": True, "originShieldRegion": "us-east-1"},
            "media-replica": None,
        }
        assert props["restrictions"]["geoRestriction"]["restrictionType"] == "blacklist"


# --- who may read the media buckets and keys ------------------------------------------------------
def test_only_the_distributions_read_the_media_buckets_and_decrypt_with_their_keys(
    graph: Graph,
) -> None:
    naming = _naming(graph)
    arns = _distribution_arns(graph)
    roles = [spec.MEDIA.logical, *(["media-replica"] if graph.of(PROVIDER) else [])]
    for role in roles:
        bucket = graph.named(f"cdn-{role}-policy").props["bucket"]
        statements = _statements(graph, f"cdn-{role}-policy")
        reads = statements["CloudFrontReadsTitles"]
        assert reads["Resource"] == f"arn:aws:s3:::{bucket}/{spec.MEDIA_TITLES_PREFIX}*"
        assert reads["Condition"] == {"StringEquals": {"aws:SourceArn": arns}}
        assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
        decrypt = _statements(graph, f"cdn-{role}-key-policy")["CloudFrontDecryptsMedia"]
        assert decrypt["Condition"] == {"StringEquals": {"aws:SourceArn": arns}}
    # a bucket has one policy: storage leaves the media buckets' to the CDN
    policed = [p.props["bucket"] for p in graph.of(rules.BUCKET_POLICY)]
    assert len(policed) == len(set(policed))
    assert naming.bucket(spec.MEDIA) in policed


def test_the_cdn_takes_over_the_media_policy_storage_wrote_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a stack deployed before the CDN, the new policy is an alias of the old one: Pulumi
    would otherwise write it, then delete the old resource and with it the bucket's policy."""
    options: dict[str, pulumi.ResourceOptions | None] = {}
    bucket_policy = aws.s3.BucketPolicy

    def recording(
        name: str, *args: Any, opts: pulumi.ResourceOptions | None = None, **kw: Any
    ) -> Any:
        options[name] = opts
        return bucket_policy(name, *args, opts=opts, **kw)

    monkeypatch.setattr(aws.s3, "BucketPolicy", recording)
    run_stack("dev")
    assert "storage-media-policy" not in options
    (alias,) = options["cdn-media-policy"].aliases  # type: ignore[union-attr]
    assert isinstance(alias, pulumi.Alias)
    assert alias.name == "storage-media-policy"
    assert isinstance(alias.parent, Storage)
    assert not options["storage-ingest-policy"].aliases  # type: ignore[union-attr]


# --- replication ------------------------------------------------------------------------------------
def test_media_replicates_to_a_bucket_and_key_of_the_second_region(prod: Graph) -> None:
    naming = _naming(prod)
    media = naming.bucket(spec.MEDIA)
    replica = naming.bucket(spec.MEDIA, REPLICA_REGION)
    # the replica's bucket, key and bucket settings are made with the second region's provider
    replica_key_name = f"storage-media-key-{REPLICA_REGION}"
    for resource in ("storage-media-replica", replica_key_name, "cdn-media-replica-policy"):
        assert prod.regions[resource] == REPLICA_REGION
    assert prod.regions["storage-media"] == REGION
    # the replica is encrypted with the media key's replica in its region
    replica_key = prod.named(replica_key_name)
    assert replica_key.props["primaryKeyArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:storage-media-key"
    replica_key_arn = f"arn:aws:kms:{REPLICA_REGION}:{ACCOUNT}:{replica_key_name}"
    assert prod.named(f"{replica_key_name}-alias").props["name"] == naming.key_alias(spec.MEDIA_KEY)
    sse = prod.named("storage-media-replica-encryption").props["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == replica_key_arn
    versioned = {
        v.props["bucket"]: v.props["versioningConfiguration"]["status"] for v in prod.of(VERSIONING)
    }
    assert versioned[media] == versioned[replica] == "Enabled"

    config = prod.named("storage-media-replication").props
    assert config["bucket"] == media
    assert config["role"] == f"arn:aws:iam::{ACCOUNT}:role/storage-replication-role"
    (rule,) = config["rules"]
    assert rule["id"] == REPLICATION_RULE
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": spec.MEDIA_TITLES_PREFIX}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"] == {
        "bucket": f"arn:aws:s3:::{replica}",
        "encryptionConfiguration": {"replicaKmsKeyId": replica_key_arn},
    }
    statements = _statements(prod, "storage-replication-role-policy")
    assert statements["ReplicaObjects"]["Resource"] == [
        f"arn:aws:s3:::{replica}/{spec.MEDIA_TITLES_PREFIX}*"
    ]
    assert statements["EncryptReplica"]["Resource"] == [replica_key_arn]
    assert rules.iam_no_wildcards([prod.named("storage-replication-role-policy")]) == []


# --- what the API and the transcoder get ------------------------------------------------------------
def test_api_gets_the_cdn_list_in_the_runtime_shape(
    stack: str, graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment infra gives the API Lambda
    env = _env(graph, "api-function")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # WHEN the app reads its settings
    settings = Settings()
    # THEN it knows every configured CDN, at its distribution's domain, with its weights
    configured = _configured_cdns(stack)
    assert [c.name for c in settings.cdns] == [c["name"] for c in configured]
    for endpoint, config in zip(settings.cdns, configured, strict=True):
        domain = f"cdn-{endpoint.name}-id.cloudfront.net"  # the mocks' domain of the distribution
        assert str(endpoint.base_url).rstrip("/") == f"https://{domain}"
        assert endpoint.weight == config.get("weight", 1)
        assert endpoint.territories == config.get("territories", {})
        assert endpoint.enabled is True
    assert env["FLIXSTACK_MEDIA_BASE_URL"] == str(settings.cdns[0].base_url).rstrip("/")
    assert "FLIXSTACK_CDN_COOKIE_DOMAIN" not in env


def test_api_may_read_the_signing_secret_and_content_keys(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "api-function-role-policy")
    secret_arn = (
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{naming.secret(spec.CDN_SIGNING)}-AbCdEf"
    )
    assert statements["Secrets"]["Resource"] == [secret_arn]
    assert "secretsmanager:GetSecretValue" in statements["Secrets"]["Action"]
    keys_table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{naming.table(spec.CONTENT_KEYS)}"
    assert statements["ContentKeys"]["Resource"] == [keys_table]
    assert "dynamodb:GetItem" in statements["ContentKeys"]["Action"]
    assert keys_table not in statements["Tables"]["Resource"]
    assert statements["Keys"]["Resource"] == [f"arn:aws:kms:{REGION}:{ACCOUNT}:storage-media-key"]
    assert "kms:Decrypt" in statements["Keys"]["Action"]


def test_transcoder_names_the_api_in_key_uris_and_may_store_content_keys(graph: Graph) -> None:
    naming = _naming(graph)
    (definition,) = json.loads(graph.named("transcoding-task").props["containerDefinitions"])
    environment = {e["name"]: e["value"] for e in definition["environment"]}
    api_url = resolve(graph.outputs[outputs.API_URL])
    assert api_url.endswith("/")
    assert environment["FLIXSTACK_API_BASE_URL"] == api_url.rstrip("/")
    statements = _statements(graph, "transcoding-task-role-policy")
    keys_table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{naming.table(spec.CONTENT_KEYS)}"
    assert statements["ContentKeys"]["Resource"] == [keys_table]
    assert "dynamodb:PutItem" in statements["ContentKeys"]["Action"]
    assert "kms:GenerateDataKey" in statements["MediaKey"]["Action"]


# --- outputs -----------------------------------------------------------------------------------------
def test_cdn_outputs_are_exported(prod: Graph) -> None:
    naming = _naming(prod)
    ids = resolve(prod.outputs[outputs.CDN_DISTRIBUTION_IDS])
    domains = resolve(prod.outputs[outputs.CDN_DOMAIN_NAMES])
    assert set(ids) == set(domains) == set(_distributions(prod))
    cdns = resolve(prod.outputs[outputs.CDNS])
    assert [c["base_url"] for c in cdns] == [f"https://{domains[c['name']]}" for c in cdns]
    assert cdns == json.loads(_env(prod, "api-function")["FLIXSTACK_CDNS"])
    assert resolve(prod.outputs[outputs.CDN_KEY_PAIR_ID]) == _mock_id(_one(prod, PUBLIC_KEY))
    assert resolve(prod.outputs[outputs.CDN_SIGNING_SECRET_ARN]).startswith(
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{naming.secret(spec.CDN_SIGNING)}"
    )
    assert resolve(prod.outputs[outputs.MEDIA_REPLICA_BUCKET]) == naming.bucket(
        spec.MEDIA, REPLICA_REGION
    )


def test_single_region_stacks_export_no_replica() -> None:
    assert resolve(run_stack("dev").outputs[outputs.MEDIA_REPLICA_BUCKET]) is None
