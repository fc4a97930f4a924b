"""The artifacts bucket (catalog snapshots, recommendation models) as one region's code
uses it: written in the home region, whose bucket S3 replicates into a copy in every other
region of the stack, and read from the region's own copy, so a region serves its catalog
and models while the home region is down.

The pointers naming the current artifacts are in global tables, which replicate in about
a second; S3 replication can take minutes. An artifact the region's copy does not have yet
is read from the home bucket, so a new catalog never waits for replication."""

from __future__ import annotations

from dataclasses import dataclass

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.object_store import ObjectStore
from flixstack.errors import NotFound
from flixstack.settings import Settings


@dataclass(frozen=True)
class Artifacts:
    writes: ObjectStore
    write_bucket: str
    reads: ObjectStore
    read_bucket: str

    def read(self, key: str) -> bytes:
        try:
            return self.reads.read(self.read_bucket, key)
        except NotFound:
            if self.read_bucket == self.write_bucket:
                raise
            return self.writes.read(self.write_bucket, key)  # not replicated yet

    def write(self, key: str, body: bytes) -> None:
        self.writes.write(self.write_bucket, key, body)


def artifacts(settings: Settings, clients: AwsClients) -> Artifacts:
    naming = settings.naming
    home = ObjectStore(clients.s3), naming.bucket(spec.ARTIFACTS)
    if settings.region == settings.home:
        return Artifacts(*home, *home)
    local = ObjectStore(clients.local_s3), naming.bucket(spec.ARTIFACTS, settings.region)
    return Artifacts(*home, *local)
