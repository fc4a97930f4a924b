"""The app ``flixstack up`` serves: the API plus the local media edge, on one origin."""

from __future__ import annotations

from fastapi import FastAPI

from flixstack.api.app import create_app as create_api
from flixstack.aws.clients import AwsClients
from flixstack.aws.object_store import ObjectStore
from flixstack.local import edge
from flixstack.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    clients = AwsClients(settings)
    app = create_api(settings, clients)
    app.include_router(edge.build_router(settings, ObjectStore(clients.s3)))
    return app
