"""Typed stack configuration, read once from ``pulumi.Config()`` by ``__main__``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

import pulumi

from flixstack.spec import RECOMMEND_SCHEDULE, Naming
from infra.components.cdn import (
    PRICE_CLASSES,
    VIEWER_PROTOCOL_POLICIES,
    WEB_ORIGIN,
    CdnDistribution,
    GeoRestriction,
    load_public_key,
)
from infra.components.prewarming import MAX_SEGMENTS, PREWARM_TITLES

NAMESPACE = "flixstack"


@dataclass(frozen=True)
class StackConfig:
    stage: str
    region: str
    bucket_suffix: str | None
    """None: the account id is used. An empty string: no suffix."""
    ingest_glacier_days: int = 30
    """Uploaded masters move to GLACIER_IR after this many days."""
    noncurrent_expiry_days: int = 30
    log_retention_days: int = 30
    api_throttle_rate: float = 200.0
    api_throttle_burst: int = 400
    api_memory_mb: int = 1024
    api_reserved_concurrency: int = 50
    lambda_architecture: str = "arm64"
    force_destroy: bool = False
    """Ephemeral stacks set this so `pulumi destroy` empties buckets."""
    deletion_protection: bool = True
    callback_urls: tuple[str, ...] = ("http://localhost:8000/auth/callback",)
    lambda_layer_dir: str = "build/lambda-layer"
    # --- regions ------------------------------------------------------------------------------
    regions: tuple[str, ...] = ()
    """Every region of the stack, the primary first; it must be ``aws:region``, the default
    provider's, where everything that is not per region lives. Each other region gets the
    API (and its layer), a replica of every table, a KMS key for them and, the first of
    them, the media replica the CDN fails over to. Empty: ``aws:region`` alone."""
    api_domain: str | None = None
    """A custom domain for the API (``api.flix.example.com``), in ``hosted_zone_id``: each
    region's API gets a certificate and custom domain for it, behind Route53 latency records
    with health checks. None: the primary region's ``execute-api`` URL is the API's."""
    hosted_zone_id: str | None = None
    """The Route53 public hosted zone of ``api_domain`` (``Z...``)."""
    # --- transcoding ------------------------------------------------------------------------
    transcode_memory_mb: int = 8192
    """Memory of the 2-vCPU Fargate task: 4096-16384 MiB in steps of 1024."""
    transcode_ephemeral_storage_gib: int = 50
    """Task scratch space for the master, renditions and packaging: 50-200 GiB."""
    transcode_spot: bool = False
    """Run tasks on FARGATE_SPOT; an interrupted task is retried like a crashed one."""
    transcode_subnet_ids: tuple[str, ...] = ()
    """Subnets of an existing VPC for the tasks. Empty: the component creates a small VPC
    (two public subnets, no NAT gateway, tasks get public IPs, HTTPS egress only)."""
    transcode_security_group_ids: tuple[str, ...] = ()
    """Security groups for the tasks; given together with ``transcode_subnet_ids``."""
    transcode_assign_public_ip: bool | None = None
    """None: only in the VPC the component creates. Given subnets must have a route to S3,
    ECR and CloudWatch (NAT or VPC endpoints) unless this is true and they are public."""
    transcode_dispatch_concurrency: int = 5
    """Reserved concurrency of the dispatcher Lambdas and maximum concurrency of the queue's
    event-source mapping (at least 2)."""
    transcoder_image_tag: str | None = None
    """None: the digest of the image's build context (``packaging.image_tag``), which CI
    pushes before ``pulumi up``. Set it to deploy an image built elsewhere."""
    # --- recommendations ------------------------------------------------------------------------
    recommend_schedule: str = RECOMMEND_SCHEDULE
    """When the recommender trains: an EventBridge Scheduler ``rate(...)`` or ``cron(...)``
    expression (UTC)."""
    recommender_image_tag: str | None = None
    """None: the digest of the training image's build context (``packaging.image_tag``),
    which CI pushes before ``pulumi up``. Set it to deploy an image built elsewhere."""
    # --- playback and delivery ----------------------------------------------------------------
    cdns: tuple[CdnDistribution, ...] = field(
        default=(CdnDistribution("cloudfront-a"), CdnDistribution("cloudfront-b"))
    )
    """The CloudFront distributions (at least two), in the playback API's CDN list."""
    cdn_price_class: str = "PriceClass_100"
    cdn_viewer_protocol_policy: str = "redirect-to-https"
    cdn_certificate_arn: str | None = None
    """An ACM certificate in us-east-1 covering every CDN alias; None: CloudFront's own
    certificate on the ``*.cloudfront.net`` domains (and then no aliases)."""
    cdn_geo_restriction: GeoRestriction | None = None
    cdn_origin_shield_region: str | None = None
    cdn_web_origins: tuple[str, ...] = ("http://localhost:8000",)
    """Origins of the pages that play media (CORS with credentials)."""
    cdn_cookie_domain: str | None = None
    """Parent domain of every CDN alias, where the API sets the signed cookies. Browsers
    send cookies only to the domain that set them or its subdomains, so on AWS the API and
    the CDNs need custom domains under it (``*.cloudfront.net`` cannot share cookies)."""
    cdn_signing_public_key: str = ""
    """PEM of the RSA 2048 key CloudFront verifies signed cookies with (``load`` requires it)."""
    cdn_signing_private_key: pulumi.Input[str] = ""
    """PEM of its private half, a Pulumi secret (``load`` requires it)."""
    webapp_aliases: tuple[str, ...] = ()
    """Custom host names of the web app's distribution (``cdnCertificateArn`` must cover
    them); the first is the app's URL. Empty: its ``*.cloudfront.net`` domain."""
    # --- CDN pre-warming (defaults as flixstack.settings.Settings.prewarm_*) ------------------
    prewarm_titles: str = "all"
    """Which newly published titles get their first segments fetched through every CDN:
    ``all``, ``popular`` (``prewarm_min_popularity``), ``new`` (first published at most
    ``prewarm_new_days`` ago) or ``none``."""
    prewarm_segments: int = 5
    """Media segments per rendition, after the init segment (0-100; 0 warms nothing)."""
    prewarm_min_popularity: float = 0.0
    prewarm_new_days: int = 30
    prewarm_concurrency: int = 5
    """Reserved concurrency of the pre-warming Lambda and maximum concurrency of the prewarm
    queue's event-source mapping (at least 2)."""
    # --- observability and analytics -----------------------------------------------------------
    alarm_email: str | None = None
    """Where alarm notifications are mailed (the address must confirm); None: nobody."""
    api_latency_p99_ms: int = 1000
    """The API's p99 latency above which its alarm fires."""
    athena_query_limit_gib: int = 10
    """The most data one query of the analytics Athena workgroup may scan."""

    def __post_init__(self) -> None:
        if self.ingest_glacier_days < 1:
            raise ValueError("flixstack:ingestGlacierDays must be at least 1")
        if self.log_retention_days not in _LOG_RETENTION_DAYS:
            raise ValueError(
                f"flixstack:logRetentionDays must be one of CloudWatch's values {_LOG_RETENTION_DAYS}"
            )
        if self.lambda_architecture not in ("arm64", "x86_64"):
            raise ValueError("flixstack:lambdaArchitecture must be arm64 or x86_64")
        if not (4096 <= self.transcode_memory_mb <= 16384 and self.transcode_memory_mb % 1024 == 0):
            raise ValueError(
                "flixstack:transcodeMemoryMb must be 4096-16384 in steps of 1024 (2 vCPU Fargate)"
            )
        if not 50 <= self.transcode_ephemeral_storage_gib <= 200:
            raise ValueError("flixstack:transcodeEphemeralStorageGib must be 50-200")
        if bool(self.transcode_subnet_ids) != bool(self.transcode_security_group_ids):
            raise ValueError(
                "flixstack:transcodeSubnetIds and flixstack:transcodeSecurityGroupIds "
                "are given together or not at all"
            )
        if not 2 <= self.transcode_dispatch_concurrency <= 1000:
            raise ValueError("flixstack:transcodeDispatchConcurrency must be 2-1000")
        for key, tag in (
            ("transcoderImageTag", self.transcoder_image_tag),
            ("recommenderImageTag", self.recommender_image_tag),
        ):
            if tag is not None and (not _IMAGE_TAG.match(tag) or tag == "latest"):
                raise ValueError(f"flixstack:{key} must be an immutable image tag (not 'latest')")
        if not _SCHEDULE.match(self.recommend_schedule):
            raise ValueError(
                "flixstack:recommendSchedule must be a schedule expression such as "
                f"{RECOMMEND_SCHEDULE} or cron(0 3 * * ? *)"
            )
        self._check_regions()
        self._check_cdn()
        self._check_prewarm()
        self._check_observability()

    def _check_cdn(self) -> None:
        names = [cdn.name for cdn in self.cdns]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError("flixstack:cdns must list at least two CDNs with distinct names")
        if self.cdn_price_class not in PRICE_CLASSES:
            raise ValueError(f"flixstack:cdnPriceClass must be one of {PRICE_CLASSES}")
        if self.cdn_viewer_protocol_policy not in VIEWER_PROTOCOL_POLICIES:
            raise ValueError(
                f"flixstack:cdnViewerProtocolPolicy must be one of {VIEWER_PROTOCOL_POLICIES}"
            )
        aliases = [alias for cdn in self.cdns for alias in cdn.aliases]
        if self.cdn_certificate_arn is None and aliases:
            raise ValueError("flixstack:cdns aliases need flixstack:cdnCertificateArn")
        if self.cdn_certificate_arn is None and self.webapp_aliases:
            raise ValueError("flixstack:webappAliases need flixstack:cdnCertificateArn")
        if self.cdn_certificate_arn is not None and not _CLOUDFRONT_CERTIFICATE.match(
            self.cdn_certificate_arn
        ):
            raise ValueError(
                "flixstack:cdnCertificateArn must be an ACM certificate in us-east-1 "
                "(CloudFront's region for certificates)"
            )
        if self.cdn_cookie_domain is not None:
            outside = [
                cdn.name
                for cdn in self.cdns
                if not any(a.endswith(f".{self.cdn_cookie_domain}") for a in cdn.aliases[:1])
            ]
            if outside:
                raise ValueError(
                    f"flixstack:cdnCookieDomain: the first alias of CDNs {outside} is not "
                    f"under {self.cdn_cookie_domain}, so they would never get the cookies"
                )
        bad_origins = [o for o in self.cdn_web_origins if not WEB_ORIGIN.match(o)]
        if bad_origins or not self.cdn_web_origins:
            raise ValueError(
                f"flixstack:cdnWebOrigins are origins (scheme://host[:port]): {bad_origins}"
            )
        if self.cdn_origin_shield_region is not None and not _REGION.match(
            self.cdn_origin_shield_region
        ):
            raise ValueError(
                "flixstack:cdnOriginShieldRegion must be a region name such as us-west-2"
            )
        if self.cdn_signing_public_key:
            try:
                load_public_key(self.cdn_signing_public_key)
            except ValueError as exc:
                raise ValueError(f"flixstack:cdnSigningPublicKey: {exc}") from exc

    def _check_regions(self) -> None:
        if not self.regions:
            object.__setattr__(self, "regions", (self.region,))  # frozen: normalised once
        bad = [r for r in self.regions if not _REGION.match(r)]
        if bad:
            raise ValueError(f"flixstack:regions are region names such as us-west-2, not {bad}")
        if len(set(self.regions)) != len(self.regions):
            raise ValueError(f"flixstack:regions names a region twice: {list(self.regions)}")
        if self.regions[0] != self.region:
            raise ValueError(
                f"flixstack:regions starts with the primary region, which must be aws:region "
                f"({self.region}), not {self.regions[0]}: list {self.region} first, or set "
                f"aws:region to {self.regions[0]}"
            )
        if (self.api_domain is None) != (self.hosted_zone_id is None):
            raise ValueError(
                "flixstack:apiDomain and flixstack:hostedZoneId are set together or not at all"
            )
        if self.api_domain is not None and not _HOST_NAME.match(self.api_domain):
            raise ValueError(
                f"flixstack:apiDomain must be a lower-case host name such as api.example.com, "
                f"not {self.api_domain!r}"
            )
        if self.hosted_zone_id is not None and not _HOSTED_ZONE_ID.match(self.hosted_zone_id):
            raise ValueError(
                f"flixstack:hostedZoneId must be a Route53 hosted zone id (Z...), "
                f"not {self.hosted_zone_id!r}"
            )
        cookies = self.cdn_cookie_domain
        if (
            cookies is not None
            and self.api_domain is not None
            and not (self.api_domain == cookies or self.api_domain.endswith(f".{cookies}"))
        ):
            raise ValueError(
                f"flixstack:apiDomain must be flixstack:cdnCookieDomain ({cookies}) or under "
                "it: browsers refuse the signed cookies the API sets for another domain"
            )

    def _check_prewarm(self) -> None:
        if self.prewarm_titles not in PREWARM_TITLES:
            raise ValueError(f"flixstack:prewarmTitles must be one of {PREWARM_TITLES}")
        if not 0 <= self.prewarm_segments <= MAX_SEGMENTS:
            raise ValueError(f"flixstack:prewarmSegments must be 0-{MAX_SEGMENTS}")
        if not self.prewarm_min_popularity >= 0:
            raise ValueError("flixstack:prewarmMinPopularity must be at least 0")
        if self.prewarm_new_days < 0:
            raise ValueError("flixstack:prewarmNewDays must be at least 0")
        if not 2 <= self.prewarm_concurrency <= 1000:
            raise ValueError("flixstack:prewarmConcurrency must be 2-1000")

    def _check_observability(self) -> None:
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            raise ValueError("flixstack:alarmEmail must be an e-mail address")
        if self.api_latency_p99_ms <= 0:
            raise ValueError("flixstack:apiLatencyP99Ms must be positive")
        if not 1 <= self.athena_query_limit_gib <= 1024:
            raise ValueError("flixstack:athenaQueryLimitGib must be 1-1024")

    def naming(self, bucket_suffix: str) -> Naming:
        return Naming(self.stage, bucket_suffix)

    @classmethod
    def load(cls) -> StackConfig:
        config = pulumi.Config(NAMESPACE)
        default: dict[str, Any] = {f.name: f.default for f in fields(cls)}
        replica = config.get("mediaReplicaRegion")
        if replica is not None:
            raise ValueError(
                "flixstack:mediaReplicaRegion is replaced by flixstack:regions, the primary "
                f"(aws:region) first: [<aws:region>, {replica}]"
            )
        return cls(
            stage=config.get("stage") or pulumi.get_stack(),
            region=pulumi.Config("aws").require("region"),
            bucket_suffix=config.get("bucketSuffix"),
            ingest_glacier_days=config.get_int("ingestGlacierDays", default["ingest_glacier_days"]),
            noncurrent_expiry_days=config.get_int(
                "noncurrentExpiryDays", default["noncurrent_expiry_days"]
            ),
            log_retention_days=config.get_int("logRetentionDays", default["log_retention_days"]),
            api_throttle_rate=config.get_float("apiThrottleRate", default["api_throttle_rate"]),
            api_throttle_burst=config.get_int("apiThrottleBurst", default["api_throttle_burst"]),
            api_memory_mb=config.get_int("apiMemoryMb", default["api_memory_mb"]),
            api_reserved_concurrency=config.get_int(
                "apiReservedConcurrency", default["api_reserved_concurrency"]
            ),
            lambda_architecture=config.get("lambdaArchitecture", default["lambda_architecture"]),
            force_destroy=config.get_bool("forceDestroy", default["force_destroy"]),
            deletion_protection=config.get_bool(
                "deletionProtection", default["deletion_protection"]
            ),
            callback_urls=tuple(config.get_object("callbackUrls") or default["callback_urls"]),
            lambda_layer_dir=config.get("lambdaLayerDir", default["lambda_layer_dir"]),
            regions=tuple(str(r) for r in config.get_object("regions") or ()),
            api_domain=config.get("apiDomain"),
            hosted_zone_id=config.get("hostedZoneId"),
            transcode_memory_mb=config.get_int("transcodeMemoryMb", default["transcode_memory_mb"]),
            transcode_ephemeral_storage_gib=config.get_int(
                "transcodeEphemeralStorageGib", default["transcode_ephemeral_storage_gib"]
            ),
            transcode_spot=config.get_bool("transcodeSpot", default["transcode_spot"]),
            transcode_subnet_ids=tuple(config.get_object("transcodeSubnetIds") or ()),
            transcode_security_group_ids=tuple(
                config.get_object("transcodeSecurityGroupIds") or ()
            ),
            transcode_assign_public_ip=config.get_bool("transcodeAssignPublicIp"),
            transcode_dispatch_concurrency=config.get_int(
                "transcodeDispatchConcurrency", default["transcode_dispatch_concurrency"]
            ),
            transcoder_image_tag=config.get("transcoderImageTag"),
            recommend_schedule=config.get("recommendSchedule", default["recommend_schedule"]),
            recommender_image_tag=config.get("recommenderImageTag"),
            cdns=tuple(CdnDistribution.from_config(cdn) for cdn in config.get_object("cdns") or ())
            or default["cdns"],
            cdn_price_class=config.get("cdnPriceClass", default["cdn_price_class"]),
            cdn_viewer_protocol_policy=config.get(
                "cdnViewerProtocolPolicy", default["cdn_viewer_protocol_policy"]
            ),
            cdn_certificate_arn=config.get("cdnCertificateArn"),
            cdn_geo_restriction=_geo_restriction(config.get_object("cdnGeoRestriction")),
            cdn_origin_shield_region=config.get("cdnOriginShieldRegion"),
            cdn_web_origins=tuple(config.get_object("cdnWebOrigins") or default["cdn_web_origins"]),
            cdn_cookie_domain=config.get("cdnCookieDomain"),
            cdn_signing_public_key=config.require("cdnSigningPublicKey"),
            cdn_signing_private_key=config.require_secret("cdnSigningPrivateKey"),
            webapp_aliases=tuple(config.get_object("webappAliases") or ()),
            prewarm_titles=config.get("prewarmTitles", default["prewarm_titles"]),
            prewarm_segments=config.get_int("prewarmSegments", default["prewarm_segments"]),
            prewarm_min_popularity=config.get_float(
                "prewarmMinPopularity", default["prewarm_min_popularity"]
            ),
            prewarm_new_days=config.get_int("prewarmNewDays", default["prewarm_new_days"]),
            prewarm_concurrency=config.get_int(
                "prewarmConcurrency", default["prewarm_concurrency"]
            ),
            alarm_email=config.get("alarmEmail"),
            api_latency_p99_ms=config.get_int("apiLatencyP99Ms", default["api_latency_p99_ms"]),
            athena_query_limit_gib=config.get_int(
                "athenaQueryLimitGib", default["athena_query_limit_gib"]
            ),
        )


def _geo_restriction(value: Any) -> GeoRestriction | None:
    """``{"type": "whitelist" | "blacklist", "locations": ["US", ...]}``, or absent."""
    if not value:
        return None
    unknown = set(value) - {"type", "locations"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in flixstack:cdnGeoRestriction")
    return GeoRestriction(type=value.get("type"), locations=tuple(value.get("locations") or ()))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_CLOUDFRONT_CERTIFICATE = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")


# What Docker and ECR accept as a tag.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# EventBridge Scheduler's recurring expressions: a rate, or a six-field cron.
_SCHEDULE = re.compile(
    r"^(rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$"
)

# CloudWatch Logs accepts only these retention periods.
_LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
