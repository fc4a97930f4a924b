"""Transcode jobs: their states and the rules for moving between them.

QUEUED → PROBING → ENCODING → PACKAGING → PUBLISHED, or FAILED from any non-terminal
state. A worker *claims* a job with a lease before working on it; a job whose lease has
run out (its worker died) can be claimed again and restarts at PROBING. Every move is a
conditional write in the repository, so two workers can never both own a job, and a
redelivered message for a finished job changes nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from flixstack.catalog.models import RenditionSummary
from flixstack.clock import now_iso
from flixstack.media.ladder import LadderMode


class JobState(StrEnum):
    QUEUED = "QUEUED"
    PROBING = "PROBING"
    ENCODING = "ENCODING"
    PACKAGING = "PACKAGING"
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"


TERMINAL = frozenset({JobState.PUBLISHED, JobState.FAILED})
ACTIVE = frozenset({JobState.PROBING, JobState.ENCODING, JobState.PACKAGING})
# Forward moves a lease holder may make (FAILED is allowed from every non-terminal state).
FORWARD: dict[JobState, JobState] = {
    JobState.PROBING: JobState.ENCODING,
    JobState.ENCODING: JobState.PACKAGING,
    JobState.PACKAGING: JobState.PUBLISHED,
}


class SourceObject(BaseModel):
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None


class SubtitleObject(BaseModel):
    language: str
    key: str


class JobError(BaseModel):
    reason: str = Field(description="Stable, machine-readable cause, e.g. corrupt, too_long.")
    message: str


class Job(BaseModel):
    id: str
    title_id: str
    episode_id: str | None = None
    state: JobState = JobState.QUEUED
    stage: str | None = Field(default=None, description="What the worker is doing now.")
    percent: float = Field(default=0.0, ge=0, le=100)
    ladder: LadderMode = "per-title"
    source: SourceObject
    subtitles: list[SubtitleObject] = Field(default_factory=list)
    attempts: int = 0
    owner: str | None = None
    lease_until: float | None = Field(default=None, description="Epoch seconds.")
    error: JobError | None = None
    asset_version: str | None = None
    master_playlist: str | None = Field(default=None, description="Media-bucket key.")
    dash_manifest: str | None = Field(default=None, description="Media-bucket key.")
    renditions: list[RenditionSummary] = Field(default_factory=list)
    publish_count: int = 0
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    version: int = 1

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


class JobRepository(Protocol):
    def create(self, job: Job) -> bool:
        """Stores a new job; False if one with that id exists already."""
        ...

    def get(self, job_id: str) -> Job: ...

    def for_title(self, title_id: str, limit: int = ...) -> list[Job]: ...

    def claim(self, job_id: str, owner: str, lease_until: float, now: float) -> Job | None:
        """Takes the lease of a QUEUED job, or of an active one whose lease has run out
        (restarting it at PROBING). None if the job is finished or held by a live worker."""
        ...

    def advance(self, job_id: str, owner: str, to: JobState) -> None:
        """Moves a job we hold one step forward (never to PUBLISHED: see publish)."""
        ...

    def report(
        self, job_id: str, owner: str, stage: str, percent: float, lease_until: float
    ) -> None:
        """Records progress and extends our lease."""
        ...

    def fail(self, job_id: str, error: JobError, owner: str | None = None) -> bool:
        """Marks a non-terminal job FAILED (only if we hold it, when owner is given)."""
        ...
