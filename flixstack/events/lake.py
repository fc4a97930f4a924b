"""The events data lake's one table: what a stream record is, column by column.

A record on the events stream is one flat JSON object: the event's own fields (schema v1)
plus ``account`` and ``received_at``, which the API stamps. On AWS, Firehose converts those
records to Parquet through the Glue table built from ``COLUMNS``; locally the consumer
writes the same columns (``flixstack.aws.lake_store``). Either way the files sit under
``events/dt=<day>/hour=<HH>/`` of the lake bucket (``spec.lake_partition``), so DuckDB here
and Athena on AWS run the same SQL over them. Event fields a type lacks are null.

Instants stay ISO-8601 text (fixed width, UTC, so text order is time order): Firehose's
JSON reader and DuckDB then agree on them byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from flixstack.events import schema

GlueType = Literal["string", "int", "bigint", "double", "boolean"]


@dataclass(frozen=True)
class Column:
    name: str
    type: GlueType
    comment: str


COLUMNS: tuple[Column, ...] = (
    Column("event_id", "string", "unique per event; a resent event repeats it"),
    Column("type", "string", "session_start, first_frame, heartbeat, stall_start, ..."),
    Column("schema_version", "int", "the event schema's version"),
    Column("session_id", "string", "one playback session (the stream's partition key)"),
    Column("account", "string", "the signed-in account, stamped by the API"),
    Column("profile_id", "string", "the viewer's profile"),
    Column("title_id", "string", "the title played"),
    Column("episode_id", "string", "the episode, for a series"),
    Column("asset_version", "string", "the packaged asset played"),
    Column("cdn", "string", "the CDN that served the media"),
    Column("territory", "string", "ISO 3166 country of the viewer"),
    Column("device", "string", "the device class"),
    Column("client_ts", "string", "the player's clock, ISO-8601 UTC"),
    Column("received_at", "string", "when the API accepted the event, ISO-8601 UTC"),
    Column("startup_ms", "double", "first_frame: from session_start to the first frame"),
    Column("position_s", "double", "heartbeat, stalls, bitrate_switch, session_end"),
    Column("duration_s", "double", "heartbeat: the title's (or episode's) length"),
    Column("bitrate_bps", "bigint", "heartbeat: the rendition's bit rate"),
    Column("buffer_s", "double", "heartbeat: media buffered ahead"),
    Column("stall_ms", "double", "stall_end: how long playback waited"),
    Column("from_bps", "bigint", "bitrate_switch: the old rendition's bit rate"),
    Column("to_bps", "bigint", "bitrate_switch: the new rendition's bit rate"),
    Column("height", "int", "bitrate_switch: the new rendition's height"),
    Column("code", "string", "error: the player's error code"),
    Column("fatal", "boolean", "error: playback stopped"),
    Column("message", "string", "error: the player's words"),
    Column("reason", "string", "session_end: exit, ended or error"),
)
_NAMES = tuple(column.name for column in COLUMNS)
PARTITION_KEYS: tuple[Column, ...] = (
    Column("dt", "string", "the UTC day the event arrived, YYYY-MM-DD"),
    Column("hour", "string", "the UTC hour the event arrived, 00-23"),
)
STAMPED = ("account", "received_at")
"""Record fields the API adds to the event's own."""


class PoisonRecord(ValueError):
    """A stream record that can never be processed: not JSON, or not a valid event. It
    goes to the dead-letter queue with this reason instead of blocking its shard."""


class Envelope(NamedTuple):
    account: str
    received_at: str
    event: schema.PlayerEvent


def encode(account: str, received_at: str, event: schema.PlayerEvent) -> bytes:
    """The stream record of an accepted event."""
    record = event.model_dump(mode="json")
    record["account"] = account
    record["received_at"] = received_at
    return json.dumps(record, separators=(",", ":")).encode()


def _stamped(model: type[BaseModel]) -> type[BaseModel]:
    """The event model with the API's stamps: what a stream record is."""
    return create_model(
        f"Stamped{model.__name__}", __base__=model, account=(str, ...), received_at=(str, ...)
    )


_RECORD: TypeAdapter[Any] = TypeAdapter(
    Annotated[  # type: ignore[arg-type]
        Union[tuple(_stamped(m) for m in schema.EVENT_MODELS)],  # noqa: UP007
        Field(discriminator="type"),
    ]
)


def decode(data: bytes) -> Envelope:
    """A stream record back as its event (straight from the JSON bytes, in one pass);
    PoisonRecord when it is not one."""
    try:
        event = _RECORD.validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise PoisonRecord(f"not JSON: {errors[0]['msg']}") from exc
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise PoisonRecord(f"not a valid event: {reasons}") from exc
    if len(event.received_at) < 16:
        raise PoisonRecord(f"received_at {event.received_at!r} is not an instant")
    return Envelope(event.account, event.received_at, event)


def row(envelope: Envelope) -> dict[str, Any]:
    """The lake row of an event: every column, null where the event type has no field."""
    values = envelope.event.model_dump(mode="json")
    values["account"] = envelope.account
    values["received_at"] = envelope.received_at
    return {name: values.get(name) for name in _NAMES}


def partition_of(received_at: str) -> tuple[str, int]:
    """(dt, hour) of an ISO-8601 UTC instant."""
    return received_at[:10], int(received_at[11:13])
