"""Catalog snapshots: the published catalog, precomputed for the read paths, versioned.

DynamoDB holds each title; a *snapshot* holds every published title plus what browse,
rows and search need (orderings, per-territory candidate lists, the search index). When a
change reaches viewers (a publish, an edit of a published title, a new asset), the
publisher writes a new snapshot to S3 under its own prefix and then moves the pointer in
DynamoDB with a conditional write, so concurrent publishers never overwrite each other.
API processes hold the current snapshot in memory (the near-cache) and check the pointer
every few seconds, loading a new snapshot in the background: the request path never waits
on DynamoDB or S3 once the first snapshot is loaded.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flixstack import spec
from flixstack.catalog.models import TitleDocument, TitleState
from flixstack.catalog.search import SearchIndex, documents
from flixstack.nearcache import NearCache, Pointer

__all__ = ["CatalogCache", "CatalogSnapshot", "Pointer", "SnapshotStore"]

TITLES_FILE = "titles.json.gz"
SEARCH_FILE = "search.bin"


def _recency(doc: TitleDocument) -> tuple[str, int, str]:
    return (doc.published_at or doc.created_at, doc.release_year or 0, doc.id)


@dataclass(frozen=True)
class CatalogSnapshot:
    version: int
    titles: dict[str, TitleDocument]
    """Published titles by id."""
    search: SearchIndex
    newest: tuple[str, ...]
    """Every title id, newest first."""
    by_territory: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per territory, newest first, the titles with any licence window there."""
    windows: dict[str, dict[str, tuple[tuple[datetime, datetime], ...]]] = field(
        default_factory=dict
    )
    """Per territory, per title, its licence windows there (``start <= t < end``)."""
    episode_titles: dict[str, str] = field(default_factory=dict)
    """Episode id -> the series it belongs to."""
    assets: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Asset version -> (title id, episode id or None): whose media a key or URL is."""
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)
    """Values derived from this snapshot alone (cards per language), kept with it so they
    are dropped with it."""

    def licensed(self, title_id: str, territory: str, at: datetime) -> bool:
        """Published here, and inside a licence window for the territory at ``at`` (UTC)."""
        return any(
            start <= at < end for start, end in self.windows.get(territory, {}).get(title_id, ())
        )

    @classmethod
    def build(
        cls, titles: Iterable[TitleDocument], version: int, search: SearchIndex | None = None
    ) -> CatalogSnapshot:
        """The snapshot of the published ones among ``titles`` (with their search index,
        built here unless a loaded one is given)."""
        published = {t.id: t for t in titles if t.state is TitleState.PUBLISHED}
        newest = tuple(t.id for t in sorted(published.values(), key=_recency, reverse=True))
        territories: dict[str, list[str]] = {}
        windows: dict[str, dict[str, list[tuple[datetime, datetime]]]] = {}
        for title_id in newest:
            for licence in published[title_id].licences:
                spans = windows.setdefault(licence.territory, {}).setdefault(title_id, [])
                if not spans:
                    territories.setdefault(licence.territory, []).append(title_id)
                spans.append((licence.start, licence.end))
        episode_titles: dict[str, str] = {}
        assets: dict[str, tuple[str, str | None]] = {}
        for doc in published.values():
            if doc.asset is not None:
                assets[doc.asset.version] = (doc.id, None)
            for episode in doc.episodes.values():
                episode_titles[episode.id] = doc.id
                if episode.asset is not None:
                    assets[episode.asset.version] = (doc.id, episode.id)
        return cls(
            version=version,
            titles=published,
            search=SearchIndex.build(documents(published.values())) if search is None else search,
            newest=newest,
            by_territory={k: tuple(v) for k, v in territories.items()},
            windows={
                territory: {title_id: tuple(spans) for title_id, spans in titles.items()}
                for territory, titles in windows.items()
            },
            episode_titles=episode_titles,
            assets=assets,
        )

    def replacing(self, changes: dict[str, TitleDocument | None], version: int) -> CatalogSnapshot:
        """A new snapshot with some titles replaced (or removed, for None)."""
        titles = dict(self.titles)
        for title_id, doc in changes.items():
            titles.pop(title_id, None)
            if doc is not None:
                titles[title_id] = doc
        return CatalogSnapshot.build(titles.values(), version)

    def to_artifacts(self) -> dict[str, bytes]:
        body = json.dumps(
            [t.model_dump(mode="json") for t in self.titles.values()], separators=(",", ":")
        )
        return {
            TITLES_FILE: gzip.compress(body.encode(), compresslevel=6),
            SEARCH_FILE: self.search.to_bytes(),
        }

    @classmethod
    def from_artifacts(cls, version: int, artifacts: dict[str, bytes]) -> CatalogSnapshot:
        titles = [
            TitleDocument.model_validate(t)
            for t in json.loads(gzip.decompress(artifacts[TITLES_FILE]))
        ]
        return cls.build(titles, version, SearchIndex.from_bytes(artifacts[SEARCH_FILE]))


class SnapshotStore(Protocol):
    """Where snapshots live: artifacts in S3, the pointer in DynamoDB."""

    def pointer(self) -> Pointer | None: ...
    def load(self, pointer: Pointer) -> CatalogSnapshot: ...
    def write(self, snapshot: CatalogSnapshot) -> Pointer:
        """Writes the artifacts under a fresh prefix (not yet current)."""
        ...

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        """Makes ``new`` current if ``expected`` still is; Conflict otherwise."""
        ...


def fresh_prefix(version: int) -> str:
    return f"{spec.CATALOG_ARTIFACTS_PREFIX}v{version:09d}-{uuid.uuid4().hex[:8]}/"


class CatalogCache(NearCache[CatalogSnapshot]):
    """The API's near-cache of the current snapshot (an empty one while none is
    published)."""

    def __init__(
        self, store: SnapshotStore, refresh_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(store, refresh_s, "catalog snapshot", clock)

    def title_name(self, title_id: str) -> str | None:
        """A published title's name in its default language (None for another id)."""
        doc = self.snapshot().titles.get(title_id)
        if doc is None:
            return None
        text = doc.localized.get(doc.default_language) or next(iter(doc.localized.values()), None)
        return text.name if text is not None else None

    def snapshot(self) -> CatalogSnapshot:
        return self.current() or self._empty()

    def refresh(self) -> CatalogSnapshot | None:
        found = super().refresh()
        if found is None:
            self.install(self._empty())
        return self._current

    @staticmethod
    def _empty() -> CatalogSnapshot:
        return CatalogSnapshot.build((), 0)
