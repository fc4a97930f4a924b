"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from flixstack.errors import (
    Conflict,
    FlixstackError,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    ServiceUnavailable,
    Unauthorized,
)

STATUS: dict[type[FlixstackError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    Forbidden: 403,
    Unauthorized: 401,
    ServiceUnavailable: 503,
    PreconditionRequired: 428,
}


def status_for(error: FlixstackError) -> int:
    """The status of the nearest mapped class in the error's MRO (500 if none)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _handle(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FlixstackError)  # registered for FlixstackError only
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    return JSONResponse(
        status_code=status_for(exc),
        content={"detail": exc.message, "reason": exc.reason},
        headers=headers,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(FlixstackError, _handle)
