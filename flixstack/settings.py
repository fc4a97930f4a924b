"""One Settings object for every deployable, read from the environment.

Nothing else in the package reads ``os.environ``. Bad configuration fails at start-up
with a pydantic ValidationError that names the variable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AliasChoices, AnyHttpUrl, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flixstack.spec import Naming

LOCAL_STAGE = "local"


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
    endpoint_url: AnyHttpUrl | None = Field(
        default=None,
        validation_alias=AliasChoices("FLIXSTACK_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
    )
    """An AWS-compatible endpoint (moto server or LocalStack). Unset means real AWS."""

    user_pool_id: str | None = None
    """The Cognito user pool id; on AWS infra sets it, locally the pool is found by name."""

    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    """Total attempts (first try included) in botocore's standard retry mode, for every client."""

    default_territory: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    """ISO-3166 alpha-2 territory used when CloudFront-Viewer-Country is absent."""

    health_cache_seconds: Annotated[float, Field(ge=0)] = 10.0
    """How long /health reuses its resource inventory before asking AWS again."""

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str) -> str:
        parts = value.split("-")
        if len(parts) < 3 or not parts[-1].isdigit():
            raise ValueError(f"{value!r} is not an AWS region name such as us-east-1")
        return value

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
