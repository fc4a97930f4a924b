"""Keeps the published catalog's snapshot in step with the titles in DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from aws_lambda_powertools import Logger

from flixstack.catalog.models import TitleDocument, TitleState
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot, Pointer, SnapshotStore
from flixstack.errors import Conflict, NotFound

logger = Logger(service="catalog", child=True)
ATTEMPTS = 5


class TitleSource(Protocol):
    def get(self, title_id: str) -> TitleDocument: ...
    def all_in_state(self, state: str, page_size: int = ...) -> Iterator[TitleDocument]: ...


class CatalogPublisher:
    """Writes a new snapshot when titles change what viewers see. Publishers race safely:
    each writes its snapshot under a fresh prefix and moves the pointer only if it still
    names the snapshot it started from; the loser starts again from the winner's."""

    def __init__(
        self, titles: TitleSource, store: SnapshotStore, cache: CatalogCache | None = None
    ) -> None:
        self._titles = titles
        self._store = store
        self._cache = cache

    def _base(self) -> tuple[CatalogSnapshot, Pointer | None]:
        pointer = self._store.pointer()
        if pointer is None:
            return CatalogSnapshot.build((), 0), None
        cached = self._cache.snapshot() if self._cache is not None else None
        if cached is not None and cached.version == pointer.version:
            return cached, pointer
        return self._store.load(pointer), pointer

    def _viewable(self, title_id: str) -> TitleDocument | None:
        try:
            doc = self._titles.get(title_id)
        except NotFound:
            return None
        return doc if doc.state is TitleState.PUBLISHED else None

    def refresh(self, title_ids: Iterable[str]) -> int:
        """Brings these titles' entries in the snapshot up to date; the version viewers see."""
        ids = list(dict.fromkeys(title_ids))
        for _ in range(ATTEMPTS):
            base, pointer = self._base()
            changes = {title_id: self._viewable(title_id) for title_id in ids}
            if all(_unchanged(base, title_id, doc) for title_id, doc in changes.items()):
                return base.version  # nothing viewers see has changed
            if self._commit(base.replacing(changes, base.version + 1), pointer):
                return base.version + 1
        raise Conflict("the catalog kept changing while its snapshot was written", reason="busy")

    def rebuild(self) -> int:
        """A snapshot from every published title (recovery; reads the whole state index)."""
        for _ in range(ATTEMPTS):
            base, pointer = self._base()
            snapshot = CatalogSnapshot.build(
                self._titles.all_in_state(TitleState.PUBLISHED), base.version + 1
            )
            if self._commit(snapshot, pointer):
                return snapshot.version
        raise Conflict("the catalog kept changing while its snapshot was written", reason="busy")

    def _commit(self, snapshot: CatalogSnapshot, expected: Pointer | None) -> bool:
        written = self._store.write(snapshot)
        try:
            self._store.advance(expected, written)
        except Conflict:
            logger.info("catalog snapshot race lost; retrying", extra={"version": snapshot.version})
            return False
        if self._cache is not None:
            self._cache.install(snapshot)
        logger.info(
            "catalog snapshot published",
            extra={"version": snapshot.version, "titles": len(snapshot.titles)},
        )
        return True


def _unchanged(base: CatalogSnapshot, title_id: str, doc: TitleDocument | None) -> bool:
    held = base.titles.get(title_id)
    return held is None if doc is None else held is not None and held.version == doc.version
