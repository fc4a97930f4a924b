"""Viewer models: profiles, playback heartbeats and the progress they leave, viewing
history, My List and ratings, as stored and as the API shows them.

Times a client sends are aware datetimes; stored, they are fixed-width UTC text with
microseconds (``Instant``), so DynamoDB's string comparison orders them in time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

from flixstack.catalog.models import Language, TitleCard

MAX_PROFILES = 5
ADULT_MATURITY = 18
KIDS_DEFAULT_MATURITY = 7
"""A kids profile's maturity level unless one is chosen (TV-Y7 and TV-G titles)."""
KIDS_MAX_MATURITY = 12
"""A kids profile is never allowed more (PG-13 and above stay out)."""
MAX_BATCH = 100


def stamp(value: datetime) -> str:
    """Fixed-width UTC text with microseconds: text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Instant = Annotated[
    AwareDatetime,
    AfterValidator(lambda value: value.astimezone(UTC)),
    PlainSerializer(stamp, return_type=str, when_used="json"),
]
"""An aware datetime, held in UTC, written as fixed-width text."""

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN, examples=["3f9c2a1b7d4e5f60"])]
"""A title, episode or profile id (no ``#``: ids become parts of sort keys)."""
EventId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        examples=["0b7c1f3e-9a4d-4c2e-8f1a-2d3e4f5a6b7c"],
        description="Unique per heartbeat (a UUID); a replayed one changes nothing.",
    ),
]

Avatar = Literal[
    "red",
    "blue",
    "green",
    "yellow",
    "purple",
    "orange",
    "teal",
    "grey",
    "kids-bear",
    "kids-robot",
    "kids-rocket",
    "kids-star",
]
AVATARS: tuple[str, ...] = get_args(Avatar)
DEFAULT_AVATAR: Avatar = "blue"
MaturityLevel = Annotated[
    int,
    Field(ge=0, le=18, description="Titles rated up to this level show (see MATURITY_LEVELS)."),
]
ProfileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


# --- profiles ------------------------------------------------------------------------------
class Profile(BaseModel):
    """One viewer of an account, in one of the account's ``MAX_PROFILES`` slots."""

    id: Id
    slot: int = Field(ge=1, le=MAX_PROFILES, description="Its place in the profile picker.")
    name: ProfileName
    avatar: Avatar
    kids: bool
    maturity_level: MaturityLevel
    language: Language
    created_at: str
    updated_at: str
    version: int = 1


class ProfileCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProfileName
    avatar: Avatar = DEFAULT_AVATAR
    kids: bool = False
    maturity_level: MaturityLevel | None = Field(
        default=None,
        description=f"Default {ADULT_MATURITY}; {KIDS_DEFAULT_MATURITY} for kids, who may "
        f"have at most {KIDS_MAX_MATURITY}.",
    )
    language: Language = "en"


class ProfilePatch(BaseModel):
    """Fields to change; ``version``, if sent, must be the one read (else 409)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, ge=1)
    name: ProfileName | None = None
    avatar: Avatar | None = None
    kids: bool | None = None
    maturity_level: MaturityLevel | None = None
    language: Language | None = None


# --- progress --------------------------------------------------------------------------------
class Heartbeat(BaseModel):
    """Where a player is in a title (for a series, in one of its episodes)."""

    model_config = ConfigDict(extra="forbid")

    event_id: EventId
    title_id: Id
    episode_id: Id | None = None
    position_s: float = Field(ge=0, le=100_000)
    duration_s: float = Field(gt=0, le=100_000)
    client_ts: Instant
    device: str = Field(min_length=1, max_length=64)


class HeartbeatBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heartbeats: list[Heartbeat] = Field(min_length=1, max_length=MAX_BATCH)


RejectReason = Literal[
    "unknown_title",
    "unknown_episode",
    "episode_required",
    "maturity_restricted",
    "clock_ahead",
]


class Rejection(BaseModel):
    event_id: str
    title_id: str
    reason: RejectReason


class ProgressReport(BaseModel):
    """What became of a batch: every heartbeat is counted once."""

    applied: int = 0
    stale: int = Field(default=0, description="Older than the progress already stored.")
    duplicates: int = Field(default=0, description="Event ids already applied.")
    rejected: list[Rejection] = Field(default_factory=list)


class Progress(BaseModel):
    """The stored state of one profile in one title: the latest heartbeat wins (by client
    time, then event id), whichever device sent it."""

    title_id: str
    episode_id: str | None = None
    position_s: float
    duration_s: float
    client_ts: Instant
    event_id: str
    device: str
    session_started: Instant
    """When the viewing session this heartbeat belongs to began (its history entry)."""
    recent_events: list[str] = Field(default_factory=list)
    """Fingerprints of the latest applied event ids (replays are recognised by them)."""
    updated_at: str
    version: int = 1


class ProgressView(BaseModel):
    title_id: str
    episode_id: str | None = None
    position_s: float
    duration_s: float
    percent: float
    finished: bool
    device: str
    watched_at: Instant


# --- what a profile sees ---------------------------------------------------------------------
class EpisodeRef(BaseModel):
    id: str
    season: int
    number: int
    language: str
    name: str


class ContinueItem(BaseModel):
    title: TitleCard
    episode: EpisodeRef | None
    position_s: float
    duration_s: float | None
    percent: float
    up_next: bool = Field(description="The next episode after a finished one (from 0).")
    updated_at: Instant


class ContinueWatching(BaseModel):
    items: list[ContinueItem]


class HistoryEntry(BaseModel):
    """One viewing session: a title (an episode of a series) watched without a long gap."""

    title_id: str
    episode_id: str | None = None
    started_at: Instant
    last_at: Instant
    position_s: float
    duration_s: float
    device: str


class HistoryItem(HistoryEntry):
    percent: float
    title: TitleCard | None = Field(description="None when the title is no longer available.")
    episode: EpisodeRef | None


class HistoryPage(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None = Field(default=None, description="Opaque; pass back as `cursor`.")


class ListEntry(BaseModel):
    title_id: str
    seq: int
    """The profile's insertion counter when the title was added (list order)."""
    added_at: str


class MyListItem(BaseModel):
    title: TitleCard
    added_at: str


class MyList(BaseModel):
    items: list[MyListItem]


Thumb = Literal["up", "down"]


class RatingPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Thumb | Literal["clear"]


class Rating(BaseModel):
    title_id: str
    rating: Thumb | None = Field(description="None once cleared.")
    rated_at: str


AccountStatus = Literal["active", "suspended"]


class Account(BaseModel):
    """What the platform holds about an account itself (absent: active, as created)."""

    status: AccountStatus = "active"
    reason: str | None = Field(default=None, max_length=200)
    updated_at: str | None = None
    updated_by: str | None = None
    version: int = 0

    @property
    def active(self) -> bool:
        return self.status == "active"


class AccountStatusPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AccountStatus
    reason: str | None = Field(default=None, max_length=200, examples=["payment failed"])
