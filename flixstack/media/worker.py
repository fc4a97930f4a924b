"""The transcode worker: turns uploaded masters into published asset versions.

``python -m flixstack.media.worker poll`` consumes the SQS transcode queue (locally,
``flixstack up`` runs it); ``run-one`` runs the single S3 event in
``FLIXSTACK_TRANSCODE_EVENT`` (the container started per message on AWS).

Crash safety: a worker claims the job with a lease before touching it, renews the lease
and the message's visibility with heartbeats, writes outputs under the job's own prefix
(``titles/<title>/<job>/``, segments first, manifests last) and publishes with one
DynamoDB transaction that flips the title's asset pointer and marks the job PUBLISHED.
Killed at any point, it leaves either nothing visible or a complete version; the
redelivered message finishes the job exactly once.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository
from flixstack.aws.key_store import KmsContentKeys
from flixstack.aws.object_store import ObjectStore
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.models import TitleState
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.catalog.service import PROCESSING_ONLY, CatalogAdmin, with_asset
from flixstack.errors import Conflict, FlixstackError, InvalidInput, NotFound
from flixstack.media.encryption import SegmentKey
from flixstack.media.errors import InvalidMedia
from flixstack.media.jobs import (
    ACTIVE,
    FORWARD,
    Job,
    JobError,
    JobState,
    SourceObject,
    SubtitleObject,
)
from flixstack.media.ladder import LadderMode
from flixstack.media.notifications import MasterUpload, parse_masters
from flixstack.media.pipeline import Limits, Progress, Stage, Subtitle, TranscodeResult, transcode
from flixstack.playback import prewarm, wiring
from flixstack.settings import Settings

logger = Logger(service="transcoder")
LADDERS: tuple[LadderMode, ...] = ("per-title", "fixed")

# Overall percent at the start of each stage, by ladder mode (analysis only in per-title).
STAGE_SPANS: dict[LadderMode, dict[str, tuple[float, float]]] = {
    "per-title": {
        "probing": (0, 2),
        "analyzing": (2, 25),
        "encoding": (25, 85),
        "packaging": (85, 90),
        "uploading": (90, 100),
    },
    "fixed": {
        "probing": (0, 2),
        "analyzing": (2, 2),
        "encoding": (2, 85),
        "packaging": (85, 90),
        "uploading": (90, 100),
    },
}


class Transcode(Protocol):
    def __call__(
        self,
        source: Path,
        out_dir: Path,
        *,
        ladder: LadderMode = ...,
        subtitles: Sequence[Subtitle] = ...,
        limits: Limits = ...,
        progress: Progress | None = ...,
        key: SegmentKey | None = ...,
    ) -> TranscodeResult: ...


class Outcome(Enum):
    DONE = "done"  # the job is finished (published or failed): the message can go
    BUSY = "busy"  # another live worker holds the job: this message is a duplicate
    RETRY = "retry"  # a transient failure: leave the message for redelivery


class PermanentFailure(FlixstackError):
    """The job cannot succeed however often it is retried (its title or source is gone)."""


STATE_OF_STAGE = {
    Stage.ANALYZING: JobState.ENCODING,
    Stage.ENCODING: JobState.ENCODING,
    Stage.PACKAGING: JobState.PACKAGING,
}


class StateTracker:
    """Moves the job forward one conditional write at a time, never backwards."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self._runner = runner
        self._job = job
        self.state = JobState.PROBING

    def reach(self, target: JobState) -> None:
        while (
            self.state is not target
            and self.state in FORWARD
            and FORWARD[self.state] is not JobState.PUBLISHED
        ):
            following = FORWARD[self.state]
            self._runner.jobs.advance(self._job.id, self._runner.owner, following)
            self.state = following


class Reporter:
    """Holds the job's lease while it runs: writes progress at most once a second and
    renews the lease (and the message's visibility) every heartbeat."""

    def __init__(
        self,
        runner: JobRunner,
        job: Job,
        keepalive: Callable[[], None] | None,
    ) -> None:
        self._runner = runner
        self._job = job
        self._keepalive = keepalive
        self._stage = "probing"
        self._percent = 0.0
        self._written: tuple[str, float] | None = None
        self._last_beat = time.monotonic()
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"reporter-{job.id}", daemon=True)

    def __enter__(self) -> Reporter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def update(self, stage: str, fraction: float) -> None:
        start, end = STAGE_SPANS[self._job.ladder][stage]
        self._stage = stage
        self._percent = max(self._percent, start + (end - start) * min(max(fraction, 0.0), 1.0))

    def _loop(self) -> None:
        settings = self._runner.settings
        while not self._stop.wait(1.0):
            due = time.monotonic() - self._last_beat >= settings.transcode_heartbeat_s
            current = (self._stage, round(self._percent, 1))
            if current == self._written and not due:
                continue
            try:
                self._runner.jobs.report(
                    self._job.id,
                    self._runner.owner,
                    *current,
                    lease_until=self._runner.lease_until(),
                )
                self._written = current
                if due:
                    if self._keepalive is not None:
                        self._keepalive()
                    self._last_beat = time.monotonic()
            except Conflict:
                logger.warning("lost the lease", extra={"job_id": self._job.id})
                self.lost.set()
                return
            except Exception:  # a missed heartbeat is retried on the next tick
                logger.exception("heartbeat failed", extra={"job_id": self._job.id})


class JobRunner:
    """Runs jobs to the end under a lease: download, transcode, upload, publish."""

    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        *,
        transcoder: Transcode = transcode,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        naming = settings.naming
        self.jobs = DynamoJobRepository(naming.table(spec.JOBS), clients.dynamodb)
        self.catalog = DynamoCatalogRepository(naming.table(spec.CATALOG), clients.dynamodb)
        self.publisher = CatalogPublisher(
            self.catalog,
            S3SnapshotStore(self.catalog, artifacts(settings, clients)),
        )
        self.prewarm = wiring.prewarm_requests(settings, clients)
        self.titles = CatalogAdmin(self.catalog, self.publisher)
        self.store = ObjectStore(clients.s3)
        self.media_bucket = naming.bucket(spec.MEDIA)
        self.keys = KmsContentKeys(
            naming.table(spec.CONTENT_KEYS),
            naming.key_alias(spec.MEDIA_KEY),
            clients.dynamodb,
            clients.kms,
        )
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._transcode = transcoder

    def lease_until(self) -> float:
        return time.time() + self.settings.transcode_visibility_s

    def ensure_job(self, upload: MasterUpload) -> Job:
        """The upload's job, created here if the upload did not go through the API."""
        try:
            return self.jobs.get(upload.upload_id)
        except NotFound:
            pass
        ladder: LadderMode = "per-title"
        episode_id = None
        try:
            metadata = self.store.head(upload.bucket, upload.key).get("Metadata", {})
            requested = metadata.get("ladder")
            ladder = requested if requested in LADDERS else "per-title"
            episode_id = metadata.get("episode-id")
        except NotFound:
            pass  # the claim below will fail the job with source_missing
        prefix = spec.sidecar_prefix(upload.title_id, upload.upload_id)
        subtitles = [
            SubtitleObject(language=PurePosixPath(key).stem, key=key)
            for key in self.store.keys(upload.bucket, prefix)
        ]
        self.jobs.create(
            Job(
                id=upload.upload_id,
                title_id=upload.title_id,
                episode_id=episode_id,
                ladder=ladder,
                source=SourceObject(
                    bucket=upload.bucket, key=upload.key, size=upload.size, etag=upload.etag
                ),
                subtitles=subtitles,
            )
        )
        return self.jobs.get(upload.upload_id)

    def _claim(self, job: Job) -> Job | None:
        """Claims the job; waits out a lease that is about to expire (a dead worker's)."""
        for _ in range(2):
            claimed = self.jobs.claim(job.id, self.owner, self.lease_until(), time.time())
            if claimed is not None:
                return claimed
            current = self.jobs.get(job.id)
            if current.terminal or current.lease_until is None:
                return None
            wait = current.lease_until - time.time()
            if wait > self.settings.transcode_visibility_s:
                return None
            time.sleep(max(wait, 0) + 0.1)
        return None

    def run(
        self,
        upload: MasterUpload,
        *,
        keepalive: Callable[[], None] | None = None,
        deliveries: int = 1,
    ) -> Outcome:
        job = self.ensure_job(upload)
        if job.terminal:
            logger.info("job already finished", extra={"job_id": job.id, "state": job.state})
            return Outcome.DONE
        claimed = self._claim(job)
        if claimed is None:
            current = self.jobs.get(job.id)
            return Outcome.DONE if current.terminal else Outcome.BUSY
        limit = spec.TRANSCODE.max_receive_count
        final = max(deliveries, claimed.attempts) >= limit
        log = {"job_id": claimed.id, "attempt": claimed.attempts, "owner": self.owner}
        if claimed.attempts > limit:  # every earlier worker died holding it (duplicate messages)
            self._fail(claimed, "too_many_attempts", f"{limit} workers died running this job")
            return Outcome.DONE
        logger.info("claimed", extra=log)
        workspace = self.settings.work_dir / f"{claimed.id}-{self.owner}"
        try:
            return self._run_claimed(claimed, workspace, keepalive)
        except (InvalidMedia, PermanentFailure) as exc:
            self._fail(claimed, exc.reason, exc.message)
            return Outcome.DONE
        except Exception as exc:
            reason = exc.reason if isinstance(exc, FlixstackError) else "internal_error"
            logger.exception("attempt failed", extra={**log, "final": final})
            if final:
                self._fail(claimed, reason, f"gave up after {claimed.attempts} attempts: {exc}")
                return Outcome.DONE
            return Outcome.RETRY
        finally:
            shutil.rmtree(workspace, ignore_errors=True)

    def _fail(self, job: Job, reason: str, message: str) -> None:
        logger.warning("job failed", extra={"job_id": job.id, "reason": reason, "detail": message})
        if self.jobs.fail(job.id, JobError(reason=reason, message=message), owner=self.owner):
            self._release_title(job)

    def _release_title(self, job: Job) -> None:
        """A title that a failed upload left processing goes back to draft, unless another
        upload of it is still under way: it is never stuck, and can be uploaded again."""
        pending = [
            other
            for other in self.jobs.for_title(job.title_id)
            if other.id != job.id and (other.state is JobState.QUEUED or other.state in ACTIVE)
        ]
        if not pending:
            with contextlib.suppress(NotFound):
                self.titles.advance(
                    job.title_id, PROCESSING_ONLY, TitleState.DRAFT, f"transcoder:{job.id}"
                )

    def _run_claimed(
        self, job: Job, workspace: Path, keepalive: Callable[[], None] | None
    ) -> Outcome:
        for stale in self.settings.work_dir.glob(f"{job.id}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a worker that died on this job
        try:
            title = self.catalog.get(job.title_id)  # fail early, before any work
        except NotFound as exc:
            raise PermanentFailure(exc.message, reason="title_missing") from exc
        if job.episode_id is not None and job.episode_id not in title.episodes:
            raise PermanentFailure(
                f"title {title.id} has no episode {job.episode_id}", reason="episode_missing"
            )
        with Reporter(self, job, keepalive) as reporter:
            source = self._download(job, workspace)
            states = StateTracker(self, job)

            def progress(stage: Stage, fraction: float) -> None:
                if stage is not Stage.PROBING:
                    states.reach(STATE_OF_STAGE[stage])
                reporter.update(stage.value, fraction)

            out_dir = workspace / "out"
            result = self._transcode(
                source,
                out_dir,
                ladder=job.ladder,
                subtitles=[
                    Subtitle(language=s.language, path=p)
                    for s, p in self._subtitles(job, workspace)
                ],
                limits=Limits(
                    max_bytes=self.settings.max_upload_bytes,
                    max_duration_s=self.settings.max_duration_s,
                ),
                progress=progress,
                key=self._content_key(job),
            )
            states.reach(JobState.PACKAGING)
            if reporter.lost.is_set():
                return Outcome.BUSY
            self._upload(job, out_dir, result, reporter)
        return self._publish(job, result)

    def _content_key(self, job: Job) -> SegmentKey | None:
        """The asset's AES-128 key (made once per job, kept wrapped in the keys table) and
        the URI its playlists give players: the API's key endpoint."""
        if not self.settings.protect_media:
            return None
        key = self.keys.create(job.id, job.title_id, job.episode_id)
        base = self.settings.api_base_url.rstrip("/")
        return SegmentKey(key, base + spec.content_key_path(job.id), spec.content_key_id(job.id))

    def _download(self, job: Job, workspace: Path) -> Path:
        try:
            head = self.store.head(job.source.bucket, job.source.key)
        except NotFound as exc:
            raise PermanentFailure(exc.message, reason="source_missing") from exc
        size = int(head.get("ContentLength", 0))
        if size > self.settings.max_upload_bytes:
            raise InvalidMedia(
                f"{size} bytes is over the {self.settings.max_upload_bytes}-byte limit",
                reason="too_large",
            )
        name = PurePosixPath(job.source.key).name
        return self.store.download(job.source.bucket, job.source.key, workspace / "source" / name)

    def _subtitles(self, job: Job, workspace: Path) -> list[tuple[SubtitleObject, Path]]:
        return [
            (
                s,
                self.store.download(
                    job.source.bucket, s.key, workspace / "subtitles" / PurePosixPath(s.key).name
                ),
            )
            for s in job.subtitles
        ]

    def _upload(self, job: Job, out_dir: Path, result: TranscodeResult, reporter: Reporter) -> None:
        """Segments, images and texts first, in parallel; manifests last, in order."""
        prefix = spec.asset_prefix(job.title_id, job.id)
        manifests = list(result.manifests)
        others = sorted(
            p.relative_to(out_dir).as_posix()
            for p in out_dir.rglob("*")
            if p.is_file() and p.relative_to(out_dir).as_posix() not in manifests
        )
        total = len(others) + len(manifests)
        done = 0

        def put(relative: str) -> None:
            nonlocal done
            self.store.upload(out_dir / relative, self.media_bucket, prefix + relative)
            done += 1
            reporter.update("uploading", done / total)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(put, others))
        for relative in manifests:
            put(relative)

    def _publish(self, job: Job, result: TranscodeResult) -> Outcome:
        prefix = spec.asset_prefix(job.title_id, job.id)
        published = result.asset(prefix, version=job.id)
        for _ in range(3):  # the title may be edited concurrently: re-read it and retry
            title = self.catalog.get(job.title_id)
            updated = with_asset(title, published, job.episode_id, actor=f"transcoder:{job.id}")
            items = [
                self.jobs.publication(job.id, self.owner, published),
                self.catalog.replacement(updated, title.version),
                self.catalog.audit_entry(updated, f"transcoder:{job.id}", "asset", ["asset"]),
            ]
            try:
                self.jobs.transact(items, f"publishing job {job.id}")
            except Conflict:
                current = self.jobs.get(job.id)
                if current.state is not JobState.PACKAGING or current.owner != self.owner:
                    return Outcome.DONE if current.terminal else Outcome.BUSY
                continue
            logger.info("published", extra={"job_id": job.id, "title_id": job.title_id})
            if updated.state is TitleState.PUBLISHED:  # viewers see the new version now
                self.publisher.refresh([job.title_id])
                try:
                    self.prewarm.published(updated)
                except Exception:  # warming is an optimisation; the job is done
                    logger.exception("prewarm request failed", extra={"job_id": job.id})
            return Outcome.DONE
        raise Conflict(f"title {job.title_id} kept changing while job {job.id} published")


class QueueWorker:
    """Consumes the transcode queue one message at a time, extending each message's
    visibility while its job runs; marks jobs of dead-lettered messages FAILED."""

    def __init__(self, settings: Settings, clients: AwsClients, runner: JobRunner) -> None:
        self.settings = settings
        self.runner = runner
        self._sqs = clients.sqs
        naming = settings.naming
        self.queue_url = self._sqs.get_queue_url(QueueName=naming.queue(spec.TRANSCODE))["QueueUrl"]
        dead_letter = spec.TRANSCODE.dead_letter
        assert dead_letter is not None
        self.dlq_url = self._sqs.get_queue_url(QueueName=naming.queue(dead_letter))["QueueUrl"]
        self.busy = False

    def poll(
        self, stop: threading.Event, *, wait_s: int = 5, max_messages: int | None = None
    ) -> int:
        handled = 0
        while not stop.is_set() and (max_messages is None or handled < max_messages):
            response = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=1,
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=self.settings.transcode_visibility_s,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            messages = response.get("Messages", [])
            if not messages:
                self.sweep_dead_letters()
                continue
            try:
                self.handle(messages[0])
            except Exception:  # the message stays; its redelivery (or the DLQ) decides
                logger.exception("message not handled")
            handled += 1
        return handled

    def handle(self, message: Any) -> None:
        receipt = message["ReceiptHandle"]
        deliveries = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))

        def keepalive() -> None:
            self._sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=receipt,
                VisibilityTimeout=self.settings.transcode_visibility_s,
            )

        try:
            uploads = parse_masters(message.get("Body", ""))
        except InvalidInput:  # poison: left alone, it reaches the dead-letter queue
            logger.warning("not an S3 notification", extra={"message_id": message.get("MessageId")})
            return
        self.busy = True
        try:
            outcomes = [
                self.runner.run(u, keepalive=keepalive, deliveries=deliveries) for u in uploads
            ]
        finally:
            self.busy = False
        if Outcome.RETRY not in outcomes:
            try:
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
            except self._sqs.exceptions.ReceiptHandleIsInvalid:
                logger.info("message was already gone")  # purged, or deleted by a redrive

    def sweep_dead_letters(self) -> None:
        """A message in the dead-letter queue means its job could not finish: say so on
        the job. The message stays there (hidden for an hour) for operators to inspect."""
        response = self._sqs.receive_message(
            QueueUrl=self.dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=3600,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        for message in response.get("Messages", []):
            try:
                uploads = parse_masters(message.get("Body", ""))
            except InvalidInput:
                continue  # poison messages have no job to fail
            for upload in uploads:
                error = JobError(
                    reason="dead_lettered",
                    message=f"the job's message failed {spec.TRANSCODE.max_receive_count} deliveries "
                    "(the worker crashed or timed out each time)",
                )
                if self.runner.jobs.fail(upload.upload_id, error):
                    logger.warning("dead-lettered job failed", extra={"job_id": upload.upload_id})


def main(argv: Sequence[str] | None = None) -> int:
    """``poll`` (the default) or ``run-one``; exit status 1 asks for a retry."""
    import signal

    args = list(sys.argv[1:] if argv is None else argv) or ["poll"]
    settings = Settings()
    clients = AwsClients(settings)
    runner = JobRunner(settings, clients)
    if args[0] == "run-one":
        if not settings.transcode_event:
            print("run-one needs FLIXSTACK_TRANSCODE_EVENT (an S3 event as JSON)", file=sys.stderr)
            return 2
        outcomes = [
            runner.run(upload, deliveries=settings.transcode_attempt)
            for upload in parse_masters(settings.transcode_event)
        ]
        return 1 if Outcome.RETRY in outcomes else 0
    if args[0] != "poll":
        print(
            f"usage: python -m flixstack.media.worker [poll|run-one], not {args[0]!r}",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()
    worker = QueueWorker(settings, clients, runner)

    def on_signal(signum: int, _: object) -> None:
        stop.set()
        if worker.busy:  # abandon the job: its lease and message expire, another run resumes it
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if settings.prewarm_in_worker:  # the local platform's (on AWS: a queue-triggered function)
        threading.Thread(
            target=prewarm.serve,
            args=(wiring.prewarm_queue(settings, clients), wiring.prewarmer(settings, clients)),
            kwargs={"stop": stop.is_set},
            name="prewarm",
            daemon=True,
        ).start()
    worker.poll(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
