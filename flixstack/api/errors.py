"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import math

from botocore.exceptions import BotoCoreError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from flixstack.errors import (
    Conflict,
    FlixstackError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    ServiceUnavailable,
    TooManyRequests,
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
    PayloadTooLarge: 413,
    TooManyRequests: 429,
}


def status_for(error: FlixstackError) -> int:
    """The status of the nearest mapped class in the error's MRO (500 if none)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _handle(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FlixstackError)  # registered for FlixstackError only
    headers = None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return JSONResponse(
        status_code=status_for(exc),
        content={"detail": exc.message, "reason": exc.reason},
        headers=headers,
    )


async def _unreachable(_: Request, exc: Exception) -> JSONResponse:
    """AWS (or the emulator) could not be reached at all: a 503, not a crash."""
    return JSONResponse(
        status_code=503,
        content={"detail": f"a backing service is unreachable: {exc}", "reason": "unreachable"},
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(FlixstackError, _handle)
    app.add_exception_handler(BotoCoreError, _unreachable)
