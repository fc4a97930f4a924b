"""Typed dependencies. Services are built once per app (``app.state.services``).

Dependencies that never block are ``async``: FastAPI runs sync ones in its thread pool, a
hop that costs more than the work itself on the cached read paths. The principal stays
sync: its first use looks up the user pool and may fetch the signing keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Header, Request

from flixstack import spec
from flixstack.api.health import HealthService
from flixstack.auth.identity import Authenticator
from flixstack.auth.ratelimit import RateLimiter
from flixstack.auth.tokens import Principal
from flixstack.aws.analytics_store import DynamoAnalyticsStore
from flixstack.aws.clients import AwsClients
from flixstack.aws.event_stream import KinesisSink
from flixstack.aws.job_store import DynamoJobRepository, DynamoUploadRepository
from flixstack.aws.key_store import KmsContentKeys
from flixstack.aws.tiering import S3MediaTiering
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.catalog.service import CatalogAdmin, CatalogView
from flixstack.catalog.snapshot import CatalogCache
from flixstack.errors import InvalidInput
from flixstack.events.dashboard import QoeDashboard
from flixstack.events.ingest import EventIngest
from flixstack.events.trending import TrendingRanks
from flixstack.media.uploads import IngestService
from flixstack.playback import wiring
from flixstack.playback.service import PlaybackService
from flixstack.recommend import wiring as recommend
from flixstack.recommend.home import HomeService
from flixstack.settings import Settings
from flixstack.viewers.service import ViewerService
from flixstack.viewers.wiring import viewing


@dataclass(frozen=True)
class Services:
    settings: Settings
    clients: AwsClients
    health: HealthService
    catalog_admin: CatalogAdmin
    catalog_view: CatalogView
    catalog_cache: CatalogCache
    ingest: IngestService
    auth: Authenticator
    account_limits: RateLimiter
    viewers: ViewerService
    playback: PlaybackService
    events: EventIngest
    qoe: QoeDashboard
    trending: TrendingRanks
    home: HomeService

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients) -> Services:
        naming = settings.naming
        seen = viewing(settings, clients)
        titles, store, snapshots, cache = seen.titles, seen.store, seen.snapshots, seen.cache
        admin = CatalogAdmin(
            titles,
            CatalogPublisher(titles, snapshots, cache),
            S3MediaTiering(clients.s3, naming.bucket(spec.MEDIA)),
            on_visible=wiring.prewarm_requests(settings, clients).published,
        )
        view, viewer_store, viewers = seen.view, seen.viewer_store, seen.viewers
        delivery = wiring.delivery(settings, clients)
        analytics = DynamoAnalyticsStore(
            naming.table(spec.ANALYTICS), clients.dynamodb, settings.region
        )
        trending = TrendingRanks(analytics)
        return cls(
            settings=settings,
            clients=clients,
            health=HealthService(settings, clients, delivery.healthy),
            catalog_admin=admin,
            catalog_view=view,
            catalog_cache=cache,
            ingest=IngestService(
                settings,
                store,
                DynamoUploadRepository(naming.table(spec.JOBS), clients.dynamodb),
                DynamoJobRepository(naming.table(spec.JOBS), clients.dynamodb),
                admin,
            ),
            auth=Authenticator(settings, clients),
            account_limits=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
            viewers=viewers,
            playback=PlaybackService(
                cache,
                viewer_store,
                viewers,
                KmsContentKeys(
                    naming.table(spec.CONTENT_KEYS),
                    naming.key_alias(spec.MEDIA_KEY),
                    clients.dynamodb,
                    clients.kms,
                ),
                delivery,
            ),
            events=EventIngest(KinesisSink(naming.stream(spec.EVENTS), clients.kinesis), viewers),
            qoe=QoeDashboard(analytics, title_name=cache.title_name),
            trending=trending,
            home=recommend.home(settings, clients, seen, trending),
        )


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


async def _settings(request: Request) -> Settings:
    return _services(request).settings


async def _health(request: Request) -> HealthService:
    return _services(request).health


async def _catalog_admin(request: Request) -> CatalogAdmin:
    return _services(request).catalog_admin


async def _catalog_view(request: Request) -> CatalogView:
    return _services(request).catalog_view


async def _ingest(request: Request) -> IngestService:
    return _services(request).ingest


async def _viewers(request: Request) -> ViewerService:
    return _services(request).viewers


async def _events(request: Request) -> EventIngest:
    return _services(request).events


async def _qoe(request: Request) -> QoeDashboard:
    return _services(request).qoe


async def _trending(request: Request) -> TrendingRanks:
    return _services(request).trending


async def _home(request: Request) -> HomeService:
    return _services(request).home


async def _playback(request: Request) -> PlaybackService:
    return _services(request).playback


def _principal(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The signed-in caller (401 without a valid access token; 429 past its rate)."""
    services = _services(request)
    principal = services.auth.principal(authorization)
    services.account_limits.check(f"account:{principal.subject}", "account")
    return principal


async def _admin(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """A signed-in member of the admin group (403 for other callers)."""
    return principal.require_admin()


async def _actor(admin: Annotated[Principal, Depends(_admin)]) -> str:
    """Who makes an admin change, for the audit fields."""
    return admin.username


@dataclass(frozen=True)
class Viewer:
    """Where the viewer is and which languages they read."""

    territory: str
    accept_language: str | None


_COUNTRY = re.compile(r"^[A-Z]{2}$")


async def _viewer(
    request: Request,
    country: Annotated[str | None, Header(alias="CloudFront-Viewer-Country")] = None,
    accept_language: Annotated[str | None, Header(alias="Accept-Language", max_length=512)] = None,
) -> Viewer:
    """The territory comes from CloudFront's viewer-country header, else the setting."""
    default = _services(request).settings.default_territory
    territory = country.upper() if country and _COUNTRY.match(country.upper()) else default
    return Viewer(territory=territory, accept_language=accept_language)


_ETAG = re.compile(r'^(?:W/)?"?(\d{1,12})"?$')


async def _if_match(if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version an edit is based on, from If-Match ("3", or 3)."""
    if if_match is None:
        return None
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise InvalidInput(
            f'If-Match must be a title version such as "3", not {if_match!r}', reason="bad_if_match"
        )
    return int(match[1])


async def _raw_body(request: Request) -> bytes:
    """The request body as sent, for routes that parse it themselves (a CDM's licence
    request comes labelled JSON, text or nothing; an event batch is checked event by
    event)."""
    return await request.body()


SettingsDep = Annotated[Settings, Depends(_settings)]
HealthDep = Annotated[HealthService, Depends(_health)]
CatalogAdminDep = Annotated[CatalogAdmin, Depends(_catalog_admin)]
CatalogViewDep = Annotated[CatalogView, Depends(_catalog_view)]
IngestDep = Annotated[IngestService, Depends(_ingest)]
ViewersDep = Annotated[ViewerService, Depends(_viewers)]
PlaybackDep = Annotated[PlaybackService, Depends(_playback)]
EventsDep = Annotated[EventIngest, Depends(_events)]
QoeDep = Annotated[QoeDashboard, Depends(_qoe)]
TrendingDep = Annotated[TrendingRanks, Depends(_trending)]
HomeDep = Annotated[HomeService, Depends(_home)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
AdminDep = Annotated[Principal, Depends(_admin)]
require_admin = Depends(_admin)
ActorDep = Annotated[str, Depends(_actor)]
ViewerDep = Annotated[Viewer, Depends(_viewer)]
IfMatchDep = Annotated[int | None, Depends(_if_match)]
RawBodyDep = Annotated[bytes, Depends(_raw_body)]
