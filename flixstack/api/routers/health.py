from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from flixstack.api.deps import HealthDep
from flixstack.api.health import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "A spec resource is missing."}},
)
def health(service: HealthDep) -> JSONResponse:
    """200 when every resource in the spec exists at the endpoint in use, else 503."""
    report = service.report()
    return JSONResponse(report.model_dump(), status_code=200 if report.all_present else 503)
