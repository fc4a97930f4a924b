"""Player and QoE events, schema version 1: what players send to ``POST /events``.

Every event names its session, profile, title (and episode), asset, CDN, territory and
device, carries a unique ``event_id`` (a replay of it changes nothing downstream) and the
client's own time. ``type`` tells the kinds apart:

- ``session_start``: the player asked for a grant and begins loading;
- ``first_frame``: the first frame rendered, ``startup_ms`` after ``session_start``;
- ``heartbeat``: every few seconds of play, the position, bit rate and buffer ahead;
- ``stall_start`` / ``stall_end``: playback waited for data (``stall_ms`` long);
- ``bitrate_switch``: ABR (or the viewer) moved to another rendition;
- ``error``: a player error, ``fatal`` when playback stopped;
- ``session_end``: the viewer left (or the title ended).

A batch is validated event by event (``validate_batch``): an invalid event is reported by
its index with pydantic's reasons, and never costs the valid events beside it their place.
The version is part of each event: a later schema adds a ``schema_version`` value and a
model, and consumers keep reading version 1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from flixstack.catalog.models import Territory
from flixstack.viewers.models import EventId, Id, Instant

SCHEMA_VERSION: Literal[1] = 1
MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 256 * 1024
"""A batch's limits, as Kinesis ``PutRecords`` has them (500 records; we keep the body to
256 KiB, well under its 5 MiB)."""

Token = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
"""A CDN name, device class or error code: short, printable, no spaces."""
Seconds = Annotated[float, Field(ge=0, le=100_000)]


class _Event(BaseModel):
    """What every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: EventId
    session_id: EventId
    profile_id: Id
    title_id: Id
    episode_id: Id | None = None
    asset_version: Id
    cdn: Token
    territory: Territory
    device: Token
    client_ts: Instant


class SessionStart(_Event):
    type: Literal["session_start"]


class FirstFrame(_Event):
    type: Literal["first_frame"]
    startup_ms: float = Field(ge=0, le=600_000, description="From session_start to the frame.")


class HeartbeatEvent(_Event):
    type: Literal["heartbeat"]
    position_s: Seconds
    duration_s: float = Field(gt=0, le=100_000)
    bitrate_bps: int = Field(ge=0, le=1_000_000_000)
    buffer_s: Seconds = Field(description="Media buffered ahead of the position.")


class StallStart(_Event):
    type: Literal["stall_start"]
    position_s: Seconds


class StallEnd(_Event):
    type: Literal["stall_end"]
    position_s: Seconds
    stall_ms: float = Field(ge=0, le=3_600_000)


class BitrateSwitch(_Event):
    type: Literal["bitrate_switch"]
    position_s: Seconds
    from_bps: int = Field(ge=0, le=1_000_000_000)
    to_bps: int = Field(ge=0, le=1_000_000_000)
    height: int = Field(ge=0, le=8640, description="The new rendition's height.")


class ErrorEvent(_Event):
    type: Literal["error"]
    code: Token
    fatal: bool
    message: str = Field(default="", max_length=500)


class SessionEnd(_Event):
    type: Literal["session_end"]
    position_s: Seconds
    reason: Literal["exit", "ended", "error"] = "exit"


PlayerEvent = Annotated[
    SessionStart
    | FirstFrame
    | HeartbeatEvent
    | StallStart
    | StallEnd
    | BitrateSwitch
    | ErrorEvent
    | SessionEnd,
    Field(discriminator="type"),
]
EVENT_MODELS: tuple[type[BaseModel], ...] = (
    SessionStart,
    FirstFrame,
    HeartbeatEvent,
    StallStart,
    StallEnd,
    BitrateSwitch,
    ErrorEvent,
    SessionEnd,
)
EVENT_TYPES: tuple[str, ...] = (
    "session_start",
    "first_frame",
    "heartbeat",
    "stall_start",
    "stall_end",
    "bitrate_switch",
    "error",
    "session_end",
)
_ADAPTER: TypeAdapter[PlayerEvent] = TypeAdapter(PlayerEvent)


class BatchTooLarge(ValueError):
    """A batch over ``MAX_BATCH_EVENTS`` events or ``MAX_BATCH_BYTES`` bytes."""


@dataclass(frozen=True)
class Rejected:
    index: int
    """The event's place in the batch."""
    event_id: str | None
    """Its ``event_id`` when it had a readable one."""
    errors: list[dict[str, Any]]
    """pydantic's reasons: ``loc`` (within the event), ``msg`` and ``type``."""


@dataclass(frozen=True)
class Batch:
    accepted: list[tuple[int, PlayerEvent]] = field(default_factory=list)
    """The valid events, each with its place in the batch."""
    rejected: list[Rejected] = field(default_factory=list)


def parse_event(data: Any) -> PlayerEvent:
    """One event from its JSON-decoded form; ValidationError when it is not a valid one."""
    return _ADAPTER.validate_python(data)


def validate_batch(body: bytes) -> Batch:
    """A ``POST /events`` body, ``{"events": [...]}``, checked event by event.

    Raises BatchTooLarge over the limits and ValueError when the body is not a JSON object
    with an ``events`` list (nothing in it can be trusted then)."""
    if len(body) > MAX_BATCH_BYTES:
        raise BatchTooLarge(f"a batch is at most {MAX_BATCH_BYTES} bytes, not {len(body)}")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        raise ValueError('send {"events": [...]} with at least one event')
    if len(events) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(f"a batch is at most {MAX_BATCH_EVENTS} events, not {len(events)}")
    accepted: list[tuple[int, PlayerEvent]] = []
    rejected: list[Rejected] = []
    for index, raw in enumerate(events):
        try:
            accepted.append((index, parse_event(raw)))
        except ValidationError as exc:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            rejected.append(
                Rejected(
                    index,
                    event_id if isinstance(event_id, str) else None,
                    [
                        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                        for e in exc.errors(include_url=False, include_input=False)
                    ],
                )
            )
    return Batch(accepted, rejected)


def partition_key(event: PlayerEvent) -> str:
    """The Kinesis partition key: a session's events stay in order on one shard."""
    return event.session_id
