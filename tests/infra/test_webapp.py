"""The web app on AWS: its private bucket behind its own CloudFront distribution (origin
access control, HTTPS, the SPA router, cache and security-header policies), the release of
the build and its config.json, and what identity and the API allow it. The pure functions
are tested without Pulumi; the rest under mocks, for every stack."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from flixstack import spec
from infra import outputs, packaging, policies
from infra.components import webapp, webapp_release
from infra.policy import rules
from infra.policy.rules import Resource
from tests.infra.conftest import WEB_BUILD
from tests.infra.mockgraph import ACCOUNT, REGION, Graph, resolve, run_stack

pytestmark = pytest.mark.usefixtures("no_pip")

CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
FUNCTION = "aws:cloudfront/function:Function"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
HTTP_API = "aws:apigatewayv2/api:Api"
YEAR_S = 365 * 24 * 3600

API_URL = "https://a1b2c3.execute-api.us-east-1.amazonaws.com/"
HOSTED_UI = "https://flixstack-dev-1.auth.us-east-1.amazoncognito.com"
CDN_URLS = ["https://d111.cloudfront.net", "https://cdn-b.flix.example.com"]
APP_URL = "https://d999.cloudfront.net/app/"
DISTRIBUTION_ARN = "arn:aws:cloudfront::1:distribution/EW1"
BUCKET_ARN = "arn:aws:s3:::flixstack-dev-webapp-1"


def _directives(policy: str) -> dict[str, list[str]]:
    """A content security policy's directives and their sources."""
    parsed: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = sources
    return parsed


def _allows(sources: list[str], url: str) -> bool:
    """Whether a CSP source list lets a page reach ``url`` (scheme and host, ``*.`` hosts)."""
    parts = urlsplit(url)
    for source in sources:
        allowed = urlsplit(source)
        if allowed.scheme != parts.scheme or not allowed.netloc:
            continue
        host = allowed.netloc
        if host == parts.netloc or (
            host.startswith("*.") and parts.netloc.endswith(host[1:]) and parts.netloc != host[2:]
        ):
            return True
    return False


# --- the content security policy ---------------------------------------------------------------
def test_the_csp_lets_pages_reach_only_their_origin_the_cdns_the_api_and_the_hosted_ui() -> None:
    csp = webapp.content_security_policy(
        api_url=API_URL, hosted_ui_url=HOSTED_UI, media_urls=CDN_URLS
    )
    assert _directives(csp) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *CDN_URLS],
        "media-src": ["'self'", "blob:", *CDN_URLS],
        "connect-src": [
            "'self'",
            "https://a1b2c3.execute-api.us-east-1.amazonaws.com",
            HOSTED_UI,
            *CDN_URLS,
        ],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }


def test_csp_sources_are_origins_each_named_once() -> None:
    csp = webapp.content_security_policy(
        api_url=webapp.execute_api_source("eu-west-1"),
        hosted_ui_url=f"{HOSTED_UI}/",
        media_urls=[f"{CDN_URLS[0]}/titles/", CDN_URLS[0]],
    )
    directives = _directives(csp)
    assert directives["img-src"] == ["'self'", "data:", CDN_URLS[0]]
    assert directives["connect-src"] == [
        "'self'",
        "https://*.execute-api.eu-west-1.amazonaws.com",
        HOSTED_UI,
        CDN_URLS[0],
    ]
    # the API source covers every HTTP API of the region, and nothing else
    assert _allows(directives["connect-src"], "https://x9y8.execute-api.eu-west-1.amazonaws.com/")
    assert not _allows(
        directives["connect-src"], "https://x9y8.execute-api.us-east-1.amazonaws.com"
    )
    assert not _allows(directives["connect-src"], "https://evil.example.com")


def test_a_csp_longer_than_cloudfront_takes_is_refused() -> None:
    many = [f"https://cdn-{i:03d}.flix.example.com" for i in range(40)]
    with pytest.raises(ValueError, match="1783"):
        webapp.content_security_policy(api_url=API_URL, hosted_ui_url=HOSTED_UI, media_urls=many)


def test_a_source_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        webapp.content_security_policy(
            api_url="a1b2c3.execute-api.amazonaws.com", hosted_ui_url=HOSTED_UI, media_urls=[]
        )


# --- the SPA router (CloudFront Function) --------------------------------------------------------
ROUTES = {
    "/": {"redirect": "/app/"},
    "/app": {"redirect": "/app/"},
    "/app/": {"uri": "/app/index.html"},
    "/app/profiles": {"uri": "/app/index.html"},
    "/app/titles/t-123/episodes": {"uri": "/app/index.html"},
    "/app/index.html": {"uri": "/app/index.html"},
    "/app/player.html": {"uri": "/app/player.html"},
    "/app/config.json": {"uri": "/app/config.json"},
    "/app/assets/index-AbC123.js": {"uri": "/app/assets/index-AbC123.js"},
    "/favicon.ico": {"uri": "/favicon.ico"},
    "/apple/touch": {"uri": "/apple/touch"},
}
"""What a viewer asks for, and what the function answers: a redirect or S3's key."""


def test_the_router_redirects_the_root_and_serves_index_html_for_the_app_s_pages() -> None:
    assert shutil.which("node"), "node runs the CloudFront Function: `make install` installs it"
    # GIVEN the function's code as CloudFront gets it, and a viewer request for each path
    harness = f"""{webapp.router_code()}
const out = {{}};
for (const uri of {json.dumps(list(ROUTES))}) {{
  const answer = handler({{ request: {{ uri, method: "GET", querystring: {{}}, headers: {{}} }} }});
  out[uri] = answer.statusCode ? {{ redirect: answer.headers.location.value, status: answer.statusCode }}
                               : {{ uri: answer.uri }};
}}
console.log(JSON.stringify(out));
"""
    # WHEN node runs it
    result = subprocess.run(
        ["node", "-e", harness], capture_output=True, text=True, check=True, timeout=60
    )
    answers = json.loads(result.stdout)
    # THEN / goes to the app, the app's pages get its index.html and files pass through
    for uri, expected in ROUTES.items():
        got = dict(answers[uri])
        if "redirect" in expected:
            assert got.pop("status") == 302, uri
        assert got == expected, uri


def test_the_router_knows_the_app_path_from_the_spec() -> None:
    code = webapp.router_code()
    assert code.startswith(f"var APP_PATH = {json.dumps(spec.WEBAPP_PATH)};\n")
    assert "function handler(event)" in code
    # only the spec says where the app is: the function's own code names no path
    statements = [line for line in code.splitlines()[1:] if not line.strip().startswith("//")]
    assert "/app" not in "\n".join(statements)
    assert len(code.encode()) <= 10 * 1024  # CloudFront Functions' size limit


# --- the release: files and config.json ---------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "content_type", "cache_control"),
    [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("player.html", "text/html; charset=utf-8", "no-cache"),
        ("assets/index-AbC123.js", "text/javascript; charset=utf-8", "immutable"),
        ("assets/index-AbC123.js.map", "application/json", "immutable"),
        ("assets/index-DeF456.css", "text/css; charset=utf-8", "immutable"),
        ("assets/logo-1a2b.svg", "image/svg+xml", "immutable"),
        ("assets/font-9z.woff2", "font/woff2", "immutable"),
        ("config.json", "application/json", "no-cache"),
        ("robots", "application/octet-stream", "no-cache"),
    ],
)
def test_files_get_their_type_and_cache_lifetime(
    path: str, content_type: str, cache_control: str
) -> None:
    assert webapp_release.content_type(path) == content_type
    expected = "public, max-age=31536000, immutable" if cache_control == "immutable" else "no-cache"
    assert webapp_release.cache_control(path) == expected


def test_dist_files_are_the_build_but_a_config_json(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    for path in ("index.html", "assets/a-1.js", "config.json", "assets/deep/b-2.css"):
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_text("x")
    assert webapp_release.dist_files(dist) == [
        "assets/a-1.js",
        "assets/deep/b-2.css",
        "index.html",
    ]


def test_without_a_build_the_release_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "dist" / "assets").mkdir(parents=True)  # a half-made build is no build
    with pytest.raises(FileNotFoundError, match=r"make install.*npm ci && npm run build"):
        webapp_release.dist_files(tmp_path / "dist")


def test_config_json_names_the_api_and_the_hosted_ui_sign_in() -> None:
    config = webapp_release.runtime_config(
        api_url=API_URL, hosted_ui_url=HOSTED_UI, client_id="web-client-1", app_url=APP_URL
    )
    assert json.loads(config) == {
        "api_base": "https://a1b2c3.execute-api.us-east-1.amazonaws.com",
        "auth": {
            "kind": "hosted",
            "authorize_url": f"{HOSTED_UI}/oauth2/authorize",
            "token_url": f"{HOSTED_UI}/oauth2/token",
            "logout_url": f"{HOSTED_UI}/logout",
            "client_id": "web-client-1",
            "redirect_uri": APP_URL,
            "scopes": ["openid", "email", "profile"],
        },
    }


# --- the bucket policy ---------------------------------------------------------------------------
def test_the_bucket_policy_lets_only_the_distribution_read_the_app_over_tls() -> None:
    document = json.loads(policies.webapp_bucket_policy(BUCKET_ARN, DISTRIBUTION_ARN))
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"DenyInsecureTransport", "CloudFrontReadsWebApp"}
    reads = statements["CloudFrontReadsWebApp"]
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reads["Action"] == "s3:GetObject"
    assert reads["Resource"] == f"{BUCKET_ARN}/{spec.WEBAPP_PREFIX}*"
    assert reads["Condition"] == {"StringEquals": {"aws:SourceArn": [DISTRIBUTION_ARN]}}
    resource = Resource(rules.BUCKET_POLICY, "p", {"policy": json.dumps(document)})
    assert rules.service_principals_scoped([resource]) == []


# --- under mocks: the bucket and the distribution ------------------------------------------------
def _bucket_name(graph: Graph) -> str:
    return str(graph.named("webapp-bucket").props["bucket"])


def _distribution(graph: Graph) -> dict[str, Any]:
    return dict(graph.named("webapp-distribution").props)


def _behaviors(graph: Graph) -> dict[str, dict[str, Any]]:
    """By path pattern; the default behaviour under ``*``."""
    distribution = _distribution(graph)
    ordered = {b["pathPattern"]: b for b in distribution["orderedCacheBehaviors"]}
    return {**ordered, "*": distribution["defaultCacheBehavior"]}


def _on_bucket(graph: Graph, type_: str) -> dict[str, Any]:
    (resource,) = [r for r in graph.of(type_) if r.props.get("bucket") == _bucket_name(graph)]
    return dict(resource.props)


def _mock_id(graph: Graph, resource: str) -> str:
    """The id the mocks give a resource: its name property's (or its own name) and -id."""
    props = graph.named(resource).props
    return f"{props.get('name') or resource}-id"


def test_the_bucket_is_private_encrypted_and_versioned(stack: str, graph: Graph) -> None:
    naming = spec.Naming(stack, "" if stack == "localstack" else ACCOUNT)
    assert _bucket_name(graph) == naming.bucket(spec.WEBAPP)
    block = _on_bucket(graph, rules.BUCKET_PAB)
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True, flag
    ownership = _on_bucket(graph, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}  # no ACLs
    sse = _on_bucket(graph, rules.BUCKET_SSE)["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "AES256"}
    versioning = _on_bucket(graph, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    lifecycle = _on_bucket(
        graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    (rule,) = lifecycle["rules"]
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}


def test_the_distribution_reads_the_bucket_through_origin_access_control(graph: Graph) -> None:
    access = graph.named("webapp-origin-access").props
    assert access["originAccessControlOriginType"] == "s3"
    assert access["signingBehavior"] == "always"
    assert access["signingProtocol"] == "sigv4"
    (origin,) = _distribution(graph)["origins"]
    assert origin["domainName"] == f"{_bucket_name(graph)}.s3.{REGION}.amazonaws.com"
    assert origin["originAccessControlId"] == _mock_id(graph, "webapp-origin-access")
    assert "s3OriginConfig" not in origin  # no legacy origin access identity
    assert "customOriginConfig" not in origin  # the REST endpoint, not a public website
    assert {b["targetOriginId"] for b in _behaviors(graph).values()} == {origin["originId"]}
    assert rules.cloudfront_oac_only(graph.resources) == []


def test_the_bucket_policy_grants_the_web_app_distribution_alone(graph: Graph) -> None:
    policy = _on_bucket(graph, rules.BUCKET_POLICY)
    statements = json.loads(policy["policy"])["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/webapp-distribution-id"
    assert allows == [
        {
            "Sid": "CloudFrontReadsWebApp",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{_bucket_name(graph)}/{spec.WEBAPP_PREFIX}*",
            "Condition": {"StringEquals": {"aws:SourceArn": [distribution]}},
        }
    ]
    assert any(s["Sid"] == "DenyInsecureTransport" for s in statements)


def test_viewers_get_https_http2_and_http3_and_the_root_object(graph: Graph) -> None:
    distribution = _distribution(graph)
    assert distribution["enabled"] is True
    assert distribution["httpVersion"] == "http2and3"
    assert distribution["isIpv6Enabled"] is True
    assert distribution["defaultRootObject"] == f"{spec.WEBAPP_PREFIX}index.html"
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    for pattern, behavior in _behaviors(graph).items():
        assert behavior["viewerProtocolPolicy"] == "redirect-to-https", pattern
        assert behavior["allowedMethods"] == ["GET", "HEAD"], pattern
    assert distribution["loggingConfig"]["prefix"] == "webapp/"
    assert rules.cloudfront_https_only([graph.named("webapp-distribution")]) == []


CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0123abcd-0000-4000-8000-000000000000"


def test_the_stack_certificate_is_not_used_without_web_app_aliases() -> None:
    graph = run_stack("dev", {"flixstack:cdnCertificateArn": CERTIFICATE})
    distribution = _distribution(graph)
    assert distribution["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not distribution.get("aliases")


def test_an_aliased_web_app_gets_the_certificate_with_tls_1_2_or_later() -> None:
    graph = run_stack(
        "dev",
        {
            "flixstack:cdnCertificateArn": CERTIFICATE,
            "flixstack:webappAliases": json.dumps(["watch.flix.example.com"]),
        },
    )
    distribution = _distribution(graph)
    assert distribution["aliases"] == ["watch.flix.example.com"]
    assert distribution["viewerCertificate"] == {
        "acmCertificateArn": CERTIFICATE,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    # the alias is the app's URL: in its config, its OAuth callbacks and the API's CORS
    assert resolve(graph.outputs[outputs.WEBAPP_URL]) == "https://watch.flix.example.com/app/"
    config = json.loads(graph.named("webapp-release-app/config.json").props["content"])
    assert config["auth"]["redirect_uri"] == "https://watch.flix.example.com/app/"
    (http_api,) = graph.of(HTTP_API)
    assert http_api.props["corsConfiguration"]["allowOrigins"] == ["https://watch.flix.example.com"]


def test_every_behavior_adds_the_security_headers(graph: Graph) -> None:
    headers = graph.named("webapp-security-headers").props["securityHeadersConfig"]
    assert headers["strictTransportSecurity"] == {
        "accessControlMaxAgeSec": YEAR_S,
        "includeSubdomains": True,
        "preload": True,
        "override": True,
    }
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert headers["referrerPolicy"] == {
        "referrerPolicy": "strict-origin-when-cross-origin",
        "override": True,
    }
    assert headers["contentSecurityPolicy"]["override"] is True
    policy_id = _mock_id(graph, "webapp-security-headers")
    for pattern, behavior in _behaviors(graph).items():
        assert behavior["responseHeadersPolicyId"] == policy_id, pattern


def test_the_csp_reaches_the_stack_s_cdns_api_and_hosted_ui(graph: Graph) -> None:
    headers = graph.named("webapp-security-headers").props["securityHeadersConfig"]
    directives = _directives(headers["contentSecurityPolicy"]["contentSecurityPolicy"])
    cdn_urls = [c["base_url"] for c in resolve(graph.outputs[outputs.CDNS])]
    assert len(cdn_urls) >= 2
    for url in cdn_urls:
        for directive in ("img-src", "media-src", "connect-src"):
            assert url in directives[directive], (url, directive)
    assert _allows(directives["connect-src"], resolve(graph.outputs[outputs.API_URL]))
    assert resolve(graph.outputs[outputs.HOSTED_UI_URL]) in directives["connect-src"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_hashed_assets_are_cached_a_year_and_pages_not_at_all(graph: Graph) -> None:
    behaviors = _behaviors(graph)
    assert set(behaviors) == {"*", f"{spec.WEBAPP_PREFIX}assets/*"}
    assets = behaviors[f"{spec.WEBAPP_PREFIX}assets/*"]
    assert assets["cachePolicyId"] == _mock_id(graph, "webapp-assets-cache")
    assert assets["compress"] is True
    policy = graph.named("webapp-assets-cache").props
    assert policy["defaultTtl"] == policy["maxTtl"] == YEAR_S
    assert policy["minTtl"] >= 3600
    keyed = policy["parametersInCacheKeyAndForwardedToOrigin"]
    assert keyed["enableAcceptEncodingGzip"] is True
    assert keyed["enableAcceptEncodingBrotli"] is True
    # index.html, player.html and config.json: the default behaviour, never kept at the edge
    pages = behaviors["*"]
    assert pages["cachePolicyId"] == _mock_id(graph, "webapp-documents-cache")
    policy = graph.named("webapp-documents-cache").props
    assert policy["minTtl"] == policy["defaultTtl"] == policy["maxTtl"] == 0
    keyed = policy["parametersInCacheKeyAndForwardedToOrigin"]
    assert keyed["queryStringsConfig"] == {"queryStringBehavior": "none"}


def test_the_router_runs_on_viewer_request_of_the_default_behavior(graph: Graph) -> None:
    router = graph.named("webapp-router").props
    assert router["runtime"] == "cloudfront-js-2.0"
    assert router["publish"] is True
    assert router["code"] == webapp.router_code()
    router_arn = f"arn:aws:cloudfront:{REGION}:{ACCOUNT}:{router['name']}"
    behaviors = _behaviors(graph)
    assert behaviors["*"]["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": router_arn}
    ]
    # assets have file names: nothing to route
    assert not behaviors[f"{spec.WEBAPP_PREFIX}assets/*"].get("functionAssociations")


# --- under mocks: the release ----------------------------------------------------------------------
def test_the_release_uploads_every_built_file_under_the_app_path(
    graph: Graph, web_build: Path
) -> None:
    objects = {o.props["key"]: o.props for o in graph.of(OBJECT)}
    assert set(objects) == {
        f"{spec.WEBAPP_PREFIX}{path}" for path in (*WEB_BUILD, spec.WEBAPP_CONFIG)
    }
    for path in WEB_BUILD:
        props = objects[f"{spec.WEBAPP_PREFIX}{path}"]
        assert props["bucket"] == _bucket_name(graph)
        assert props["source"].path == str(web_build / path)
        assert props["contentType"] == webapp_release.content_type(path)
        immutable = path.startswith("assets/")
        assert props["cacheControl"] == (
            "public, max-age=31536000, immutable" if immutable else "no-cache"
        ), path
    assert objects[f"{spec.WEBAPP_PREFIX}index.html"]["contentType"] == "text/html; charset=utf-8"


def test_config_json_names_this_stack_s_api_client_and_hosted_ui(graph: Graph) -> None:
    config = graph.named(f"webapp-release-{spec.WEBAPP_PREFIX}{spec.WEBAPP_CONFIG}").props
    assert config["bucket"] == _bucket_name(graph)
    assert config["contentType"] == "application/json"
    assert config["cacheControl"] == "no-cache"
    hosted_ui = resolve(graph.outputs[outputs.HOSTED_UI_URL])
    assert json.loads(config["content"]) == {
        "api_base": resolve(graph.outputs[outputs.API_URL]).rstrip("/"),
        "auth": {
            "kind": "hosted",
            "authorize_url": f"{hosted_ui}/oauth2/authorize",
            "token_url": f"{hosted_ui}/oauth2/token",
            "logout_url": f"{hosted_ui}/logout",
            "client_id": resolve(graph.outputs[outputs.WEB_CLIENT_ID]),
            "redirect_uri": resolve(graph.outputs[outputs.WEBAPP_URL]),
            "scopes": ["openid", "email", "profile"],
        },
    }


def test_the_hosted_ui_accepts_the_app_as_callback_and_sign_out_url(graph: Graph) -> None:
    app_url = resolve(graph.outputs[outputs.WEBAPP_URL])
    assert app_url == f"https://webapp-distribution-id.cloudfront.net{spec.WEBAPP_PATH}"
    (web,) = [c for c in graph.of(CLIENT) if c.props["name"] == spec.USER_POOL.web_client]
    assert app_url in web.props["callbackUrls"]
    assert app_url in web.props["logoutUrls"]
    config = json.loads(graph.named("webapp-release-app/config.json").props["content"])
    assert set(config["auth"]["scopes"]) <= set(web.props["allowedOauthScopes"])


def test_the_api_lets_the_app_call_it_cross_origin(graph: Graph) -> None:
    # every region's HTTP API: the app may be sent to any of them
    for http_api in graph.of(HTTP_API):
        cors = http_api.props["corsConfiguration"]
        assert cors["allowOrigins"] == ["https://webapp-distribution-id.cloudfront.net"]
        assert "*" not in cors["allowOrigins"]  # never with credentials
        assert cors["allowCredentials"] is True
        assert {"authorization", "content-type", "x-profile-id"} <= set(cors["allowHeaders"])
        assert {"GET", "POST", "PUT", "DELETE"} <= set(cors["allowMethods"])


def test_a_stack_without_a_web_build_fails_with_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(packaging, "WEB_DIST", tmp_path / "no-build")
    with pytest.raises(FileNotFoundError, match="make install"):
        run_stack("dev")
