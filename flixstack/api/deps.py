"""Typed dependencies. Services are built once per app (``app.state.services``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from flixstack.api.health import HealthService
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.catalog.service import CatalogService
from flixstack.settings import Settings
from flixstack.spec import CATALOG


@dataclass(frozen=True)
class Services:
    settings: Settings
    clients: AwsClients
    health: HealthService
    catalog: CatalogService

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients) -> Services:
        naming = settings.naming
        return cls(
            settings=settings,
            clients=clients,
            health=HealthService(settings, clients),
            catalog=CatalogService(
                DynamoCatalogRepository(naming.table(CATALOG), clients.dynamodb)
            ),
        )


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _health(request: Request) -> HealthService:
    return _services(request).health


def _catalog(request: Request) -> CatalogService:
    return _services(request).catalog


HealthDep = Annotated[HealthService, Depends(_health)]
CatalogDep = Annotated[CatalogService, Depends(_catalog)]
