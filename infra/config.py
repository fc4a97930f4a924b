"""Typed stack configuration, read once from ``pulumi.Config()`` by ``__main__``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi

from flixstack.spec import Naming

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

    def __post_init__(self) -> None:
        if self.ingest_glacier_days < 1:
            raise ValueError("flixstack:ingestGlacierDays must be at least 1")
        if self.log_retention_days not in _LOG_RETENTION_DAYS:
            raise ValueError(
                f"flixstack:logRetentionDays must be one of CloudWatch's values {_LOG_RETENTION_DAYS}"
            )
        if self.lambda_architecture not in ("arm64", "x86_64"):
            raise ValueError("flixstack:lambdaArchitecture must be arm64 or x86_64")

    def naming(self, bucket_suffix: str) -> Naming:
        return Naming(self.stage, bucket_suffix)

    @classmethod
    def load(cls) -> StackConfig:
        config = pulumi.Config(NAMESPACE)
        default: dict[str, Any] = {f.name: f.default for f in fields(cls)}
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
