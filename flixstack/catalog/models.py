"""Catalog domain models."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class TitleState(StrEnum):
    DRAFT = "draft"
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class TitleKind(StrEnum):
    MOVIE = "movie"
    SERIES = "series"


class TitleSummary(BaseModel):
    """What a browse row shows of a title."""

    id: str
    kind: TitleKind
    name: str
    release_year: int | None = None
    genres: list[str] = Field(default_factory=list)
    maturity_rating: str | None = None


class TitlePage(BaseModel):
    items: list[TitleSummary]
    next_cursor: str | None = Field(
        default=None, description="Opaque; pass back as `cursor` for the next page."
    )
