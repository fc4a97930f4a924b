"""Job state machine on DynamoDB (the emulator): conditional moves, leases, publishing."""

from __future__ import annotations

import time

import pytest

from flixstack import spec
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository
from flixstack.catalog.models import Asset, LocalizedText, TitleDocument, TitleState
from flixstack.catalog.service import with_asset
from flixstack.errors import Conflict, NotFound
from flixstack.media.jobs import Job, JobError, JobState, SourceObject
from flixstack.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def jobs(bootstrapped: Settings, clients: AwsClients) -> DynamoJobRepository:
    return DynamoJobRepository(bootstrapped.naming.table(spec.JOBS), clients.dynamodb)


@pytest.fixture
def catalog(bootstrapped: Settings, clients: AwsClients) -> DynamoCatalogRepository:
    return DynamoCatalogRepository(bootstrapped.naming.table(spec.CATALOG), clients.dynamodb)


def new_job(job_id: str = "job1") -> Job:
    return Job(
        id=job_id, title_id="t1", source=SourceObject(bucket="b", key=f"masters/t1/{job_id}/a.mp4")
    )


def test_a_job_is_created_once(jobs: DynamoJobRepository) -> None:
    assert jobs.create(new_job()) is True
    assert jobs.create(new_job()) is False
    assert jobs.get("job1").state is JobState.QUEUED
    with pytest.raises(NotFound):
        jobs.get("nope")


def test_only_one_worker_holds_a_job_until_its_lease_runs_out(jobs: DynamoJobRepository) -> None:
    jobs.create(new_job())
    now = time.time()
    # GIVEN worker A claims the job for 60 s
    claimed = jobs.claim("job1", "A", now + 60, now)
    assert claimed is not None
    assert (claimed.state, claimed.owner, claimed.attempts) == (JobState.PROBING, "A", 1)
    # THEN worker B cannot claim it while the lease is live, but A can renew its claim
    assert jobs.claim("job1", "B", now + 60, now) is None
    # WHEN the lease has run out (A died), B takes over and the job restarts
    jobs.advance("job1", "A", JobState.ENCODING)
    later = now + 61
    taken = jobs.claim("job1", "B", later + 60, later)
    assert taken is not None
    assert (taken.state, taken.owner, taken.attempts) == (JobState.PROBING, "B", 2)
    # and A's late writes are refused
    with pytest.raises(Conflict):
        jobs.advance("job1", "A", JobState.ENCODING)
    with pytest.raises(Conflict):
        jobs.report("job1", "A", "encoding", 50, later + 60)


def test_moves_are_forward_only_and_by_the_holder(jobs: DynamoJobRepository) -> None:
    jobs.create(new_job())
    now = time.time()
    jobs.claim("job1", "A", now + 60, now)
    with pytest.raises(Conflict):  # PROBING → PACKAGING skips ENCODING
        jobs.advance("job1", "A", JobState.PACKAGING)
    jobs.advance("job1", "A", JobState.ENCODING)
    jobs.report("job1", "A", "encoding", 42.0, now + 60)
    job = jobs.get("job1")
    assert (job.state, job.stage, job.percent) == (JobState.ENCODING, "encoding", 42.0)
    with pytest.raises(ValueError, match="publish"):
        jobs.advance("job1", "A", JobState.PUBLISHED)


def test_failed_is_terminal(jobs: DynamoJobRepository) -> None:
    jobs.create(new_job())
    now = time.time()
    jobs.claim("job1", "A", now + 60, now)
    assert (
        jobs.fail("job1", JobError(reason="corrupt", message="moov atom not found"), owner="B")
        is False
    )
    assert (
        jobs.fail("job1", JobError(reason="corrupt", message="moov atom not found"), owner="A")
        is True
    )
    job = jobs.get("job1")
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.reason == "corrupt"
    assert jobs.claim("job1", "A", now + 60, now) is None
    assert jobs.fail("job1", JobError(reason="x", message="y")) is False


def draft(title_id: str) -> TitleDocument:
    stamp = "2026-11-25T00:00:00.000Z"
    return TitleDocument(
        id=title_id,
        localized={"en": LocalizedText(name="T")},
        created_at=stamp,
        created_by="test",
        updated_at=stamp,
        updated_by="test",
    )


def asset(version: str, title_id: str) -> Asset:
    return Asset(
        version=version,
        master_playlist=f"titles/{title_id}/{version}/hls/master.m3u8",
        dash_manifest=f"titles/{title_id}/{version}/dash/manifest.mpd",
        poster=f"titles/{title_id}/{version}/thumbs/poster.jpg",
        thumbnails_vtt=f"titles/{title_id}/{version}/thumbs/thumbnails.vtt",
        duration_s=3.0,
        renditions=[],
        subtitle_languages=[],
        has_audio=True,
        published_at="2026-11-25T00:00:00.000Z",
    )


def packaging(jobs: DynamoJobRepository, job: Job) -> None:
    jobs.create(job)
    now = time.time()
    jobs.claim(job.id, "A", now + 60, now)
    jobs.advance(job.id, "A", JobState.ENCODING)
    jobs.advance(job.id, "A", JobState.PACKAGING)


def test_publishing_flips_the_title_and_the_job_together_exactly_once(
    jobs: DynamoJobRepository, catalog: DynamoCatalogRepository
) -> None:
    catalog.create(draft("t1"))
    packaging(jobs, new_job())
    published = asset("job1", "t1")

    def transaction() -> None:
        title = catalog.get("t1")
        updated = with_asset(title, published, None, actor="transcoder:job1")
        jobs.transact(
            [
                jobs.publication("job1", "A", published),
                catalog.replacement(updated, title.version),
                catalog.audit_entry(updated, "transcoder:job1", "asset", ["asset"]),
            ],
            "publish",
        )

    transaction()
    title = catalog.get("t1")
    assert title.state is TitleState.READY
    assert title.asset is not None
    assert title.asset.version == "job1"
    assert title.version == 2
    assert [entry["actor"] for entry in catalog.audit("t1")] == ["transcoder:job1"]
    job = jobs.get("job1")
    assert (job.state, job.publish_count, job.asset_version) == (JobState.PUBLISHED, 1, "job1")
    # a second publication of the same job is refused as a whole: the title is untouched
    with pytest.raises(Conflict):
        transaction()
    assert catalog.get("t1").version == 2
    assert jobs.get("job1").publish_count == 1


def test_a_stale_title_version_aborts_the_whole_publication(
    jobs: DynamoJobRepository, catalog: DynamoCatalogRepository
) -> None:
    catalog.create(draft("t2"))
    packaging(
        jobs,
        Job(id="job2", title_id="t2", source=SourceObject(bucket="b", key="masters/t2/job2/a.mp4")),
    )
    read = catalog.get("t2")
    updated = with_asset(read, asset("job2", "t2"), None, actor="transcoder:job2")
    catalog.save(
        draft("t2").model_copy(update={"version": 2}), 1, "admin", "metadata", ["genres"]
    )  # an admin edit lands between the read and the publication
    with pytest.raises(Conflict):
        jobs.transact(
            [
                jobs.publication("job2", "A", asset("job2", "t2")),
                catalog.replacement(updated, read.version),
                catalog.audit_entry(updated, "transcoder:job2", "asset", ["asset"]),
            ],
            "publish",
        )
    assert jobs.get("job2").state is JobState.PACKAGING
    assert catalog.get("t2").asset is None
    assert [entry["actor"] for entry in catalog.audit("t2")] == ["admin"]
