"""A secondary region of a stack serves viewers from its own region's copies: the API there
reads and writes its region's tables, signs playback with its region's replica of the
signing secret and reads the catalog from its region's copy of the artifacts bucket, while
the home region's tables and catalog snapshots are gone. Sign-in (the user pool) stays in
the home region.

The emulator has Secrets Manager replicas, but no DynamoDB global tables and no S3
replication: ``replicate`` copies the tables' items and the artifacts as those would. Nor
can it stand in for the media key's replica: moto (5.2.1 to 5.2.6) cannot decrypt what a
multi-region key encrypted, in any region (it cuts the key's 40-character id to 36 in the
ciphertext), and replicates no other key. That the API's KMS client is its own region's is
``tests/unit/test_clients.py``'s; that each region has a replica of the key is the prod
stack's (``tests/infra/test_regions.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from flixstack import spec
from flixstack.aws.analytics_store import DynamoAnalyticsStore
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.events import qoe, trending
from flixstack.events.sessions import QoeKey
from flixstack.local.bootstrap import Bootstrap
from flixstack.settings import Settings
from tests.integration.conftest import access_token, licensed, serving, viewer_app
from tests.integration.test_playback import play
from tests.integration.test_viewers import new_profile
from tests.unit.catalog.conftest import title

pytestmark = pytest.mark.integration

SECONDARY = "us-west-2"


def replicate(home: Settings, region: str) -> Settings:
    """The stack's copies in ``region``, as the prod stack has them, and its settings there."""
    local = home.model_copy(update={"region": region, "home_region": home.region})
    at_home, there = AwsClients(home), AwsClients(local)
    naming = home.naming
    # DynamoDB global tables: a replica of every table, with its items
    for table in spec.TABLES:
        Bootstrap(there, naming).ensure_table(table)
        name = naming.table(table)
        for page in at_home.dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                there.dynamodb.put_item(TableName=name, Item=item)
    at_home.secretsmanager.replicate_secret_to_regions(
        SecretId=naming.secret(spec.CDN_SIGNING), AddReplicaRegions=[{"Region": region}]
    )
    # S3 cross-region replication of the artifacts bucket into the region's copy
    source, copy = naming.bucket(spec.ARTIFACTS), naming.bucket(spec.ARTIFACTS, region)
    there.local_s3.create_bucket(
        Bucket=copy,
        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
    )
    for page in at_home.s3.get_paginator("list_objects_v2").paginate(Bucket=source):
        for listed in page.get("Contents", []):
            there.local_s3.copy_object(
                Bucket=copy, Key=listed["Key"], CopySource={"Bucket": source, "Key": listed["Key"]}
            )
    return local


def home_region_fails(home: Settings) -> None:
    """The home region's tables go (and with them its copy of every viewer's state), and
    so do the catalog snapshots in its artifacts bucket."""
    clients = AwsClients(home)
    for table in spec.TABLES:
        clients.dynamodb.delete_table(TableName=home.naming.table(table))
    bucket = home.naming.bucket(spec.ARTIFACTS)
    for page in clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for listed in page.get("Contents", []):
            clients.s3.delete_object(Bucket=bucket, Key=listed["Key"])


@pytest.fixture
def secondary(bootstrapped: Settings, catalog: None) -> Settings:
    """The home region with its catalog published; then the secondary region's copies."""
    return replicate(bootstrapped, SECONDARY)


@pytest.fixture
def viewer(secondary: Settings) -> Iterator[httpx.Client]:
    """A viewer signed in at the home region's user pool, using the secondary's API after
    the home region's tables failed."""
    token = access_token(secondary, AwsClients(secondary), "far@test.flixstack")
    home_region_fails(secondary.model_copy(update={"region": secondary.home}))
    with (
        serving(viewer_app(secondary)) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client,
    ):
        yield client


def test_the_secondary_region_serves_viewers_while_the_home_regions_tables_and_key_are_gone(
    secondary: Settings, viewer: httpx.Client
) -> None:
    health = viewer.get("/health").json()
    assert health["region"] == SECONDARY

    titles = viewer.get("/titles", params={"limit": 50})
    assert titles.status_code == 200, titles.text
    assert "movie-a" in {t["id"] for t in titles.json()["items"]}

    profile = new_profile(viewer, "Far")["id"]
    listed = viewer.put(f"/profiles/{profile}/my-list/movie-a")
    assert listed.status_code == 200, listed.text
    mine = viewer.get(f"/profiles/{profile}/my-list").json()
    assert [entry["title"]["id"] for entry in mine["items"]] == ["movie-a"]

    grant = play(viewer, profile, "movie-a")
    assert grant.status_code == 200, grant.text
    assert {cookie.name for cookie in grant.cookies.jar} >= {"CloudFront-Signature"}

    # what the secondary wrote is in its own region's table
    items = AwsClients(secondary).dynamodb.scan(TableName=secondary.naming.table(spec.VIEWERS))
    assert any(profile in str(item) for item in items["Items"])


def test_a_snapshot_published_from_the_secondary_is_served_there_before_s3_replicates_it(
    secondary: Settings,
) -> None:
    """Publishing writes the snapshot to the home bucket and moves the pointer in the
    region's table (a global table, replicated in about a second); the region's copy of the
    bucket gets the snapshot only when S3 replicates it, which this emulator never does."""
    clients = AwsClients(secondary)
    repository = DynamoCatalogRepository(secondary.naming.table(spec.CATALOG), clients.dynamodb)
    repository.create(title("late", **licensed("late")))
    CatalogPublisher(
        repository, S3SnapshotStore(repository, artifacts(secondary, clients))
    ).rebuild()
    copy = clients.local_s3.list_objects_v2(
        Bucket=secondary.naming.bucket(spec.ARTIFACTS, SECONDARY)
    )
    assert len(copy["Contents"]) == 2  # the first snapshot's two files, as replicated

    token = access_token(secondary, clients, "near@test.flixstack")
    with (
        serving(viewer_app(secondary)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as viewer,
    ):
        found = viewer.get("/titles/late")
        assert found.status_code == 200, found.text


def test_each_regions_consumer_counts_in_items_of_its_own_and_readers_sum_them(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    """A global table keeps the last of two regions' writes to one item, so two regions'
    consumers adding to the same counter would lose one's adds: each adds to its own."""
    table = bootstrapped.naming.table(spec.ANALYTICS)
    home, far = (DynamoAnalyticsStore(table, clients.dynamodb, r) for r in ("us-east-1", SECONDARY))
    minute = QoeKey("2026-12-05T10:00", "movie-a", "cdn-a", "US", "tv")
    for store, plays in ((home, 3), (far, 2)):
        aggregate = qoe.Aggregate()
        for _ in range(plays):
            aggregate.add_startup(1000.0)
        store.add_qoe({minute: aggregate})
    now = datetime.now(UTC)
    epoch = trending.epochs_to_read(now)[-1]
    home.add_trending({("US", "movie-a", epoch): 3.0})
    far.add_trending({("US", "movie-a", epoch): 2.0})

    items = clients.dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": spec.qoe_pk("2026-12-05T10")}},
    )["Items"]
    assert sorted(item["sk"]["S"].rsplit("#", 1)[1] for item in items) == ["us-east-1", SECONDARY]
    [(key, summed)] = home.qoe(["2026-12-05T10"])
    assert (key, summed.plays, sum(summed.sketch.values())) == (minute, 5, 5)
    [(title, score)] = far.trending("US", now)
    assert title == "movie-a"
    assert score == pytest.approx(trending.score([(epoch, 5.0)], now))
