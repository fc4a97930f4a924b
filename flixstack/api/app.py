"""The FastAPI application, served by uvicorn locally and by Mangum on Lambda."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from flixstack import __version__
from flixstack.api import errors
from flixstack.api.deps import Services
from flixstack.api.limits import RequestLimits
from flixstack.api.routers import admin, events, health, playback, profiles, qoe, titles
from flixstack.auth.ratelimit import RateLimiter
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings, get_settings


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None, clients: AwsClients | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="flixstack",
        version=__version__,
        summary="Video on demand: catalog, playback, viewers, recommendations, events.",
        generate_unique_id_function=_operation_id,
    )
    app.state.services = Services.build(settings, clients or AwsClients(settings))
    errors.install(app)
    app.add_middleware(
        RequestLimits,
        per_ip=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        max_body_bytes=settings.max_body_bytes,
    )
    app.include_router(health.router)
    app.include_router(titles.router)
    app.include_router(admin.router)
    app.include_router(profiles.router)
    app.include_router(playback.router)
    app.include_router(events.router)
    app.include_router(qoe.router)
    return app
