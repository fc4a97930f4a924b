"""The storage component on its own, under mocks: what pages of other origins may do with
its buckets."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from flixstack import spec
from infra.components import Region
from infra.components.storage import Storage, StorageArgs
from tests.infra.mockgraph import ACCOUNT, REGION, Graph, run

CORS = "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"
WEB_ORIGIN = "https://app.example.com"


def storage_graph(upload_origins: Sequence[str]) -> Graph:
    naming = spec.Naming("dev", ACCOUNT)

    def program() -> None:
        Storage(
            "storage",
            StorageArgs(
                naming=naming,
                account_id=ACCOUNT,
                region=REGION,
                ingest_glacier_days=30,
                noncurrent_expiry_days=30,
                log_retention_days=30,
                upload_origins=upload_origins,
            ),
        )

    return run(program, stack="dev", config={"aws:region": REGION})


def test_the_web_app_puts_upload_parts_into_the_ingest_bucket_and_reads_their_etags() -> None:
    graph = storage_graph([WEB_ORIGIN])
    (cors,) = graph.of(CORS)
    assert cors.props["bucket"] == spec.Naming("dev", ACCOUNT).bucket(spec.INGEST)
    (rule,) = cors.props["corsRules"]
    assert rule["allowedOrigins"] == [WEB_ORIGIN]
    assert rule["allowedMethods"] == ["PUT"]
    assert rule["exposeHeaders"] == ["ETag"]


def test_without_upload_origins_no_bucket_answers_pages() -> None:
    assert storage_graph([]).of(CORS) == []


@pytest.mark.parametrize(
    ("replica", "secondaries", "message"),
    [
        # the media replica is encrypted with the media key's replica, made in secondaries only
        ("us-west-2", (), "must be a secondary region"),
        ("us-west-2", ("eu-west-1",), "must be a secondary region"),
        (None, (REGION,), "must be distinct"),
        (None, ("us-west-2", "us-west-2"), "must be distinct"),
    ],
)
def test_the_media_replica_is_in_one_of_the_secondary_regions(
    replica: str | None, secondaries: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        StorageArgs(
            naming=spec.Naming("prod", ACCOUNT),
            account_id=ACCOUNT,
            region=REGION,
            ingest_glacier_days=30,
            noncurrent_expiry_days=30,
            log_retention_days=30,
            replica=Region(replica, provider=None) if replica else None,
            secondaries=[Region(name, provider=None) for name in secondaries],
        )
