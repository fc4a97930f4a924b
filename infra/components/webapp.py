"""Web app hosting: the viewer and admin web app (the Vite build of ``web/``) from a private
S3 bucket through its own CloudFront distribution, under ``spec.WEBAPP_PATH``.

The distribution reads the bucket through origin access control (SigV4, no legacy OAI), and
the bucket's policy lets exactly this distribution read ``app/`` (plus TLS only). Viewers
get HTTPS only (HTTP is redirected), HTTP/2 and HTTP/3. A CloudFront Function on viewer
request (``webapp_router.js``) redirects ``/`` to the app and serves the app's index.html
for its extensionless paths. Hashed files under ``app/assets/`` are cached a year and
compressed; everything else (index.html, player.html, config.json) is not cached at the
edge, so a release shows at once without an invalidation. A response headers policy adds
HSTS, nosniff, ``X-Frame-Options: DENY``, a referrer policy and a content security policy
(``content_security_policy``) that lets the pages reach the media CDNs, the API (every HTTP
API of the region: ``execute_api_source`` says why) and the Cognito hosted UI only.

What is in the bucket is ``webapp_release``'s: it needs the API's URL and the identity web
client, which themselves need this distribution's URL (CORS, OAuth callbacks).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import tags
from infra.components.buckets import harden, lifecycle_rule_args
from infra.components.cdn import (
    HSTS_MAX_AGE_S,
    HTTP_VERSION,
    PRICE_CLASSES,
    cache_policy,
    viewer_certificate,
)

TYPE = "flixstack:index:WebApp"
CAPABILITY = "webapp"
ORIGIN_ID = "webapp"
ASSETS_DIR = "assets/"
"""Vite's hashed output (its ``assetsDir``): a file's name changes with its content."""
ASSETS_PATTERN = f"{spec.WEBAPP_PREFIX}{ASSETS_DIR}*"
ASSET_TTL_S = 365 * 24 * 3600
ASSET_MIN_TTL_S = 24 * 3600
DEFAULT_ROOT_OBJECT = f"{spec.WEBAPP_PREFIX}index.html"
"""What ``/`` would serve if the router did not redirect it first."""
VIEWER_PROTOCOL_POLICY = "redirect-to-https"
ALLOWED_METHODS = ("GET", "HEAD")
ROUTER_RUNTIME = "cloudfront-js-2.0"
ROUTER_EVENT = "viewer-request"
ROUTER_SOURCE = Path(__file__).with_name("webapp_router.js")
FRAME_OPTION = "DENY"
REFERRER_POLICY = "strict-origin-when-cross-origin"
CSP_MAX_CHARS = 1783
"""The longest content security policy a CloudFront response headers policy takes."""
LOG_PREFIX = "webapp/"


def router_code() -> str:
    """The viewer-request function's code: the app's path, then ``webapp_router.js``."""
    return f"var APP_PATH = {json.dumps(spec.WEBAPP_PATH)};\n{ROUTER_SOURCE.read_text()}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (a CSP source; its host may start with ``*.``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def execute_api_source(region: str) -> str:
    """Every HTTP API of ``region``: the CSP source of the API. The API's own host is not
    known before it exists, and the API's CORS names this distribution's domain, so naming
    the API here would make a cycle (distribution, headers policy, API, distribution)."""
    return f"https://*.execute-api.{region}.amazonaws.com"


def content_security_policy(*, api_url: str, hosted_ui_url: str, media_urls: Sequence[str]) -> str:
    """The pages' content security policy: scripts, styles and everything else from the app's
    own origin only; images and media also from the CDNs (media also from ``blob:``, where
    MSE players put segments); requests to the API, the hosted UI (token exchange) and the
    CDNs; workers from the app or ``blob:``; no framing, plugins or other base URLs."""
    media = list(dict.fromkeys(origin(url) for url in media_urls))
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *media],
        "media-src": ["'self'", "blob:", *media],
        "connect-src": ["'self'", origin(api_url), origin(hosted_ui_url), *media],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    policy = "; ".join(
        f"{name} {' '.join(dict.fromkeys(sources))}" for name, sources in directives.items()
    )
    if len(policy) > CSP_MAX_CHARS:
        raise ValueError(
            f"the content security policy has {len(policy)} characters; CloudFront takes "
            f"{CSP_MAX_CHARS} at most"
        )
    return policy


@dataclass(frozen=True)
class WebAppArgs:
    naming: spec.Naming
    logs_bucket_name: pulumi.Input[str]
    """Where the bucket's S3 server access logs go."""
    logs_bucket_domain_name: pulumi.Input[str]
    """Where the distribution's standard logs go (``<bucket>.s3.amazonaws.com``)."""
    media_urls: pulumi.Input[Sequence[str]]
    """Base URLs of the media CDNs (images, media and requests may go there)."""
    api_url: pulumi.Input[str]
    """The API's URL or a CSP source covering it (``execute_api_source``)."""
    hosted_ui_url: pulumi.Input[str]
    """The Cognito hosted UI, whose token endpoint the app calls."""
    noncurrent_expiry_days: int
    """Replaced versions of the app's files are kept this long (a rollback's window)."""
    price_class: str = "PriceClass_100"
    aliases: Sequence[str] = ()
    """Custom host names (need ``certificate_arn``); the first is the app's URL."""
    certificate_arn: str | None = None
    """An ACM certificate (us-east-1) for the aliases; without aliases (or it), CloudFront's
    own certificate serves the ``*.cloudfront.net`` domain."""
    force_destroy: bool = False

    def __post_init__(self) -> None:
        if self.aliases and self.certificate_arn is None:
            raise ValueError("web app aliases need a certificate")
        if self.price_class not in PRICE_CLASSES:
            raise ValueError(f"price class must be one of {PRICE_CLASSES}")


class WebApp(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    """The distribution's ``*.cloudfront.net`` domain."""
    origin: pulumi.Output[str]
    """``https://<first alias or domain>``: what the API's CORS allows."""
    url: pulumi.Output[str]
    """The app's URL (``<origin>/app/``): the OAuth redirect and sign-out URL."""
    content_security_policy: pulumi.Output[str]

    def __init__(
        self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        prefix = f"{args.naming.prefix}-{CAPABILITY}"
        stage = args.naming.stage
        child = pulumi.ResourceOptions(parent=self)

        # --- the bucket ------------------------------------------------------------------
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.naming.bucket(spec.WEBAPP),
            force_destroy=args.force_destroy,
            tags=tags(stage, CAPABILITY, {"purpose": spec.WEBAPP.purpose}),
            opts=child,
        )
        harden(f"{name}-bucket", bucket, opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.bucket,
            rules=lifecycle_rule_args([spec.housekeeping(args.noncurrent_expiry_days)]),
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-bucket-access-logs",
            bucket=bucket.bucket,
            target_bucket=args.logs_bucket_name,
            target_prefix=f"s3/{spec.WEBAPP.logical}/",
            opts=child,
        )

        # --- what the distribution uses ------------------------------------------------------
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-origin-access",
            name=prefix,
            description=f"flixstack {stage}: CloudFront signs its requests to the web app bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        router = aws.cloudfront.Function(
            f"{name}-router",
            name=f"{prefix}-router",
            runtime=ROUTER_RUNTIME,
            comment=f"flixstack {stage}: / to the app, the app's pages to its index.html",
            code=router_code(),
            publish=True,
            opts=child,
        )
        assets = cache_policy(
            f"{name}-assets-cache",
            f"{prefix}-assets",
            "The web app's hashed files: immutable, compressed",
            min_ttl=ASSET_MIN_TTL_S,
            ttl=ASSET_TTL_S,
            compress=True,
            parent=self,
        )
        documents = cache_policy(
            f"{name}-documents-cache",
            f"{prefix}-documents",
            "The web app's pages and config.json: never cached at the edge",
            min_ttl=0,
            ttl=0,
            compress=False,  # CloudFront refuses compression settings when nothing is cached
            parent=self,
        )
        self.content_security_policy = pulumi.Output.all(
            api=args.api_url, hosted_ui=args.hosted_ui_url, media=args.media_urls
        ).apply(
            lambda v: content_security_policy(
                api_url=v["api"], hosted_ui_url=v["hosted_ui"], media_urls=v["media"]
            )
        )
        security = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            name=f"{prefix}-security-headers",
            comment="HSTS, CSP, nosniff, no framing and a referrer policy on every answer",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=HSTS_MAX_AGE_S,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True
                ),
                frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option=FRAME_OPTION, override=True
                ),
                referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy=REFERRER_POLICY, override=True
                ),
                content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                    content_security_policy=self.content_security_policy, override=True
                ),
            ),
            opts=child,
        )

        # --- the distribution ----------------------------------------------------------------
        behavior: dict[str, Any] = {
            "target_origin_id": ORIGIN_ID,
            "viewer_protocol_policy": VIEWER_PROTOCOL_POLICY,
            "allowed_methods": list(ALLOWED_METHODS),
            "cached_methods": list(ALLOWED_METHODS),
            "response_headers_policy_id": security.id,
        }
        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            comment=f"flixstack {stage}: the web app",
            enabled=True,
            is_ipv6_enabled=True,
            http_version=HTTP_VERSION,
            price_class=args.price_class,
            aliases=list(args.aliases) or None,
            default_root_object=DEFAULT_ROOT_OBJECT,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=ORIGIN_ID,
                    domain_name=bucket.bucket_regional_domain_name,
                    origin_access_control_id=access.id,
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                **behavior,
                cache_policy_id=documents.id,
                compress=False,
                function_associations=[
                    aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                        event_type=ROUTER_EVENT, function_arn=router.arn
                    )
                ],
            ),
            ordered_cache_behaviors=[
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    **behavior,
                    path_pattern=ASSETS_PATTERN,
                    cache_policy_id=assets.id,
                    compress=True,
                )
            ],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=viewer_certificate(args.certificate_arn if args.aliases else None),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=args.logs_bucket_domain_name,
                prefix=LOG_PREFIX,
                include_cookies=False,
            ),
            tags=tags(stage, CAPABILITY),
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.bucket,
            policy=pulumi.Output.all(bucket.arn, distribution.arn).apply(
                lambda v: policies.webapp_bucket_policy(v[0], v[1])
            ),
            opts=child,
        )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.domain_name = distribution.domain_name
        first_alias = args.aliases[0] if args.aliases else None
        self.origin = distribution.domain_name.apply(
            lambda domain: f"https://{first_alias or domain}"
        )
        self.url = self.origin.apply(lambda o: f"{o}{spec.WEBAPP_PATH}")
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
                "origin": self.origin,
                "url": self.url,
                "content_security_policy": self.content_security_policy,
            }
        )
