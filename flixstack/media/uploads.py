"""Uploads: presigned multipart uploads into the ingest bucket, and the job they create.

The client asks for an upload (``create``), PUTs each part to its presigned URL (and any
subtitle sidecars to theirs), then calls ``complete`` with the parts' ETags. Completing
the upload creates the transcode job; the S3 ObjectCreated notification that follows
drives the worker. Job ids are upload ids, so a repeated call or a duplicated S3 event
can never create a second job for the same upload.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Annotated, Protocol

from pydantic import BaseModel, Field, field_validator

from flixstack import spec
from flixstack.aws.object_store import ObjectStore
from flixstack.catalog.models import TitleDocument, TitleKind, TitleState
from flixstack.catalog.service import PROCESSING_FROM
from flixstack.clock import now_iso
from flixstack.errors import InvalidInput, NotFound
from flixstack.media.jobs import Job, JobRepository, SourceObject, SubtitleObject
from flixstack.media.ladder import LadderMode
from flixstack.settings import Settings

MIN_PART = 8 * 2**20  # S3 needs ≥ 5 MiB for every part but the last
MAX_PARTS = 10_000
SUBTITLE_SUFFIXES = (".srt", ".vtt")
_FILENAME = re.compile(r"^[\w][\w .()+,-]{0,254}$")
Language = Annotated[
    str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", examples=["en", "pt-BR"])
]


class SubtitleUpload(BaseModel):
    language: Language
    filename: str = Field(examples=["movie.en.srt"])

    @field_validator("filename")
    @classmethod
    def _subtitle_file(cls, value: str) -> str:
        if PurePosixPath(value.lower()).suffix not in SUBTITLE_SUFFIXES:
            raise ValueError(f"subtitles must be one of {SUBTITLE_SUFFIXES}")
        return value


class UploadRequest(BaseModel):
    filename: str = Field(examples=["trailer.mp4"])
    size_bytes: int = Field(gt=0)
    content_type: str = "application/octet-stream"
    ladder: LadderMode = "per-title"
    episode_id: str | None = Field(default=None, description="For a series: the episode this is.")
    part_size_bytes: int | None = Field(default=None, ge=MIN_PART, le=5 * 2**30)
    subtitles: list[SubtitleUpload] = Field(default_factory=list, max_length=20)

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str) -> str:
        if not _FILENAME.match(value) or ".." in value:
            raise ValueError("filename must be a plain file name (letters, digits, . _ - space)")
        return value


class PartUrl(BaseModel):
    part_number: int
    url: str


class SubtitleUrl(BaseModel):
    language: str
    key: str
    url: str


class UploadTicket(BaseModel):
    upload_id: str
    job_id: str
    title_id: str
    bucket: str
    key: str
    part_size_bytes: int
    parts: list[PartUrl]
    subtitles: list[SubtitleUrl]
    expires_at: str
    complete_path: str


class CompletedPart(BaseModel):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=128)


class UploadComplete(BaseModel):
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


class JobView(Job):
    """A job with the public URLs of its manifests."""

    master_playlist_url: str | None = None
    dash_manifest_url: str | None = None

    @classmethod
    def of(cls, job: Job, media_base_url: str) -> JobView:
        base = media_base_url.rstrip("/")
        return cls(
            **job.model_dump(),
            master_playlist_url=f"{base}/{job.master_playlist}" if job.master_playlist else None,
            dash_manifest_url=f"{base}/{job.dash_manifest}" if job.dash_manifest else None,
        )


class UploadSession(BaseModel):
    id: str
    title_id: str
    bucket: str
    key: str
    s3_upload_id: str
    ladder: LadderMode
    episode_id: str | None = None
    size_bytes: int
    subtitles: list[SubtitleObject]
    completed: bool = False
    created_at: str = Field(default_factory=now_iso)


class UploadRepository(Protocol):
    def save(self, session: UploadSession) -> None: ...
    def get(self, upload_id: str) -> UploadSession: ...
    def mark_completed(self, upload_id: str) -> None: ...


class Titles(Protocol):
    def get(self, title_id: str) -> TitleDocument: ...
    def advance(
        self, title_id: str, sources: frozenset[TitleState], target: TitleState, actor: str
    ) -> bool: ...


def part_size(size: int, requested: int | None) -> int:
    """The smallest part size ≥ the request (or 8 MiB) that fits S3's 10,000 parts."""
    return max(requested or MIN_PART, math.ceil(size / MAX_PARTS))


class IngestService:
    """Uploads and the jobs they create, as the admin API sees them."""

    def __init__(
        self,
        settings: Settings,
        store: ObjectStore,
        uploads: UploadRepository,
        jobs: JobRepository,
        titles: Titles,
    ) -> None:
        self._settings = settings
        self._store = store
        self._uploads = uploads
        self._jobs = jobs
        self._titles = titles
        self._bucket = settings.naming.bucket(spec.INGEST)

    def create(self, title_id: str, request: UploadRequest) -> UploadTicket:
        title = self._titles.get(title_id)  # NotFound for an unknown title
        if title.kind is TitleKind.SERIES and request.episode_id is None:
            raise InvalidInput(
                "a series takes one upload per episode: give episode_id", reason="episode_required"
            )
        if title.kind is TitleKind.MOVIE and request.episode_id is not None:
            raise InvalidInput("a movie has no episodes", reason="not_a_series")
        if request.episode_id is not None and request.episode_id not in title.episodes:
            raise NotFound(f"title {title_id} has no episode {request.episode_id}")
        if request.size_bytes > self._settings.max_upload_bytes:
            raise InvalidInput(
                f"{request.size_bytes} bytes is over the {self._settings.max_upload_bytes}-byte limit",
                reason="too_large",
            )
        upload_id = uuid.uuid4().hex
        key = spec.master_key(title_id, upload_id, request.filename)
        size = part_size(request.size_bytes, request.part_size_bytes)
        ttl = self._settings.upload_url_ttl_s
        s3_upload_id = self._store.start_multipart(
            self._bucket,
            key,
            request.content_type,
            {
                "title-id": title_id,
                "upload-id": upload_id,
                "ladder": request.ladder,
                **({"episode-id": request.episode_id} if request.episode_id else {}),
            },
        )
        subtitles = [
            SubtitleObject(
                language=s.language,
                key=f"{spec.sidecar_prefix(title_id, upload_id)}{s.language}{PurePosixPath(s.filename.lower()).suffix}",
            )
            for s in request.subtitles
        ]
        self._uploads.save(
            UploadSession(
                id=upload_id,
                title_id=title_id,
                bucket=self._bucket,
                key=key,
                s3_upload_id=s3_upload_id,
                ladder=request.ladder,
                episode_id=request.episode_id,
                size_bytes=request.size_bytes,
                subtitles=subtitles,
            )
        )
        return UploadTicket(
            upload_id=upload_id,
            job_id=upload_id,
            title_id=title_id,
            bucket=self._bucket,
            key=key,
            part_size_bytes=size,
            parts=[
                PartUrl(
                    part_number=n,
                    url=self._store.presign_part(self._bucket, key, s3_upload_id, n, ttl),
                )
                for n in range(1, math.ceil(request.size_bytes / size) + 1)
            ],
            subtitles=[
                SubtitleUrl(
                    language=s.language,
                    key=s.key,
                    url=self._store.presign_put(self._bucket, s.key, ttl),
                )
                for s in subtitles
            ],
            expires_at=(datetime.now(UTC) + timedelta(seconds=ttl)).isoformat(timespec="seconds"),
            complete_path=f"/admin/uploads/{upload_id}/complete",
        )

    def job(self, job_id: str) -> JobView:
        return JobView.of(self._jobs.get(job_id), self._settings.media_base_url)

    def jobs_of(self, title_id: str) -> list[JobView]:
        self._titles.get(title_id)  # NotFound for an unknown title
        return [
            JobView.of(job, self._settings.media_base_url) for job in self._jobs.for_title(title_id)
        ]

    def complete(self, upload_id: str, request: UploadComplete) -> JobView:
        """Completes the multipart upload and creates its job. Safe to repeat."""
        session = self._uploads.get(upload_id)
        if not session.completed:
            etag = self._store.complete_multipart(
                session.bucket,
                session.key,
                session.s3_upload_id,
                [(p.part_number, p.etag) for p in request.parts],
            )
            uploaded = set(
                self._store.keys(session.bucket, spec.sidecar_prefix(session.title_id, upload_id))
            )
            self._jobs.create(
                Job(
                    id=upload_id,
                    title_id=session.title_id,
                    episode_id=session.episode_id,
                    ladder=session.ladder,
                    source=SourceObject(
                        bucket=session.bucket, key=session.key, size=session.size_bytes, etag=etag
                    ),
                    subtitles=[s for s in session.subtitles if s.key in uploaded],
                )
            )
            self._uploads.mark_completed(upload_id)
            self._titles.advance(session.title_id, PROCESSING_FROM, TitleState.PROCESSING, "ingest")
        return self.job(upload_id)
