"""Typed dependencies. Services are built once per app (``app.state.services``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from flixstack.api.health import HealthService
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository, DynamoUploadRepository
from flixstack.aws.object_store import ObjectStore
from flixstack.catalog.service import CatalogService
from flixstack.media.uploads import IngestService
from flixstack.settings import Settings
from flixstack.spec import CATALOG, JOBS


@dataclass(frozen=True)
class Services:
    settings: Settings
    clients: AwsClients
    health: HealthService
    catalog: CatalogService
    ingest: IngestService

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients) -> Services:
        naming = settings.naming
        titles = DynamoCatalogRepository(naming.table(CATALOG), clients.dynamodb)
        return cls(
            settings=settings,
            clients=clients,
            health=HealthService(settings, clients),
            catalog=CatalogService(titles),
            ingest=IngestService(
                settings,
                ObjectStore(clients.s3),
                DynamoUploadRepository(naming.table(JOBS), clients.dynamodb),
                DynamoJobRepository(naming.table(JOBS), clients.dynamodb),
                titles,
            ),
        )


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _health(request: Request) -> HealthService:
    return _services(request).health


def _catalog(request: Request) -> CatalogService:
    return _services(request).catalog


def _ingest(request: Request) -> IngestService:
    return _services(request).ingest


def _actor() -> str:
    """Who makes an admin change, for the audit fields. Until sign-in exists every caller
    is recorded as unauthenticated."""
    return "unauthenticated"


HealthDep = Annotated[HealthService, Depends(_health)]
CatalogDep = Annotated[CatalogService, Depends(_catalog)]
IngestDep = Annotated[IngestService, Depends(_ingest)]
ActorDep = Annotated[str, Depends(_actor)]
