"""Builds the viewer service of a deployable (the API, the event consumer) and the catalog
near-cache it reads titles from."""

from __future__ import annotations

from dataclasses import dataclass

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.object_store import ObjectStore
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.aws.viewer_store import DynamoViewerRepository
from flixstack.catalog.service import CatalogView
from flixstack.catalog.snapshot import CatalogCache
from flixstack.settings import Settings
from flixstack.viewers.service import ViewerService


@dataclass(frozen=True)
class Viewing:
    titles: DynamoCatalogRepository
    store: ObjectStore
    snapshots: S3SnapshotStore
    cache: CatalogCache
    view: CatalogView
    viewer_store: DynamoViewerRepository
    viewers: ViewerService


def viewing(settings: Settings, clients: AwsClients) -> Viewing:
    naming = settings.naming
    titles = DynamoCatalogRepository(naming.table(spec.CATALOG), clients.dynamodb)
    store = ObjectStore(clients.s3)
    snapshots = S3SnapshotStore(titles, artifacts(settings, clients))
    cache = CatalogCache(snapshots, settings.catalog_refresh_s)
    view = CatalogView(cache, settings.media_base_url)
    viewer_store = DynamoViewerRepository(naming.table(spec.VIEWERS), clients.dynamodb)
    viewers = ViewerService(viewer_store, cache, view)
    return Viewing(titles, store, snapshots, cache, view, viewer_store, viewers)
