"""Catalog domain models.

A title is one aggregate: its localized metadata, licence windows, seasons and episodes
and asset pointers live in one document (one DynamoDB item) with one ``version`` for
optimistic locking. Viewer-facing shapes (cards, details, pages) are derived from it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z][A-Za-z]{1,3}|-[0-9]{3})?$"
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN, examples=["en", "fr", "pt-BR"])]
"""A BCP-47 tag, language plus an optional region: en, fr, pt-BR, es-419."""
Territory = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["US", "FR"])]
"""An ISO-3166 alpha-2 code."""

GENRES: tuple[str, ...] = (
    "action",
    "animation",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "family",
    "fantasy",
    "horror",
    "romance",
    "sci-fi",
    "thriller",
)
"""The controlled genre vocabulary (slugs); rows and filters use these."""

# Maturity ratings and the viewer maturity level (0-18) each needs.
MATURITY_LEVELS: dict[str, int] = {
    "TV-Y": 0,
    "G": 0,
    "TV-Y7": 7,
    "TV-G": 7,
    "PG": 10,
    "TV-PG": 10,
    "PG-13": 13,
    "TV-14": 14,
    "R": 17,
    "TV-MA": 17,
    "NC-17": 18,
}
MaturityRating = Literal[
    "TV-Y", "G", "TV-Y7", "TV-G", "PG", "TV-PG", "PG-13", "TV-14", "R", "TV-MA", "NC-17"
]


class TitleState(StrEnum):
    DRAFT = "draft"
    PROCESSING = "processing"
    READY = "ready"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class TitleKind(StrEnum):
    MOVIE = "movie"
    SERIES = "series"


def utc(value: datetime) -> datetime:
    """An aware datetime in UTC (naive datetimes are refused: time zones are not guessed)."""
    if value.tzinfo is None:
        raise ValueError("datetimes must carry a time zone (use UTC, e.g. 2027-01-01T00:00:00Z)")
    return value.astimezone(UTC)


class LocalizedText(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    synopsis: str = Field(default="", max_length=4000)


class Licence(BaseModel):
    """A window in which a territory may watch the title: ``start <= t < end`` (UTC)."""

    territory: Territory
    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return utc(value)

    @model_validator(mode="after")
    def _ordered(self) -> Licence:
        if self.end <= self.start:
            raise ValueError(f"licence for {self.territory} ends before it starts")
        return self

    def covers(self, territory: str, at: datetime) -> bool:
        return self.territory == territory and self.start <= at < self.end


class CastMember(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["actor", "director", "writer", "creator", "producer"] = "actor"
    character: str | None = Field(default=None, max_length=200)


class Artwork(BaseModel):
    """Media-bucket keys (or absolute URLs) of the title's images."""

    poster: str | None = None
    backdrop: str | None = None


class RenditionSummary(BaseModel):
    width: int
    height: int
    bandwidth: int


Protection = Literal["none", "aes-128"]


class Asset(BaseModel):
    """One packaged, playable version of a title or episode (``titles/<id>/<version>/``)."""

    version: str
    master_playlist: str
    dash_manifest: str | None = None
    """CENC-protected when ``protection`` is set; None for an asset packaged when protected
    assets were HLS only."""
    poster: str
    thumbnails_vtt: str
    duration_s: float
    renditions: list[RenditionSummary]
    subtitle_languages: list[str]
    has_audio: bool
    protection: Protection = "none"
    """``aes-128``: the HLS segments are encrypted; players fetch the key from
    ``/keys/<version>`` (``spec.content_key_path``). The DASH segments are CENC-protected
    with the same key, licensed by ``spec.clearkey_licence_path``."""
    published_at: str


class Episode(BaseModel):
    id: str
    season: int = Field(ge=1)
    number: int = Field(ge=1)
    localized: dict[Language, LocalizedText]
    runtime_min: int | None = Field(default=None, ge=1, le=600)
    asset: Asset | None = None


class Season(BaseModel):
    number: int = Field(ge=1)
    localized: dict[Language, LocalizedText] = Field(default_factory=dict)
    episodes: list[str] = Field(default_factory=list, description="Episode ids, in order.")


_SLUG = re.compile(r"^[a-z0-9-]+$")


class TitleMetadata(BaseModel):
    """What an admin edits (everything but lifecycle, assets and audit fields)."""

    default_language: Language = "en"
    localized: dict[Language, LocalizedText]
    genres: list[str] = Field(default_factory=list, max_length=5)
    cast: list[CastMember] = Field(default_factory=list, max_length=100)
    maturity_rating: MaturityRating = "PG-13"
    release_year: int | None = Field(default=None, ge=1870, le=2100)
    runtime_min: int | None = Field(default=None, ge=1, le=1000)
    artwork: Artwork = Field(default_factory=Artwork)

    @field_validator("genres")
    @classmethod
    def _known_genres(cls, value: list[str]) -> list[str]:
        unknown = [g for g in value if g not in GENRES]
        if unknown:
            raise ValueError(f"unknown genres {unknown}; use {', '.join(GENRES)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _default_language_present(self) -> TitleMetadata:
        if self.default_language not in self.localized:
            raise ValueError(
                f"localized must include the default language {self.default_language!r}"
            )
        return self


class TitleDocument(TitleMetadata):
    """The whole title aggregate, as stored."""

    id: str
    kind: TitleKind = TitleKind.MOVIE
    state: TitleState = TitleState.DRAFT
    licences: list[Licence] = Field(default_factory=list)
    popularity: float = Field(default=0.0, ge=0)
    asset: Asset | None = Field(default=None, description="A movie's playable asset.")
    seasons: list[Season] = Field(default_factory=list)
    episodes: dict[str, Episode] = Field(default_factory=dict)
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    published_at: str | None = None
    version: int = 1

    @property
    def maturity_level(self) -> int:
        return MATURITY_LEVELS[self.maturity_rating]

    @property
    def playable(self) -> bool:
        """A movie with an asset, or a series with at least one episode with one."""
        if self.kind is TitleKind.MOVIE:
            return self.asset is not None
        return any(e.asset is not None for e in self.episodes.values())

    def ordered_episodes(self) -> list[Episode]:
        return [
            self.episodes[e]
            for s in sorted(self.seasons, key=lambda s: s.number)
            for e in s.episodes
        ]


# --- admin requests ----------------------------------------------------------------------
class TitleCreate(TitleMetadata):
    kind: TitleKind = TitleKind.MOVIE


class TitleCreateSimple(BaseModel):
    """The shortest way to start a title: one name in the default language."""

    name: str = Field(min_length=1, max_length=200)
    kind: TitleKind = TitleKind.MOVIE
    language: Language = "en"

    def full(self) -> TitleCreate:
        return TitleCreate(
            kind=self.kind,
            default_language=self.language,
            localized={self.language: LocalizedText(name=self.name)},
        )


class MetadataPatch(BaseModel):
    """Fields to change; ``version`` is the one read (or send it as If-Match)."""

    version: int | None = Field(default=None, ge=1)
    default_language: Language | None = None
    localized: dict[Language, LocalizedText | None] | None = Field(
        default=None, description="Per language: text to set, or null to remove it."
    )
    genres: list[str] | None = None
    cast: list[CastMember] | None = None
    maturity_rating: MaturityRating | None = None
    release_year: int | None = None
    runtime_min: int | None = None
    artwork: Artwork | None = None


class LicencesPut(BaseModel):
    version: int | None = Field(default=None, ge=1)
    licences: list[Licence] = Field(max_length=500)


class SeasonCreate(BaseModel):
    version: int | None = Field(default=None, ge=1)
    number: int = Field(ge=1, le=200)
    localized: dict[Language, LocalizedText] = Field(default_factory=dict)


class EpisodeCreate(BaseModel):
    version: int | None = Field(default=None, ge=1)
    number: int = Field(ge=1, le=1000)
    localized: dict[Language, LocalizedText]
    runtime_min: int | None = Field(default=None, ge=1, le=600)


class LifecycleAction(StrEnum):
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    ARCHIVE = "archive"
    RESTORE = "restore"


class VersionOnly(BaseModel):
    version: int | None = Field(default=None, ge=1)


# --- viewer responses --------------------------------------------------------------------
class TitleCard(BaseModel):
    """A title as a row or a search result shows it, in one language."""

    id: str
    kind: TitleKind
    language: str
    name: str
    synopsis: str
    genres: list[str]
    maturity_rating: str
    release_year: int | None
    poster_url: str | None


class EpisodeView(BaseModel):
    id: str
    season: int
    number: int
    language: str
    name: str
    synopsis: str
    runtime_min: int | None
    playable: bool


class SeasonView(BaseModel):
    number: int
    name: str | None
    episodes: list[EpisodeView]


class TitleDetail(TitleCard):
    cast: list[CastMember]
    runtime_min: int | None
    playable: bool
    available_languages: list[str]
    subtitle_languages: list[str]
    seasons: list[SeasonView]


class CardPage(BaseModel):
    items: list[TitleCard]
    next_cursor: str | None = Field(default=None, description="Opaque; pass back as `cursor`.")


class Row(BaseModel):
    id: str
    title: str
    items: list[TitleCard]


class AdminTitlePage(BaseModel):
    items: list[TitleDocument]
    next_cursor: str | None = None
