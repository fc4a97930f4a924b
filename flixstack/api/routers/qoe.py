"""The QoE dashboard's figures, ``/admin/qoe/report`` (admins only), from the per-minute
aggregates the event consumer writes. The web app draws them (``#/admin/qoe``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from flixstack.api.deps import QoeDep, require_admin
from flixstack.events.dashboard import QoeReport
from flixstack.viewers.models import ID_PATTERN

router = APIRouter(prefix="/admin/qoe", tags=["admin"], dependencies=[require_admin])

MAX_MINUTES = 7 * 24 * 60


@router.get("/report", response_model=QoeReport)
def report(
    dashboard: QoeDep,
    minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    title: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> QoeReport:
    """Quality of experience over the last ``minutes``: overall, per minute, the startup
    time distribution, and by CDN, territory, device and title (optionally one title)."""
    return dashboard.report(minutes, title)
