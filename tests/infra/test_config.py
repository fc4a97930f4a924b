"""StackConfig fails fast on transcoding, CDN and pre-warming settings that AWS or the runtime
would reject at deploy time."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from flixstack import spec
from flixstack.playback import prewarm
from flixstack.settings import Settings
from infra.components.cdn import CdnDistribution, GeoRestriction
from infra.components.prewarming import PREWARM_TITLES
from infra.config import StackConfig
from tests.infra.mockgraph import SIGNING_PUBLIC_KEY


def _config(**changes: Any) -> StackConfig:
    return StackConfig(stage="dev", region="us-east-1", bucket_suffix=None, **changes)


def test_defaults_are_valid() -> None:
    config = _config()
    assert config.transcode_memory_mb == 8192
    assert config.transcode_ephemeral_storage_gib >= 50
    assert config.transcode_subnet_ids == ()
    assert config.transcoder_image_tag is None
    assert config.recommend_schedule == spec.RECOMMEND_SCHEDULE
    assert config.recommender_image_tag is None


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"transcode_memory_mb": 2048}, "transcodeMemoryMb"),  # below 2 vCPU's minimum
        ({"transcode_memory_mb": 5000}, "transcodeMemoryMb"),  # not a 1024 step
        ({"transcode_ephemeral_storage_gib": 21}, "transcodeEphemeralStorageGib"),
        ({"transcode_ephemeral_storage_gib": 201}, "transcodeEphemeralStorageGib"),
        ({"transcode_subnet_ids": ("subnet-a",)}, "transcodeSecurityGroupIds"),
        ({"transcode_security_group_ids": ("sg-1",)}, "transcodeSubnetIds"),
        ({"transcode_dispatch_concurrency": 1}, "transcodeDispatchConcurrency"),
        ({"transcoder_image_tag": "latest"}, "transcoderImageTag"),
        ({"transcoder_image_tag": "has space"}, "transcoderImageTag"),
    ],
)
def test_bad_transcoding_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"recommend_schedule": "every 6 hours"}, "recommendSchedule"),
        ({"recommend_schedule": "rate(0 hours)"}, "recommendSchedule"),
        ({"recommend_schedule": "cron(0 3 * *)"}, "recommendSchedule"),  # five fields
        ({"recommend_schedule": "at(2026-01-01T00:00:00)"}, "recommendSchedule"),  # one-off
        ({"recommender_image_tag": "latest"}, "recommenderImageTag"),
        ({"recommender_image_tag": "has space"}, "recommenderImageTag"),
    ],
)
def test_bad_recommendation_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)


@pytest.mark.parametrize("schedule", ["rate(1 day)", "rate(30 minutes)", "cron(0 3 * * ? *)"])
def test_schedule_expressions_are_accepted(schedule: str) -> None:
    assert _config(recommend_schedule=schedule).recommend_schedule == schedule


def test_given_network_is_accepted() -> None:
    config = _config(
        transcode_subnet_ids=("subnet-a", "subnet-b"),
        transcode_security_group_ids=("sg-1",),
        transcode_assign_public_ip=False,
    )
    assert config.transcode_subnet_ids == ("subnet-a", "subnet-b")


# --- playback and delivery ------------------------------------------------------------------------
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0000-4000-8000-000000000000"


def test_default_cdns_are_two_distributions() -> None:
    config = _config()
    assert [c.name for c in config.cdns] == ["cloudfront-a", "cloudfront-b"]
    assert config.cdn_viewer_protocol_policy == "redirect-to-https"


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"cdns": (CdnDistribution("only"),)}, "flixstack:cdns"),  # one CDN is no multi-CDN
        ({"cdns": (CdnDistribution("a"), CdnDistribution("a"))}, "flixstack:cdns"),
        ({"cdn_price_class": "PriceClass_1"}, "cdnPriceClass"),
        ({"cdn_viewer_protocol_policy": "allow-all"}, "cdnViewerProtocolPolicy"),
        (
            {"cdns": (CdnDistribution("a", aliases=("a.example.com",)), CdnDistribution("b"))},
            "cdnCertificateArn",
        ),
        (
            {"cdn_certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
            "cdnCertificateArn",
        ),
        (
            {
                "cdn_certificate_arn": CERTIFICATE,
                "cdn_cookie_domain": "example.com",
                "cdns": (
                    CdnDistribution("a", aliases=("a.example.com",)),
                    CdnDistribution("b"),  # would never get the cookies
                ),
            },
            "cdnCookieDomain",
        ),
        ({"cdn_web_origins": ("https://app.example.com/player",)}, "cdnWebOrigins"),
        ({"cdn_web_origins": ()}, "cdnWebOrigins"),
        ({"cdn_origin_shield_region": "virginia"}, "cdnOriginShieldRegion"),
        ({"webapp_aliases": ("watch.example.com",)}, "webappAliases"),
        ({"cdn_signing_public_key": "not a key"}, "cdnSigningPublicKey"),
    ],
)
def test_bad_cdn_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "Has Caps"},
        {"name": "a", "weight": 0},
        {"name": "a", "territories": {"usa": 1}},
        {"name": "a", "territories": {"US": -1}},
        {"name": "a", "colour": "blue"},
    ],
)
def test_bad_cdn_entries_fail_fast(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"CDN|cdns"):
        CdnDistribution.from_config(entry)


@pytest.mark.parametrize(
    "restriction", [{"type": "allow", "locations": ["US"]}, {"type": "whitelist", "locations": []}]
)
def test_bad_geo_restrictions_fail_fast(restriction: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="geo restriction"):
        GeoRestriction(type=restriction["type"], locations=tuple(restriction["locations"]))


def test_a_multi_region_cdn_with_custom_domains_is_accepted() -> None:
    config = _config(
        regions=("us-east-1", "us-west-2"),
        cdn_certificate_arn=CERTIFICATE,
        cdn_cookie_domain="flix.example.com",
        cdns=(
            CdnDistribution("a", weight=3, aliases=("cdn-a.flix.example.com",)),
            CdnDistribution("b", territories={"DE": 2}, aliases=("cdn-b.flix.example.com",)),
        ),
        cdn_geo_restriction=GeoRestriction("blacklist", ("KP",)),
        cdn_signing_public_key=SIGNING_PUBLIC_KEY,
    )
    assert config.cdns[1].territories == {"DE": 2}


# --- regions ---------------------------------------------------------------------------------------
def test_a_stack_without_regions_is_its_aws_region_alone() -> None:
    config = _config()
    assert config.regions == ("us-east-1",)
    assert config.api_domain is None
    assert config.hosted_zone_id is None


def test_any_number_of_regions_is_accepted_the_primary_first() -> None:
    config = _config(regions=("us-east-1", "eu-west-1", "ap-southeast-2"))
    assert config.regions == ("us-east-1", "eu-west-1", "ap-southeast-2")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"regions": ("us-west-2", "us-east-1")}, "must be aws:region"),  # primary not first
        ({"regions": ("us-east-1", "us-east-1")}, "names a region twice"),
        ({"regions": ("us-east-1", "oregon")}, "region names such as"),
        ({"api_domain": "api.example.com"}, "set together"),
        ({"hosted_zone_id": "Z0123456789ABC"}, "set together"),
        ({"api_domain": "https://api.example.com", "hosted_zone_id": "Z1"}, "host name"),
        ({"api_domain": "API.example.com", "hosted_zone_id": "Z1"}, "host name"),
        ({"api_domain": "api.example.com", "hosted_zone_id": "zone-1"}, "hosted zone id"),
        (
            {
                "api_domain": "api.example.org",
                "hosted_zone_id": "Z1",
                "cdn_certificate_arn": CERTIFICATE,
                "cdn_cookie_domain": "example.com",
                "cdns": (
                    CdnDistribution("a", aliases=("a.example.com",)),
                    CdnDistribution("b", aliases=("b.example.com",)),
                ),
            },
            "cdnCookieDomain",  # the API could not set the CDNs' cookies
        ),
    ],
)
def test_bad_region_and_domain_settings_fail_fast(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _config(**changes)


def test_the_api_domain_may_be_the_cookie_domain_or_under_it() -> None:
    cdns = (
        CdnDistribution("a", aliases=("a.flix.example.com",)),
        CdnDistribution("b", aliases=("b.flix.example.com",)),
    )
    for domain in ("flix.example.com", "api.flix.example.com"):
        config = _config(
            api_domain=domain,
            hosted_zone_id="Z0123456789EXAMPLE",
            cdn_certificate_arn=CERTIFICATE,
            cdn_cookie_domain="flix.example.com",
            cdns=cdns,
        )
        assert config.api_domain == domain


# --- CDN pre-warming ---------------------------------------------------------------------------
def test_prewarm_defaults_are_the_runtime_defaults() -> None:
    config = _config()
    fields = Settings.model_fields
    assert config.prewarm_titles == fields["prewarm_titles"].default
    assert config.prewarm_segments == fields["prewarm_segments"].default
    assert config.prewarm_min_popularity == fields["prewarm_min_popularity"].default
    assert config.prewarm_new_days == fields["prewarm_new_days"].default
    assert config.prewarm_concurrency >= 2


def test_the_prewarm_choices_are_the_runtime_s() -> None:
    assert set(PREWARM_TITLES) == set(get_args(prewarm.Which)) == {"all", "popular", "new", "none"}
    for titles in PREWARM_TITLES:
        assert _config(prewarm_titles=titles).prewarm_titles == titles


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"prewarm_titles": "trending"}, "prewarmTitles"),
        ({"prewarm_segments": -1}, "prewarmSegments"),
        ({"prewarm_segments": 101}, "prewarmSegments"),  # Settings.prewarm_segments: 0-100
        ({"prewarm_min_popularity": -0.5}, "prewarmMinPopularity"),
        ({"prewarm_new_days": -1}, "prewarmNewDays"),
        ({"prewarm_concurrency": 1}, "prewarmConcurrency"),  # SQS maximum concurrency >= 2
    ],
)
def test_bad_prewarm_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)


# --- observability and analytics ---------------------------------------------------------------
def test_observability_defaults_page_nobody_and_cap_queries() -> None:
    config = _config()
    assert config.alarm_email is None
    assert config.api_latency_p99_ms > 0
    assert config.athena_query_limit_gib >= 1


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"alarm_email": "not-an-address"}, "alarmEmail"),
        ({"api_latency_p99_ms": 0}, "apiLatencyP99Ms"),
        ({"athena_query_limit_gib": 0}, "athenaQueryLimitGib"),  # Athena's floor is 10 MB
        ({"athena_query_limit_gib": 2048}, "athenaQueryLimitGib"),
    ],
)
def test_bad_observability_settings_fail_fast(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        _config(**changes)
