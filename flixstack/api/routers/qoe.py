"""The QoE dashboard: ``/admin/qoe`` (a static page; ``#token=<admin access token>``) and
the figures it plots, ``/admin/qoe/report`` (admins only), from the per-minute aggregates
the event consumer writes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from flixstack.api.deps import QoeDep, require_admin
from flixstack.errors import NotFound
from flixstack.events.dashboard import QoeReport
from flixstack.viewers.models import ID_PATTERN

router = APIRouter(prefix="/admin/qoe", tags=["admin"])

PAGE_DIR = Path(__file__).resolve().parent.parent / "qoe"
ASSETS = {"qoe.js": "text/javascript", "qoe.css": "text/css"}
NO_CACHE = {"Cache-Control": "no-cache"}
MAX_MINUTES = 7 * 24 * 60


@router.get("", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=NO_CACHE)


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: Annotated[str, PathParam(pattern=r"^[a-z.]+$")]) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no dashboard asset {name}")
    return FileResponse(PAGE_DIR / name, media_type=ASSETS[name], headers=NO_CACHE)


@router.get("/report", response_model=QoeReport, dependencies=[require_admin])
def report(
    dashboard: QoeDep,
    minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    title: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> QoeReport:
    """Quality of experience over the last ``minutes``: overall, per minute, the startup
    time distribution, and by CDN, territory, device and title (optionally one title)."""
    return dashboard.report(minutes, title)
