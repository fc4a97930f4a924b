"""CDN: CloudFront distributions in front of the media bucket, the multi-CDN list that the
playback API ranks (``FLIXSTACK_CDNS``, see ``flixstack.playback.cdn``).

Every distribution reads the media bucket through origin access control (no legacy OAI,
no public bucket) and, on a multi-region stack, fails over to the media replica in the
second region (an origin group). ``titles/`` needs CloudFront signed cookies from the
stack's trusted key group, except posters, which browse pages show before anyone presses
play (as the local edge, ``flixstack.local.edge.PUBLIC_PATHS``). Segments are cached for a
year (they never change), manifests for seconds. A CORS response-headers policy lets the
web app's pages fetch media with their cookies. Access logs go to the logs bucket.

The private half of the signing key is kept in Secrets Manager
(``naming.secret(spec.CDN_SIGNING)``) as ``{"key_pair_id": ..., "private_key": <PEM>}``,
the shape ``flixstack.playback.signing.SigningKey.from_secret`` reads. On a multi-region
stack the secret has a replica in every other region, which Secrets Manager keeps in sync,
so the API there signs cookies while the primary region is down.

Only this component knows the distributions, so it also writes the policies that let
exactly them read the media buckets and decrypt with the media keys (``storage`` leaves
those to it: ``StorageArgs.cdn_reads_media``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flixstack import spec
from infra import policies
from infra.components import Region, tags
from infra.components.storage import MediaCopy

TYPE = "flixstack:index:Cdn"
CAPABILITY = "cdn"

SEGMENT_TTL_S = 365 * 24 * 3600
"""Segments, init segments, subtitles and thumbnails never change under their version."""
SEGMENT_MIN_TTL_S = 24 * 3600
MANIFEST_TTL_S = 5
"""Manifests are short-lived: a version pointer flips when a title publishes."""
MANIFEST_SUFFIXES = (".m3u8", ".mpd")
MANIFEST_PATTERNS = tuple(f"{spec.MEDIA_TITLES_PREFIX}*{suffix}" for suffix in MANIFEST_SUFFIXES)
POSTER_PATTERN = f"{spec.MEDIA_TITLES_PREFIX}*/thumbs/poster.jpg"
"""Served without signed cookies: the one public path (``flixstack.local.edge.PUBLIC_PATHS``)."""
FAILOVER_STATUS_CODES = (403, 404, 500, 502, 503, 504)
"""Responses of the primary origin that send a request on to the replica."""
ORIGIN_GROUP = "media-failover"
ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")  # all an origin group accepts
CACHED_METHODS = ("GET", "HEAD")
CORS_ALLOWED_HEADERS = ("Range",)
CORS_EXPOSED_HEADERS = ("Accept-Ranges", "Content-Length", "Content-Range", "ETag")
CORS_MAX_AGE_S = 600
HSTS_MAX_AGE_S = 365 * 24 * 3600
MINIMUM_TLS = "TLSv1.2_2021"
HTTP_VERSION = "http2and3"
SECRET_RECOVERY_DAYS = 30
LOG_PREFIX = "cdn/{name}/"
VIEWER_PROTOCOL_POLICIES = ("redirect-to-https", "https-only")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")

WEB_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")
"""A page's origin as CORS names it: scheme, host and port, no path."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")  # flixstack.settings.CdnEndpoint.name
_TERRITORY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class CdnDistribution:
    """One CloudFront distribution and its entry in the playback API's CDN list."""

    name: str
    """Also the name the playback API knows the CDN by (``CdnEndpoint.name``)."""
    weight: float = 1.0
    territories: Mapping[str, float] = field(default_factory=dict)
    """Per-territory weights (ISO 3166 alpha-2) replacing ``weight`` there."""
    enabled: bool = True
    """The operator's switch for playback; the distribution itself keeps serving."""
    aliases: tuple[str, ...] = ()
    """Custom host names (need the stack's certificate); the first is the base URL."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"CDN name {self.name!r} must be 1-31 lower-case letters, digits and dashes"
            )
        if not self.weight > 0:
            raise ValueError(f"CDN {self.name}: weight must be positive")
        for territory, weight in self.territories.items():
            if not _TERRITORY.match(territory) or weight < 0:
                raise ValueError(
                    f"CDN {self.name}: territory weights are ISO codes (US) to weights >= 0"
                )

    @classmethod
    def from_config(cls, value: Mapping[str, Any]) -> CdnDistribution:
        """From one object of the ``flixstack:cdns`` list."""
        unknown = set(value) - {"name", "weight", "territories", "enabled", "aliases"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)} in a flixstack:cdns entry")
        return cls(
            name=str(value["name"]),
            weight=float(value.get("weight", 1.0)),
            territories={str(k): float(v) for k, v in (value.get("territories") or {}).items()},
            enabled=bool(value.get("enabled", True)),
            aliases=tuple(str(a) for a in value.get("aliases") or ()),
        )


@dataclass(frozen=True)
class GeoRestriction:
    """CloudFront's geo restriction: serve only (``whitelist``) or never (``blacklist``) the
    listed countries."""

    type: Literal["whitelist", "blacklist"]
    locations: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.type not in ("whitelist", "blacklist"):
            raise ValueError("a geo restriction's type is whitelist or blacklist")
        if not self.locations or not all(_TERRITORY.match(c) for c in self.locations):
            raise ValueError("a geo restriction lists ISO 3166 alpha-2 codes (US, DE, ...)")


@dataclass(frozen=True)
class CdnArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    region: str
    """The stack's region (the default provider's), where the signing secret is."""
    distributions: Sequence[CdnDistribution]
    media: MediaCopy
    media_replica: MediaCopy | None
    """None: no failover origin (a single-region stack)."""
    logs_bucket_domain_name: pulumi.Input[str]
    signing_public_key: str
    """PEM of the RSA 2048 public key CloudFront verifies signed cookies with."""
    signing_private_key: pulumi.Input[str]
    """PEM of its private half (a secret): stored in Secrets Manager for the API."""
    web_origins: Sequence[str]
    """Origins whose pages may fetch media with credentials (CORS)."""
    price_class: str = "PriceClass_100"
    viewer_protocol_policy: str = "redirect-to-https"
    certificate_arn: str | None = None
    """An ACM certificate (us-east-1) for the aliases; None: CloudFront's own certificate."""
    geo_restriction: GeoRestriction | None = None
    origin_shield_region: str | None = None
    """Origin Shield in front of the primary origin, in this region; None: off."""
    force_destroy: bool = False
    """Ephemeral stacks delete the signing secret at once, so a new stack can reuse its
    name; others keep it recoverable for ``SECRET_RECOVERY_DAYS``."""
    secondaries: Sequence[Region] = ()
    """The stack's other regions: the signing secret has a replica in each."""

    def __post_init__(self) -> None:
        names = [d.name for d in self.distributions]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError("the CDN needs at least two distributions with distinct names")
        if self.certificate_arn is None and any(d.aliases for d in self.distributions):
            raise ValueError("CDN aliases need a certificate")
        if self.price_class not in PRICE_CLASSES:
            raise ValueError(f"price class must be one of {PRICE_CLASSES}")
        if self.viewer_protocol_policy not in VIEWER_PROTOCOL_POLICIES:
            raise ValueError(f"viewer protocol policy must be one of {VIEWER_PROTOCOL_POLICIES}")
        bad = [o for o in self.web_origins if not WEB_ORIGIN.match(o)]
        if bad or not self.web_origins:
            raise ValueError(f"web origins are scheme://host[:port] without a path: {bad}")


def base_url(distribution: CdnDistribution, domain_name: str) -> str:
    """Where the CDN serves the media bucket: its first alias, else its CloudFront domain."""
    return f"https://{distribution.aliases[0] if distribution.aliases else domain_name}"


def endpoint(distribution: CdnDistribution, domain_name: str) -> dict[str, Any]:
    """The distribution as one ``flixstack.settings.CdnEndpoint`` of ``FLIXSTACK_CDNS``."""
    return {
        "name": distribution.name,
        "base_url": base_url(distribution, domain_name),
        "weight": distribution.weight,
        "territories": dict(distribution.territories),
        "enabled": distribution.enabled,
    }


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA 2048 public key in ``pem`` (what CloudFront accepts for trusted key groups)."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise ValueError("the CDN signing public key must be an RSA 2048 key in PEM")
    return key


def signing_secret_value(key_pair_id: str, private_key_pem: str, public_key: str) -> str:
    """The signing secret's JSON, once the private key is known to be the public key's other
    half: a mismatch would make CloudFront refuse every signed cookie."""
    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    expected = load_public_key(public_key).public_numbers()
    if not isinstance(private_key, rsa.RSAPrivateKey) or (
        private_key.public_key().public_numbers() != expected
    ):
        raise ValueError(
            "flixstack:cdnSigningPrivateKey is not the private half of cdnSigningPublicKey"
        )
    return json.dumps({"key_pair_id": key_pair_id, "private_key": private_key_pem})


def cache_policy(
    resource_name: str,
    policy_name: str,
    comment: str,
    *,
    min_ttl: int,
    ttl: int,
    compress: bool,
    parent: pulumi.Resource,
) -> aws.cloudfront.CachePolicy:
    """Objects are keyed by path alone: no cookies (signed cookies are checked before the
    cache), headers or query strings, so every viewer shares one cached copy. ``compress``
    keys gzip and Brotli copies apart (CloudFront then compresses what it caches)."""
    return aws.cloudfront.CachePolicy(
        resource_name,
        name=policy_name,
        comment=comment,
        min_ttl=min_ttl,
        default_ttl=ttl,
        max_ttl=ttl,
        parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
            cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                cookie_behavior="none"
            ),
            headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                header_behavior="none"
            ),
            query_strings_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                query_string_behavior="none"
            ),
            enable_accept_encoding_gzip=compress,
            enable_accept_encoding_brotli=compress,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def viewer_certificate(
    certificate_arn: str | None,
) -> aws.cloudfront.DistributionViewerCertificateArgs:
    """An ACM certificate (SNI, TLS 1.2 or later) for a distribution's aliases; without one,
    CloudFront's own on its ``*.cloudfront.net`` domain."""
    if certificate_arn is None:
        return aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
    return aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=certificate_arn,
        ssl_support_method="sni-only",
        minimum_protocol_version=MINIMUM_TLS,
    )


class Cdn(pulumi.ComponentResource):
    distribution_ids: dict[str, pulumi.Output[str]]
    distribution_arns: dict[str, pulumi.Output[str]]
    domain_names: dict[str, pulumi.Output[str]]
    key_pair_id: pulumi.Output[str]
    """The public key's id: the ``CloudFront-Key-Pair-Id`` cookie's value."""
    key_group_id: pulumi.Output[str]
    signing_secret_arn: pulumi.Output[str]
    """The signing secret in the stack's region."""
    signing_secret_arns: dict[str, pulumi.Output[str]]
    """The signing secret in each region (the primary and its replicas), by region."""
    cdns: pulumi.Output[list[dict[str, Any]]]
    """The distributions as ``FLIXSTACK_CDNS`` entries, in configuration order."""
    media_base_url: pulumi.Output[str]
    """Base URL of the first enabled CDN (``FLIXSTACK_MEDIA_BASE_URL``: poster links)."""

    def __init__(
        self, name: str, args: CdnArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        prefix = args.naming.prefix
        stage = args.naming.stage
        child = pulumi.ResourceOptions(parent=self)

        # --- signed cookies ------------------------------------------------------------
        load_public_key(args.signing_public_key)  # fails fast on a key CloudFront refuses
        signer = f"{prefix}-{spec.CDN_SIGNING.logical}"
        public_key = aws.cloudfront.PublicKey(
            f"{name}-signing-public-key",
            name=signer,
            # CloudFront returns the key with one final newline: without it, every update
            # would see a change.
            encoded_key=args.signing_public_key.strip() + "\n",
            comment=f"flixstack {stage}: verifies signed cookies for titles/",
            opts=child,
        )
        key_group = aws.cloudfront.KeyGroup(
            f"{name}-key-group", name=signer, items=[public_key.id], opts=child
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-signing-secret",
            name=args.naming.secret(spec.CDN_SIGNING),
            description=spec.CDN_SIGNING.purpose,
            recovery_window_in_days=0 if args.force_destroy else SECRET_RECOVERY_DAYS,
            # Under the AWS managed key (aws/secretsmanager), which every region has: a
            # replica needs no key of the stack's.
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(region=region.name)
                for region in args.secondaries
            ]
            or None,
            tags=tags(stage, CAPABILITY),
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-signing-secret-value",
            secret_id=secret.id,
            # The provider keeps secret_string a secret (and the private key is one already).
            secret_string=pulumi.Output.all(public_key.id, args.signing_private_key).apply(
                lambda v: signing_secret_value(v[0], v[1], args.signing_public_key)
            ),
            opts=child,
        )

        # --- what every distribution shares ----------------------------------------------
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-origin-access",
            name=f"{prefix}-{spec.MEDIA.logical}",
            description=f"flixstack {stage}: CloudFront signs its requests to the media buckets",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        segments = cache_policy(
            f"{name}-segments-cache",
            f"{prefix}-segments",
            "Segments, subtitles, thumbnails: immutable under their version",
            min_ttl=SEGMENT_MIN_TTL_S,
            ttl=SEGMENT_TTL_S,
            compress=False,
            parent=self,
        )
        manifests = cache_policy(
            f"{name}-manifests-cache",
            f"{prefix}-manifests",
            "HLS and DASH manifests: short-lived, compressed",
            min_ttl=0,
            ttl=MANIFEST_TTL_S,
            compress=True,
            parent=self,
        )
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-cors",
            name=f"{prefix}-media-cors",
            comment="Players on the web app's pages fetch media with their signed cookies",
            cors_config=aws.cloudfront.ResponseHeadersPolicyCorsConfigArgs(
                access_control_allow_credentials=True,
                access_control_allow_origins=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowOriginsArgs(
                    items=list(args.web_origins)
                ),
                access_control_allow_methods=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowMethodsArgs(
                    items=list(ALLOWED_METHODS)
                ),
                access_control_allow_headers=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowHeadersArgs(
                    items=list(CORS_ALLOWED_HEADERS)
                ),
                access_control_expose_headers=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlExposeHeadersArgs(
                    items=list(CORS_EXPOSED_HEADERS)
                ),
                access_control_max_age_sec=CORS_MAX_AGE_S,
                origin_override=True,
            ),
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=HSTS_MAX_AGE_S, override=True
                ),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True
                ),
            ),
            opts=child,
        )

        # --- the distributions -----------------------------------------------------------
        copies = [args.media, *([args.media_replica] if args.media_replica else [])]
        target = ORIGIN_GROUP if args.media_replica else args.media.role
        signed = [key_group.id]

        def behavior(
            cache_policy: aws.cloudfront.CachePolicy, compress: bool, key_groups: list[Any]
        ) -> dict[str, Any]:
            return {
                "target_origin_id": target,
                "viewer_protocol_policy": args.viewer_protocol_policy,
                "allowed_methods": list(ALLOWED_METHODS),
                "cached_methods": list(CACHED_METHODS),
                "cache_policy_id": cache_policy.id,
                "response_headers_policy_id": headers.id,
                "compress": compress,
                "trusted_key_groups": key_groups or None,
            }

        ordered = [
            aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=POSTER_PATTERN, **behavior(segments, False, [])
            ),
            *(
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=pattern, **behavior(manifests, True, signed)
                )
                for pattern in MANIFEST_PATTERNS
            ),
        ]
        distributions = {
            d.name: aws.cloudfront.Distribution(
                f"{name}-{d.name}",
                comment=f"flixstack {stage}: media CDN {d.name}",
                enabled=True,
                is_ipv6_enabled=True,
                http_version=HTTP_VERSION,
                price_class=args.price_class,
                aliases=list(d.aliases) or None,
                origins=[self._origin(copy, access, args) for copy in copies],
                origin_groups=[
                    aws.cloudfront.DistributionOriginGroupArgs(
                        origin_id=ORIGIN_GROUP,
                        failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                            status_codes=list(FAILOVER_STATUS_CODES)
                        ),
                        members=[
                            aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=c.role)
                            for c in copies
                        ],
                    )
                ]
                if args.media_replica
                else None,
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    **behavior(segments, False, signed)
                ),
                ordered_cache_behaviors=ordered,
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                        restriction_type=args.geo_restriction.type,
                        locations=list(args.geo_restriction.locations),
                    )
                    if args.geo_restriction
                    else aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                        restriction_type="none"
                    )
                ),
                viewer_certificate=viewer_certificate(args.certificate_arn),
                logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                    bucket=args.logs_bucket_domain_name,
                    prefix=LOG_PREFIX.format(name=d.name),
                    include_cookies=False,  # they carry the viewers' signed policies
                ),
                tags=tags(stage, CAPABILITY, {"cdn": d.name}),
                opts=child,
            )
            for d in args.distributions
        }
        arns = [distribution.arn for distribution in distributions.values()]
        for copy in copies:
            self._grant_reads(name, copy, arns, args)

        self.distribution_ids = {k: d.id for k, d in distributions.items()}
        self.distribution_arns = {k: d.arn for k, d in distributions.items()}
        self.domain_names = {k: d.domain_name for k, d in distributions.items()}
        self.key_pair_id = public_key.id
        self.key_group_id = key_group.id
        self.signing_secret_arn = secret.arn
        # A replica's ARN is the primary's in its region (the provider does not report it).
        self.signing_secret_arns = {
            args.region: secret.arn,
            **{
                region.name: secret.arn.apply(partial(policies.arn_in_region, region=region.name))
                for region in args.secondaries
            },
        }
        self.cdns = pulumi.Output.all(*self.domain_names.values()).apply(
            lambda domains: [
                endpoint(d, domain) for d, domain in zip(args.distributions, domains, strict=True)
            ]
        )
        first = next((d for d in args.distributions if d.enabled), args.distributions[0])
        self.media_base_url = self.domain_names[first.name].apply(
            lambda domain: base_url(first, domain)
        )
        self.register_outputs(
            {
                "distribution_ids": self.distribution_ids,
                "distribution_arns": self.distribution_arns,
                "domain_names": self.domain_names,
                "key_pair_id": self.key_pair_id,
                "key_group_id": self.key_group_id,
                "signing_secret_arn": self.signing_secret_arn,
                "signing_secret_arns": self.signing_secret_arns,
                "cdns": self.cdns,
                "media_base_url": self.media_base_url,
            }
        )

    @staticmethod
    def _origin(
        copy: MediaCopy, access: aws.cloudfront.OriginAccessControl, args: CdnArgs
    ) -> aws.cloudfront.DistributionOriginArgs:
        """An S3 origin reached through origin access control (no OAI: no s3_origin_config),
        with Origin Shield in front of the primary when the stack asks for it."""
        shield = args.origin_shield_region if copy is args.media else None
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=copy.role,
            domain_name=copy.regional_domain_name,
            origin_access_control_id=access.id,
            origin_shield=aws.cloudfront.DistributionOriginOriginShieldArgs(
                enabled=True, origin_shield_region=shield
            )
            if shield
            else None,
        )

    def _grant_reads(
        self,
        name: str,
        copy: MediaCopy,
        distribution_arns: Sequence[pulumi.Output[str]],
        args: CdnArgs,
    ) -> None:
        """The copy's bucket policy and its key's policy: TLS only, and the distributions
        (and only they) read ``titles/`` and decrypt it, in the copy's region."""
        child = pulumi.ResourceOptions(parent=self, provider=copy.provider)
        aws.s3.BucketPolicy(
            f"{name}-{copy.role}-policy",
            bucket=copy.bucket_name,
            policy=pulumi.Output.all(copy.bucket_arn, *distribution_arns).apply(
                lambda v: policies.media_bucket_policy(v[0], v[1:])
            ),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(aliases=list(copy.policy_aliases))
            ),
        )
        aws.kms.KeyPolicy(
            f"{name}-{copy.role}-key-policy",
            key_id=copy.key_id,
            policy=pulumi.Output.all(args.account_id, *distribution_arns).apply(
                lambda v: policies.media_key_policy(v[0], v[1:])
            ),
            opts=child,
        )
