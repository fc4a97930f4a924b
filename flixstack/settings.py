"""One Settings object for every deployable, read from the environment.

Nothing else in the package reads ``os.environ``. Bad configuration fails at start-up
with a pydantic ValidationError that names the variable.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    Field,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from flixstack.spec import Naming

LOCAL_STAGE = "local"
CHECKOUT = Path(__file__).resolve().parent.parent
"""The source checkout the package runs from (``flixstack up`` runs from one)."""
Territory = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class CdnEndpoint(BaseModel):
    """One CDN that serves the media bucket (a CloudFront distribution, another vendor's
    CDN, or a local edge), as the playback API ranks them."""

    model_config = {"frozen": True, "extra": "forbid"}

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")]
    base_url: AnyHttpUrl
    """Media keys are served under it: ``<base_url>/titles/<title>/<version>/hls/...``."""
    weight: Annotated[float, Field(gt=0)] = 1.0
    """Share of viewers who get this CDN first, among the healthy ones."""
    territories: dict[Territory, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Per-territory weights replacing ``weight`` there (0: never first in that territory)."""
    enabled: bool = True
    """The operator's switch: a disabled CDN is never offered."""
    health_url: AnyHttpUrl | None = None
    """Probed by the API in the background; while it fails, the CDN is not offered."""


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to ``FLIXSTACK_<FIELD>`` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="FLIXSTACK_", extra="ignore", frozen=True, populate_by_name=True
    )

    stage: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")] = LOCAL_STAGE
    """Deployment name; physical resource names are ``flixstack-<stage>-<logical>``."""

    bucket_suffix: str = ""
    """Appended to bucket names to make them globally unique (the account id on AWS)."""

    region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("FLIXSTACK_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    home_region: str | None = None
    """The stack's primary region, where its single-region resources are (queues, the user
    pool, buckets but for replicas, the lake); None: ``region`` itself. Clients of
    ``spec.REGIONAL_SERVICES`` talk to ``region``, every other one to this."""
    endpoint_url: AnyHttpUrl | None = Field(
        default=None,
        validation_alias=AliasChoices("FLIXSTACK_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
    )
    """An AWS-compatible endpoint (moto server or LocalStack). Unset means real AWS."""

    user_pool_id: str | None = None
    """The Cognito user pool id; on AWS infra sets it, locally the pool is found by name."""

    user_pool_client_ids: list[str] | None = None
    """App clients whose access tokens the API accepts, as a JSON list in the spec's order
    (web, cli); infra sets them on AWS, locally the pool's clients are found by name."""

    jwks_refresh_min_s: Annotated[float, Field(ge=0)] = 30.0
    """Least time between two JWKS downloads caused by unknown key ids."""
    jwt_leeway_s: Annotated[float, Field(ge=0, le=300)] = 5.0
    """Clock skew tolerated on ``exp`` and ``nbf``."""

    rate_limit_per_s: Annotated[float, Field(gt=0)] = 20.0
    """Sustained requests per second per account and per source IP (token buckets)."""
    rate_limit_burst: Annotated[int, Field(ge=1)] = 40
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1 << 20
    """Largest request body the API reads (uploads go straight to S3, not through it)."""

    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    """Total attempts (first try included) in botocore's standard retry mode, for every client."""

    default_territory: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    """ISO-3166 alpha-2 territory used when CloudFront-Viewer-Country is absent."""

    health_cache_seconds: Annotated[float, Field(ge=0)] = 10.0
    """How long /health reuses its resource inventory before asking AWS again."""

    catalog_refresh_s: Annotated[float, Field(ge=0)] = 2.0
    """How often the near-cache checks for a newer catalog snapshot (in the background)."""
    recommend_refresh_s: Annotated[float, Field(ge=0)] = 30.0
    """How often the API checks for a newer recommendation model (in the background)."""
    recommend_every_s: Annotated[float, Field(gt=0)] = 300.0
    """How often ``flixstack up`` retrains the recommender (on AWS the schedule is
    ``spec.RECOMMEND_SCHEDULE``)."""

    # --- playback and delivery ----------------------------------------------------------
    cdns: list[CdnEndpoint] = Field(default_factory=list)
    """The CDNs playback offers, as a JSON list of CdnEndpoint objects."""
    cdn_health_interval_s: Annotated[float, Field(gt=0)] = 5.0
    cdn_cookie_domain: str | None = None
    """Domain attribute of the signed cookies: the parent domain of the CDNs' hostnames
    (e.g. ``example.com`` for cdn1.example.com and cdn2.example.com); None for host-only
    cookies (every local edge shares the host 127.0.0.1)."""
    playback_margin_s: Annotated[int, Field(ge=0)] = 1800
    """Signed access lasts the title's runtime plus this margin..."""
    playback_max_s: Annotated[int, Field(ge=60)] = 6 * 3600
    """...but never longer than this."""
    api_base_url: str = ""
    """Public base URL of the API; HLS playlists name ``<api_base_url>/keys/<asset>`` as
    their key URI (empty: the root-relative ``/keys/<asset>``)."""
    prewarm_titles: Literal["all", "popular", "new", "none"] = "all"
    """Which published titles get their first segments fetched through every CDN."""
    prewarm_segments: Annotated[int, Field(ge=0, le=100)] = 5
    """Media segments per rendition (20 s at 4 s segments), as the prod stack warms."""
    prewarm_min_popularity: Annotated[float, Field(ge=0)] = 0.0
    prewarm_new_days: Annotated[int, Field(ge=0)] = 30
    prewarm_in_worker: bool = False
    """The transcode worker's ``poll`` also consumes the prewarm queue (``flixstack up``
    sets it; on AWS a queue-triggered function does)."""
    edge_cache_bytes: Annotated[int, Field(ge=0)] = 2**30
    """Size of a local edge's LRU byte cache (memory is taken only as it fills): room for
    what pre-warming a few hundred titles puts there and what viewers ask for besides."""

    # --- media pipeline -------------------------------------------------------------------
    protect_media: bool = True
    """Encrypt HLS segments with a per-asset AES-128 key (no DASH then); false packages
    clear HLS and DASH, for content anyone may watch (trailers, previews)."""
    media_base_url: str = ""
    """Public base URL of the media bucket's content (a CDN, or the local edge)."""

    max_upload_bytes: Annotated[int, Field(gt=0)] = 20 * 2**30
    max_duration_s: Annotated[float, Field(gt=0)] = 4 * 3600.0
    upload_url_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 6 * 3600
    """How long presigned upload URLs stay valid."""

    transcode_visibility_s: Annotated[int, Field(ge=2, le=12 * 3600)] = 120
    """SQS visibility (and job lease) a worker holds, renewed by heartbeats."""

    transcode_heartbeat_s: Annotated[float, Field(gt=0)] = 20.0
    transcode_event: str | None = None
    """One S3 event (JSON) for ``worker run-one``: a container started per message sets it."""
    transcode_attempt: Annotated[int, Field(ge=1)] = 1
    """Which delivery of that event this run is (the dispatcher counts them)."""
    work_dir: Path = Path(tempfile.gettempdir()) / "flixstack-work"

    @field_validator("region", "home_region")
    @classmethod
    def _region_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.split("-")
        if len(parts) < 3 or not parts[-1].isdigit():
            raise ValueError(f"{value!r} is not an AWS region name such as us-east-1")
        return value

    @model_validator(mode="after")
    def _heartbeat_inside_visibility(self) -> Settings:
        if self.transcode_heartbeat_s * 2 > self.transcode_visibility_s:
            raise ValueError("transcode_heartbeat_s must be at most half of transcode_visibility_s")
        return self

    @property
    def home(self) -> str:
        """The stack's home (primary) region."""
        return self.home_region or self.region

    @property
    def naming(self) -> Naming:
        return Naming(self.stage, self.bucket_suffix)

    @property
    def endpoint(self) -> str | None:
        """The endpoint as a plain string without a trailing slash, or None for AWS."""
        return str(self.endpoint_url).rstrip("/") if self.endpoint_url else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own Settings instead)."""
    return Settings()
