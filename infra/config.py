"""Typed stack configuration, read once from ``pulumi.Config()`` by ``__main__``."""

from __future__ import annotations

import re
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
        if self.transcoder_image_tag is not None and (
            not _IMAGE_TAG.match(self.transcoder_image_tag) or self.transcoder_image_tag == "latest"
        ):
            raise ValueError(
                "flixstack:transcoderImageTag must be an immutable image tag (not 'latest')"
            )

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
        )


# What Docker and ECR accept as a tag.
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

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
