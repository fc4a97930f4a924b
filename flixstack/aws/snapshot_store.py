"""Catalog snapshots in S3 (the artifacts bucket, ``flixstack.aws.artifacts``), the current
one named by a DynamoDB pointer."""

from __future__ import annotations

from flixstack.aws.artifacts import Artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.catalog.snapshot import (
    SEARCH_FILE,
    TITLES_FILE,
    CatalogSnapshot,
    Pointer,
    fresh_prefix,
)


class S3SnapshotStore:
    def __init__(self, repository: DynamoCatalogRepository, artifacts: Artifacts) -> None:
        self._repository = repository
        self._artifacts = artifacts

    def pointer(self) -> Pointer | None:
        current = self._repository.snapshot_pointer()
        return None if current is None else Pointer(*current)

    def load(self, pointer: Pointer) -> CatalogSnapshot:
        artifacts = {
            name: self._artifacts.read(pointer.prefix + name) for name in (TITLES_FILE, SEARCH_FILE)
        }
        return CatalogSnapshot.from_artifacts(pointer.version, artifacts)

    def write(self, snapshot: CatalogSnapshot) -> Pointer:
        prefix = fresh_prefix(snapshot.version)
        for name, body in snapshot.to_artifacts().items():
            self._artifacts.write(prefix + name, body)
        return Pointer(snapshot.version, prefix)

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        self._repository.advance_snapshot(
            None if expected is None else expected.version, new.version, new.prefix
        )
