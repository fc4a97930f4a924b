"""``flixstack seed-catalog``: a realistic synthetic catalog with real, playable media.

Titles come from :func:`flixstack.catalog.seed.generate_titles` (series with seasons and
episodes, several languages, licence windows across many territories). A few short demo
videos are generated with ffmpeg, packaged by the real pipeline and uploaded once; every
movie and episode plays one of them. Then one snapshot makes the catalog visible.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.object_store import ObjectStore
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.models import Artwork, Asset, TitleDocument
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.catalog.seed import generate_titles
from flixstack.errors import Conflict
from flixstack.media import samples
from flixstack.media.pipeline import transcode
from flixstack.settings import Settings

DEMO_KINDS: tuple[samples.SampleKind, ...] = ("animation", "talking", "sports")
DEMO_SECONDS = 12.0
DEMO_SIZE = (640, 360)
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SeedReport:
    created: int
    existing: int
    demo_assets: int
    snapshot_version: int


def _demo_version(kind: str) -> str:
    """Demo media are keyed by what made them, so a second seeding reuses them."""
    recipe = f"{kind}:{DEMO_SECONDS}:{DEMO_SIZE}:fixed"
    return "v" + hashlib.sha256(recipe.encode()).hexdigest()[:12]


def demo_assets(settings: Settings, clients: AwsClients, progress: Progress) -> list[Asset]:
    """Packaged demo videos in the media bucket (made on first use)."""
    store = ObjectStore(clients.s3)
    bucket = settings.naming.bucket(spec.MEDIA)
    assets = []
    for index, kind in enumerate(DEMO_KINDS):
        prefix = spec.asset_prefix(f"demo-{kind}", _demo_version(kind))
        progress(f"demo video {kind}", index / len(DEMO_KINDS))
        if not any(True for _ in store.keys(bucket, prefix + "hls/master.m3u8")):
            _package(store, bucket, prefix, kind)
        assets.append(Asset.model_validate_json(store.read(bucket, prefix + "asset.json")))
    progress("demo videos", 1.0)
    return assets


def _package(store: ObjectStore, bucket: str, prefix: str, kind: samples.SampleKind) -> None:
    with tempfile.TemporaryDirectory(prefix="flixstack-demo-") as work:
        source = samples.generate(
            Path(work) / f"{kind}.mp4",
            seconds=DEMO_SECONDS,
            width=DEMO_SIZE[0],
            height=DEMO_SIZE[1],
            kind=kind,
        )
        out = Path(work) / "out"
        result = transcode(source, out, ladder="fixed")
        manifests = list(result.manifests)
        for path in sorted(out.rglob("*")):
            relative = path.relative_to(out).as_posix()
            if path.is_file() and relative not in manifests:
                store.upload(path, bucket, prefix + relative)
        for relative in manifests:  # last: a reader never sees a manifest before its segments
            store.upload(out / relative, bucket, prefix + relative)
        asset = result.asset(prefix, _demo_version(kind))
        store.write(bucket, prefix + "asset.json", asset.model_dump_json().encode())


def with_demo_media(doc: TitleDocument, assets: list[Asset], index: int) -> TitleDocument:
    """The title with demo assets on the movie or on every episode, and a poster."""
    asset = assets[index % len(assets)]
    episodes = {
        eid: episode.model_copy(update={"asset": assets[(index + n) % len(assets)]})
        for n, (eid, episode) in enumerate(doc.episodes.items())
    }
    return doc.model_copy(
        update={
            "asset": asset if not doc.episodes else None,
            "episodes": episodes,
            "artwork": Artwork(poster=asset.poster),
        }
    )


def seed_catalog(
    settings: Settings,
    clients: AwsClients,
    *,
    titles: int,
    seed: int,
    progress: Progress,
    now: datetime | None = None,
) -> SeedReport:
    naming = settings.naming
    repository = DynamoCatalogRepository(naming.table(spec.CATALOG), clients.dynamodb)
    assets = demo_assets(settings, clients, progress)
    docs = generate_titles(titles, seed=seed, now=now or datetime.now(UTC))
    created = existing = 0
    for index, doc in enumerate(docs):
        try:
            repository.create(with_demo_media(doc, assets, index))
            created += 1
        except Conflict:
            existing += 1  # seeded before (ids follow the seed)
        progress("titles", (index + 1) / len(docs))
    snapshots = S3SnapshotStore(repository, artifacts(settings, clients))
    version = CatalogPublisher(repository, snapshots).rebuild()
    progress("snapshot", 1.0)
    return SeedReport(
        created=created, existing=existing, demo_assets=len(assets), snapshot_version=version
    )
