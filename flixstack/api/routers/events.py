"""Player events in: ``POST /events`` (see ``flixstack.events.ingest``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from flixstack.api.deps import EventsDep, PrincipalDep, RawBodyDep
from flixstack.events import schema

router = APIRouter(tags=["events"])


class RefusedEvent(BaseModel):
    index: int = Field(description="The event's place in the batch.")
    event_id: str | None
    reason: str = Field(description="invalid_event or unknown_profile")
    errors: list[dict[str, Any]] = Field(description="What was wrong, field by field.")


class EventsAccepted(BaseModel):
    accepted: int
    rejected: list[RefusedEvent]


@router.post(
    "/events",
    status_code=202,
    response_model=EventsAccepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["events"],
                        "properties": {
                            "events": {
                                "type": "array",
                                "maxItems": schema.MAX_BATCH_EVENTS,
                                "items": {"type": "object"},
                            }
                        },
                    }
                }
            },
        }
    },
)
def post_events(body: RawBodyDep, principal: PrincipalDep, events: EventsDep) -> EventsAccepted:
    """Up to 500 player events (256 KiB) for profiles of the caller's account. Valid ones
    are accepted (202) even when others in the batch are not; those come back by index
    with their reasons. A 503 means the stream refused some: send the batch again."""
    report = events.ingest(principal.subject, body)
    return EventsAccepted(
        accepted=report.accepted,
        rejected=[
            RefusedEvent(index=r.index, event_id=r.event_id, reason=r.reason, errors=r.errors)
            for r in report.rejected
        ],
    )
