"""What of a stack's config changes its bill, read from ``stacks/Pulumi.<stack>.yaml``.

Keys a stack file leaves out take the Pulumi program's defaults (``infra/config.py``; a unit
test keeps the two the same)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flixstack.settings import CHECKOUT

STACKS = CHECKOUT / "stacks"
NAMESPACE = "flixstack"
DEFAULTS: dict[str, Any] = {
    "cdnPriceClass": "PriceClass_100",
    "lambdaArchitecture": "arm64",
    "apiMemoryMb": 1024,
    "transcodeMemoryMb": 8192,
    "transcodeSpot": False,
    "logRetentionDays": 30,
}
TRANSCODE_VCPUS = 2
"""The transcode task's vCPUs (infra/components/transcoding.py: CPU_UNITS)."""


class UnknownStack(ValueError):
    pass


@dataclass(frozen=True)
class StackShape:
    name: str
    regions: tuple[str, ...]
    """The primary region first, then the others (media replica, table replicas, API)."""
    price_class: str
    lambda_architecture: str
    api_memory_mb: int
    transcode_memory_mb: int
    transcode_spot: bool
    log_retention_days: int

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1


def stack_names(stacks: Path = STACKS) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stacks.glob("Pulumi.*.yaml")
    )


def read_stack(name: str, stacks: Path = STACKS) -> StackShape:
    path = stacks / f"Pulumi.{name}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(stacks)) or "none"
        raise UnknownStack(f"no stack {name!r}: {path} does not exist (stacks: {known})")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}

    def value(key: str) -> Any:
        return config.get(f"{NAMESPACE}:{key}", DEFAULTS.get(key))

    primary = config.get("aws:region")
    if not primary:
        raise UnknownStack(f"{path} sets no aws:region")
    listed = value("regions") or [primary]
    replica = value("mediaReplicaRegion")
    regions = tuple(dict.fromkeys([primary, *listed, *([replica] if replica else [])]))
    return StackShape(
        name=name,
        regions=regions,
        price_class=str(value("cdnPriceClass")),
        lambda_architecture=str(value("lambdaArchitecture")),
        api_memory_mb=int(value("apiMemoryMb")),
        transcode_memory_mb=int(value("transcodeMemoryMb")),
        transcode_spot=bool(value("transcodeSpot")),
        log_retention_days=int(value("logRetentionDays")),
    )
