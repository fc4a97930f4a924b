"""The transcode worker end to end on the emulator, with real ffmpeg: publishing, playable
output, idempotency, bad input, and crashes at random moments."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from flixstack import spec
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.key_store import KmsContentKeys
from flixstack.catalog.models import TitleDocument, TitleState
from flixstack.local.edge import create_edge
from flixstack.media.jobs import ACTIVE, Job, JobState
from flixstack.media.worker import JobRunner, QueueWorker
from flixstack.playback import signing
from tests.integration.media.conftest import (
    EDGE_URL,
    FINISHED,
    VISIBILITY_S,
    MediaPlatform,
    decode_all_renditions,
    kill,
    manifest_uris,
)

pytestmark = pytest.mark.integration


def title_of(media: MediaPlatform, title_id: str) -> TitleDocument:
    return DynamoCatalogRepository(
        media.settings.naming.table(spec.CATALOG), media.clients.dynamodb
    ).get(title_id)


def s3_event(job: Job) -> dict[str, object]:
    """The S3 notification of the job's master, as SQS carries it."""
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:CompleteMultipartUpload",
                "s3": {"bucket": {"name": job.source.bucket}, "object": {"key": job.source.key}},
            }
        ]
    }


def assert_published_once(media: MediaPlatform, job_id: str) -> None:
    """Exactly one published version, and every URI in every manifest exists."""
    job = media.jobs.get(job_id)
    assert job.state is JobState.PUBLISHED, job
    assert job.publish_count == 1
    title = title_of(media, job.title_id)
    assert title.asset is not None
    assert title.asset.version == job.id
    versions = {
        key.split("/")[2] for key in media.keys(f"{spec.MEDIA_TITLES_PREFIX}{job.title_id}/")
    }
    assert versions == {job.id}
    referenced = manifest_uris(media, job)
    stored = media.keys(spec.asset_prefix(job.title_id, job.id))
    missing = referenced - stored
    assert not missing, f"manifests refer to missing objects: {sorted(missing)[:5]}"


@pytest.mark.clear_media
@pytest.mark.usefixtures("worker_thread")
def test_an_upload_is_published_as_playable_hls_and_dash(
    media: MediaPlatform, clip: Path, srt: Path
) -> None:
    """Clear media (``protect_media`` off: trailers, previews): HLS and DASH."""
    job = media.upload(clip, ladder="per-title", subtitles=srt, name="Playable")
    done = media.wait_for(job.id, FINISHED)
    assert done.state is JobState.PUBLISHED, done.error
    assert done.percent == 100
    assert done.renditions
    assert max(r.height for r in done.renditions) <= 240  # never upscaled
    assert done.dash_manifest is not None
    assert_published_once(media, job.id)
    frames = decode_all_renditions(media, done)
    assert all(count > 0 for count in frames.values()), frames
    title = title_of(media, job.title_id)
    assert title.state is TitleState.READY
    assert title.asset is not None
    assert title.asset.protection == "none"
    assert title.asset.subtitle_languages == ["en"]
    # the job's public URLs are served by a CDN edge, to holders of signed cookies
    view = media.api.get(f"/admin/jobs/{job.id}").json()
    assert view["master_playlist_url"].startswith(f"{EDGE_URL}/titles/")
    edge = TestClient(create_edge(media.settings, "edge-a"), base_url=EDGE_URL)
    assert edge.get(view["master_playlist_url"]).status_code == 403
    key = signing.load_signing_key(media.clients.secretsmanager, media.settings.naming)
    cookies = signing.signed_cookies(
        key,
        signing.asset_resource(job.title_id, job.id),
        datetime.now(UTC) + timedelta(minutes=5),
    )
    playlist = edge.get(
        view["master_playlist_url"],
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
    )
    assert playlist.status_code == 200
    assert playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert "#EXT-X-STREAM-INF" in playlist.text


@pytest.mark.usefixtures("worker_thread")
def test_a_duplicated_s3_event_yields_one_job(media: MediaPlatform, clip: Path) -> None:
    job = media.upload(clip, name="Duplicated")
    for _ in range(2):  # on top of the notifications S3 itself sent
        media.clients.sqs.send_message(
            QueueUrl=media.queue_url(), MessageBody=json.dumps(s3_event(job))
        )
    done = media.wait_for(job.id, FINISHED)
    assert done.state is JobState.PUBLISHED
    deadline = time.monotonic() + 20
    while media.clients.sqs.get_queue_attributes(
        QueueUrl=media.queue_url(),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"] != {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }:
        assert time.monotonic() < deadline, "duplicates were not consumed"
        time.sleep(0.2)
    after = media.jobs.get(job.id)
    assert (after.attempts, after.publish_count) == (1, 1)
    assert_published_once(media, job.id)


@pytest.mark.usefixtures("worker_thread")
def test_a_corrupt_upload_fails_with_a_reason_and_is_not_retried(
    media: MediaPlatform, clip: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    job = media.upload(corrupt, name="Corrupt")
    failed = media.wait_for(job.id, FINISHED)
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.reason == "corrupt"
    assert failed.error.message
    assert failed.attempts == 1
    assert not media.keys(f"{spec.MEDIA_TITLES_PREFIX}{job.title_id}/")
    # the worker then hands the title back to draft, so it can be uploaded again
    deadline = time.monotonic() + 10
    while title_of(media, job.title_id).state is not TitleState.DRAFT:
        assert time.monotonic() < deadline, title_of(media, job.title_id)
        time.sleep(0.05)


def test_a_job_whose_workers_all_died_fails_instead_of_looping(
    media: MediaPlatform, clip: Path
) -> None:
    # GIVEN a job three workers claimed and died on (their leases ran out), and a message
    # for it that is still fresh (a duplicate S3 event, say)
    job = media.upload(clip, name="Cursed")
    media.clients.sqs.purge_queue(QueueUrl=media.queue_url())
    for dead in range(spec.TRANSCODE.max_receive_count):
        then = time.time() - 1000 + dead * 10  # each lease ran out long ago
        assert media.jobs.claim(job.id, f"dead-{dead}", then + 1, then) is not None
    media.clients.sqs.send_message(
        QueueUrl=media.queue_url(), MessageBody=json.dumps(s3_event(job))
    )
    # WHEN the worker gets that message, THEN it fails the job rather than try a 4th time
    runner = JobRunner(media.settings, media.clients)
    QueueWorker(media.settings, media.clients, runner).poll(
        threading.Event(), wait_s=1, max_messages=1
    )
    failed = media.jobs.get(job.id)
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.reason == "too_many_attempts"


def test_sigkill_at_random_stages_publishes_exactly_once(
    media: MediaPlatform, clip: Path, tmp_path: Path
) -> None:
    rng = random.Random(20261125)
    stages = [JobState.PROBING, JobState.ENCODING, JobState.PACKAGING]
    interrupted: list[JobState] = []
    for run in range(12):  # a tiny clip may finish before the kill lands: such runs don't count
        # GIVEN an upload and a worker that is killed outright mid-job
        job = media.upload(clip, ladder=rng.choice(["fixed", "per-title"]), name=f"Crash {run}")
        target = rng.choice(stages)
        log = tmp_path / f"worker-{run}.log"
        first = media.start_worker(log)
        try:
            media.wait_for(job.id, frozenset({target, *FINISHED}), timeout=120)
        finally:
            kill(first)
        if media.jobs.get(job.id).state in FINISHED:
            continue
        interrupted.append(target)
        # WHEN a new worker picks the redelivered message up
        second = media.start_worker(log)
        try:
            done = media.wait_for(job.id, FINISHED, timeout=120)
        finally:
            kill(second)
        # THEN exactly one version is published, complete
        assert done.state is JobState.PUBLISHED, (run, target, done.error, log.read_text()[-2000:])
        assert done.attempts == 2
        assert_published_once(media, job.id)
        if len(interrupted) == 5:
            break
    assert len(interrupted) == 5, f"only {len(interrupted)} kills landed mid-job"
    assert len(set(interrupted)) >= 2, interrupted


def test_a_message_that_keeps_crashing_the_worker_ends_in_the_dead_letter_queue(
    media: MediaPlatform, clip: Path, tmp_path: Path
) -> None:
    job = media.upload(clip, name="Crash loop")
    # exactly one message for the upload (moto sends two notifications per multipart upload)
    media.clients.sqs.purge_queue(QueueUrl=media.queue_url())
    media.clients.sqs.send_message(
        QueueUrl=media.queue_url(), MessageBody=json.dumps(s3_event(job))
    )
    log = tmp_path / "worker.log"
    for attempt in range(1, spec.TRANSCODE.max_receive_count + 1):
        worker = media.start_worker(log)
        try:
            deadline = time.monotonic() + 60 + VISIBILITY_S
            while (
                media.jobs.get(job.id).attempts < attempt
                or media.jobs.get(job.id).state not in ACTIVE
            ):
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.05)
        finally:
            kill(worker)  # crashes every time it holds the job
    worker = media.start_worker(log)
    try:
        failed = media.wait_for(job.id, FINISHED, timeout=60)
    finally:
        kill(worker)
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.reason == "dead_lettered"
    dead = media.clients.sqs.get_queue_attributes(
        QueueUrl=media.queue_url(spec.TRANSCODE_DLQ),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert (
        int(dead["ApproximateNumberOfMessages"])
        + int(dead["ApproximateNumberOfMessagesNotVisible"])
        >= 1
    )


@pytest.mark.usefixtures("worker_thread")
def test_a_protected_upload_is_aes_128_hls_and_cenc_dash_whose_key_only_kms_can_unwrap(
    media: MediaPlatform, clip: Path
) -> None:
    """The default: every segment encrypted with the asset's own key (HLS AES-128, the DASH
    copy CENC under the asset's key id); the key is in the keys table only wrapped by KMS,
    and nowhere in the media bucket."""
    job = media.upload(clip, ladder="fixed", name="Protected")
    done = media.wait_for(job.id, FINISHED)
    assert done.state is JobState.PUBLISHED, done.error
    mpd = media.object(done.dash_manifest or "").decode()
    assert f'cenc:default_KID="{uuid.UUID(bytes=spec.content_key_id(job.id))}"' in mpd
    naming = media.settings.naming
    keys = KmsContentKeys(
        naming.table(spec.CONTENT_KEYS),
        naming.key_alias(spec.MEDIA_KEY),
        media.clients.dynamodb,
        media.clients.kms,
    )
    key = keys.key(job.id)
    frames = decode_all_renditions(media, done, key)
    assert all(count > 0 for count in frames.values()), frames
    with pytest.raises(AssertionError, match="is encrypted"):
        decode_all_renditions(media, done)
    item = media.clients.dynamodb.get_item(
        TableName=naming.table(spec.CONTENT_KEYS),
        Key={"pk": {"S": spec.content_key_pk(job.id)}, "sk": {"S": spec.CONTENT_KEY_SK}},
    )["Item"]
    assert item["title_id"]["S"] == job.title_id
    assert base64.b64decode(item["wrapped"]["S"]) != key
    assert key.hex() not in str(item)
    prefix = spec.asset_prefix(job.title_id, job.id)
    stored = media.keys(prefix)
    assert stored
    assert not any(key in media.object(name) for name in stored)
    master = media.object(done.master_playlist or "").decode()
    media_playlist = master.splitlines()[-1]
    text = media.object(prefix + "hls/" + media_playlist).decode()
    assert f'URI="{spec.content_key_path(job.id)}"' in text  # api_base_url unset: root-relative
    title = title_of(media, job.title_id)
    assert title.asset is not None
    assert title.asset.protection == "aes-128"
