"""Player event schema v1: every type, the common fields, and batches that keep valid events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from flixstack.events import schema

COMMON: dict[str, Any] = {
    "session_id": "s-1",
    "profile_id": "p1",
    "title_id": "movie-a",
    "asset_version": "v1",
    "cdn": "edge-a",
    "territory": "US",
    "device": "web",
    "client_ts": "2026-12-04T20:00:00+01:00",
}
EXTRA: dict[str, dict[str, Any]] = {
    "session_start": {},
    "first_frame": {"startup_ms": 512.5},
    "heartbeat": {"position_s": 30, "duration_s": 600, "bitrate_bps": 2_500_000, "buffer_s": 18},
    "stall_start": {"position_s": 31},
    "stall_end": {"position_s": 31, "stall_ms": 740},
    "bitrate_switch": {"position_s": 40, "from_bps": 800_000, "to_bps": 2_500_000, "height": 720},
    "error": {"code": "keyLoadError", "fatal": False},
    "session_end": {"position_s": 600, "reason": "ended"},
}


def event(kind: str, n: int = 0, **changes: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"e-{kind}-{n}", **COMMON, **EXTRA[kind], **changes}


def body(*events: Any) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_every_type_validates_and_carries_the_common_fields() -> None:
    assert set(EXTRA) == set(schema.EVENT_TYPES)
    for kind in schema.EVENT_TYPES:
        parsed = schema.parse_event(event(kind))
        assert parsed.type == kind
        assert parsed.schema_version == schema.SCHEMA_VERSION
        assert parsed.client_ts.utcoffset() is not None
        assert parsed.client_ts.hour == 19  # held in UTC
        assert schema.partition_key(parsed) == "s-1"


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"type": "teleport"}, "type"),
        ({"territory": "usa"}, "territory"),
        ({"client_ts": "2026-12-04T20:00:00"}, "client_ts"),  # a naive time is ambiguous
        ({"schema_version": 2}, "schema_version"),
        ({"startup_ms": -1}, "startup_ms"),
        ({"surprise": 1}, "surprise"),
        ({"cdn": "edge a"}, "cdn"),
    ],
)
def test_an_invalid_event_says_where(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        schema.parse_event(event("first_frame", **changes))
    errors = raised.value.errors()
    # a field's error names it in loc; an unknown type's (the union's tag) in its message
    assert any(where in map(str, e["loc"]) or f"'{where}'" in e["msg"] for e in errors), errors


def test_missing_common_fields_are_each_named() -> None:
    bare = {"type": "session_start", "event_id": "e-1"}
    with pytest.raises(ValidationError) as raised:
        schema.parse_event(bare)
    missing = {error["loc"][-1] for error in raised.value.errors() if error["type"] == "missing"}
    assert missing == {"session_id", "profile_id", "title_id", "asset_version", "cdn",
                       "territory", "device", "client_ts"}  # fmt: skip


def test_a_batch_keeps_its_valid_events_and_reports_the_others_by_index() -> None:
    batch = schema.validate_batch(
        body(
            event("session_start"),
            event("heartbeat", position_s=-5),
            "not an object",
            event("error", fatal=True),
        )
    )
    assert [(i, e.type) for i, e in batch.accepted] == [(0, "session_start"), (3, "error")]
    assert [(r.index, r.event_id) for r in batch.rejected] == [(1, "e-heartbeat-0"), (2, None)]
    assert batch.rejected[0].errors[0]["loc"][-1] == "position_s"


def test_batch_limits_and_shape() -> None:
    many = [event("heartbeat", n) for n in range(schema.MAX_BATCH_EVENTS + 1)]
    assert len(body(*many[:-1])) <= schema.MAX_BATCH_BYTES  # 500 real events fit
    assert len(schema.validate_batch(body(*many[:-1])).accepted) == schema.MAX_BATCH_EVENTS
    with pytest.raises(schema.BatchTooLarge, match="500 events"):
        schema.validate_batch(body(*many))
    with pytest.raises(schema.BatchTooLarge, match="bytes"):
        schema.validate_batch(b" " * (schema.MAX_BATCH_BYTES + 1))
    for bad in (b"{", b"[]", b'{"events": []}', b'{"events": {}}'):
        with pytest.raises(ValueError):  # noqa: PT011 - the message varies by shape
            schema.validate_batch(bad)
