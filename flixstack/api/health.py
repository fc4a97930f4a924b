"""Health: which endpoint is in use and whether every spec resource exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from flixstack import __version__
from flixstack.aws.clients import AwsClients
from flixstack.aws.inventory import Inventory, ResourceStatus
from flixstack.settings import Settings


class ResourceHealth(BaseModel):
    kind: str
    logical: str
    name: str
    present: bool
    detail: str


class CdnHealthView(BaseModel):
    name: str
    base_url: str
    enabled: bool
    healthy: bool
    """Its health probe's last answer (True without a probe)."""


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    stage: str
    region: str
    endpoint: str
    """The AWS endpoint in use, or ``aws`` for the real service endpoints."""
    all_present: bool
    resources: list[ResourceHealth]
    cdns: list[CdnHealthView]
    """The CDNs playback offers (locally: the edges' base URLs)."""


class HealthService:
    """Caches the inventory for ``settings.health_cache_seconds`` so health stays cheap."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        cdn_healthy: Callable[[str], bool] = lambda _name: True,
    ) -> None:
        self._settings = settings
        self._cdn_healthy = cdn_healthy
        self._inventory = Inventory(clients, settings.naming, settings.user_pool_id)
        self._lock = threading.Lock()
        self._cached: tuple[float, list[ResourceStatus]] | None = None

    def _statuses(self) -> list[ResourceStatus]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > self._settings.health_cache_seconds:
                statuses = self._inventory.check()
                # Only a complete inventory is worth keeping; a gap is re-checked next time.
                ttl_start = now if all(s.present for s in statuses) else float("-inf")
                self._cached = (ttl_start, statuses)
            return self._cached[1]

    def report(self) -> Health:
        statuses = self._statuses()
        all_present = all(s.present for s in statuses)
        return Health(
            status="ok" if all_present else "degraded",
            version=__version__,
            stage=self._settings.stage,
            region=self._settings.region,
            endpoint=self._settings.endpoint or "aws",
            all_present=all_present,
            resources=[ResourceHealth(**vars(s)) for s in statuses],
            cdns=[
                CdnHealthView(
                    name=cdn.name,
                    base_url=str(cdn.base_url).rstrip("/"),
                    enabled=cdn.enabled,
                    healthy=self._cdn_healthy(cdn.name),
                )
                for cdn in self._settings.cdns
            ],
        )
