"""Job state machine on DynamoDB (the emulator): conditional moves, leases, publishing."""

from __future__ import annotations

import time

import pytest

from flixstack import spec
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository
from flixstack.errors import Conflict, NotFound
from flixstack.media.jobs import Job, JobError, JobState, Published, SourceObject
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


def test_publishing_flips_the_title_and_the_job_together_exactly_once(
    jobs: DynamoJobRepository, catalog: DynamoCatalogRepository
) -> None:
    catalog.put_title(
        "t1", "draft", sort_key="2026-11-25", attributes={"name": "T", "sort_date": "2026-11-25"}
    )
    jobs.create(new_job())
    now = time.time()
    jobs.claim("job1", "A", now + 60, now)
    jobs.advance("job1", "A", JobState.ENCODING)
    jobs.advance("job1", "A", JobState.PACKAGING)
    published = Published(
        version="job1",
        master_playlist="titles/t1/job1/hls/master.m3u8",
        dash_manifest="titles/t1/job1/dash/manifest.mpd",
        poster="titles/t1/job1/thumbs/poster.jpg",
        thumbnails_vtt="titles/t1/job1/thumbs/thumbnails.vtt",
        duration_s=3.0,
        renditions=[],
        subtitle_languages=[],
        has_audio=True,
    )

    def transaction() -> None:
        title = catalog.get_title("t1")
        jobs.transact(
            [
                jobs.publication("job1", "A", published),
                catalog.asset_publication(title, published.model_dump(), "ready", "2026-11-25"),
            ],
            "publish",
        )

    transaction()
    title = catalog.get_title("t1")
    assert title["state"] == "ready"
    assert title["asset"]["version"] == "job1"
    assert title[spec.VERSION_ATTR] == 2
    job = jobs.get("job1")
    assert (job.state, job.publish_count, job.asset_version) == (JobState.PUBLISHED, 1, "job1")
    # a second publication of the same job is refused as a whole: the title is untouched
    with pytest.raises(Conflict):
        transaction()
    assert catalog.get_title("t1")[spec.VERSION_ATTR] == 2
    assert jobs.get("job1").publish_count == 1


def test_a_stale_title_version_aborts_the_whole_publication(
    jobs: DynamoJobRepository, catalog: DynamoCatalogRepository
) -> None:
    catalog.put_title("t2", "draft", sort_key="2026-11-25", attributes={"name": "T"})
    jobs.create(
        Job(id="job2", title_id="t2", source=SourceObject(bucket="b", key="masters/t2/job2/a.mp4"))
    )
    now = time.time()
    jobs.claim("job2", "A", now + 60, now)
    jobs.advance("job2", "A", JobState.ENCODING)
    jobs.advance("job2", "A", JobState.PACKAGING)
    stale = {**catalog.get_title("t2"), spec.VERSION_ATTR: 0}
    published = Published(
        version="job2", master_playlist="m", dash_manifest="d", poster="p", thumbnails_vtt="v",
        duration_s=1, renditions=[], subtitle_languages=[], has_audio=False,
    )  # fmt: skip
    with pytest.raises(Conflict):
        jobs.transact(
            [
                jobs.publication("job2", "A", published),
                catalog.asset_publication(stale, {"version": "job2"}, "ready", "x"),
            ],
            "publish",
        )
    assert jobs.get("job2").state is JobState.PACKAGING
    assert "asset" not in catalog.get_title("t2")
