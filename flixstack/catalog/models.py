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


class TitleCreate(BaseModel):
    """What an admin gives to create a draft title."""

    name: str = Field(min_length=1, max_length=200)
    kind: TitleKind = TitleKind.MOVIE
    synopsis: str = Field(default="", max_length=4000)
    genres: list[str] = Field(default_factory=list, max_length=20)
    release_year: int | None = Field(default=None, ge=1870, le=2100)
    maturity_rating: str | None = Field(default=None, max_length=16)


class AssetSummary(BaseModel):
    version: str
    master_playlist: str
    dash_manifest: str
    poster: str
    duration_s: float


class Title(TitleSummary):
    """A title as an admin sees it: lifecycle state, optimistic-lock version, asset."""

    state: TitleState
    synopsis: str = ""
    version: int
    created_at: str
    updated_at: str
    asset: AssetSummary | None = None
