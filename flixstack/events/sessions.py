"""A playback session's state and what each of its events changes, as pure functions.

A session's events share a stream partition, so one consumer sees them in order. The
session remembers the fingerprints of the events it applied within ``DEDUPE_WINDOW`` (the
event source's maximum record age: any replay the pipeline can make falls inside it, and a
client that resends a batch does so within it), its last heartbeat, and its totals: the
rebuffers and playing time its smoothness score needs when it ends, whether it already
counted as a view, a play, a failure.

``fold`` applies one event: it adds to the QoE minute sums it counts in, and answers its
``Effects``: whether it is a play for trending, and where it puts the profile's progress.
"""

from __future__ import annotations

import copy
import hashlib
import struct
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from flixstack.events import qoe, schema
from flixstack.events.lake import Envelope
from flixstack.viewers.models import Heartbeat

DEDUPE_WINDOW = timedelta(hours=1)
SESSION_TTL = timedelta(hours=24)
"""A session's state is kept this long after its last event."""
_SEEN = struct.Struct("<QI")
"""A seen event: 64-bit fingerprint, received time in epoch seconds."""


def fingerprint(event_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest(), "little")


class QoeKey(NamedTuple):
    """A tuple: hashed and compared in C, as the consumer looks one up per event."""

    minute: str
    """``YYYY-MM-DDTHH:MM``, UTC, of when the API accepted the event."""
    title_id: str
    cdn: str
    territory: str
    device: str

    @property
    def hour(self) -> str:
        return self.minute[:13]

    @property
    def dims(self) -> tuple[str, str, str, str]:
        """(title, CDN, territory, device): the key without its minute."""
        return self.title_id, self.cdn, self.territory, self.device


@dataclass
class Session:
    session_id: str
    seen: dict[int, int] = field(default_factory=dict)
    """Fingerprint -> received epoch second, of the events applied within the window."""
    start_minute: str | None = None
    """The minute its session_start arrived (a view counts once, there)."""
    played: bool = False
    failed: bool = False
    ended: bool = False
    last_ts: float | None = None
    """Client time (epoch s) of the last first_frame or heartbeat."""
    last_position_s: float | None = None
    duration_s: float | None = None
    bitrate_bps: int | None = None
    """The rendition playing, as the last heartbeat or switch said."""
    stalls: int = 0
    stall_ms: float = 0.0
    watch_ms: float = 0.0
    version: int = 0
    """0 for a session never stored."""

    def clone(self) -> Session:
        """A copy whose changes never reach this one."""
        copied = copy.copy(self)
        copied.seen = dict(self.seen)
        return copied

    def pack_seen(self) -> bytes:
        return b"".join(_SEEN.pack(fp, at) for fp, at in self.seen.items())

    @staticmethod
    def unpack_seen(blob: bytes) -> dict[int, int]:
        return {fp: at for fp, at in _SEEN.iter_unpack(blob)}

    def forget_before(self, horizon: int) -> None:
        """Drops what was seen before ``horizon`` (cheap when nothing is that old: the
        oldest entry comes first)."""
        oldest = next(iter(self.seen.values()), horizon)
        if oldest < horizon:
            self.seen = {fp: at for fp, at in self.seen.items() if at >= horizon}


class ProgressMark(NamedTuple):
    """Where a heartbeat (or the session's end) puts the profile in the title."""

    event: schema.HeartbeatEvent | schema.SessionEnd
    position_s: float
    duration_s: float

    def heartbeat(self) -> Heartbeat:
        """The heartbeat progress takes (built without validating again: every field
        comes from an event the schema validated, whose bounds are at least as tight)."""
        event = self.event
        return Heartbeat.model_construct(
            event_id=event.event_id,
            title_id=event.title_id,
            episode_id=event.episode_id,
            position_s=self.position_s,
            duration_s=self.duration_s,
            client_ts=event.client_ts,
            device=event.device,
        )


class Effects(NamedTuple):
    """What an event changes besides the QoE sums it adds to."""

    play: bool = False
    """A first frame: a play for trending."""
    progress: ProgressMark | None = None


NOTHING_ELSE = Effects()
A_PLAY = Effects(play=True)


def minute_of(received_at: str) -> str:
    return received_at[:16]


def key_of(envelope: Envelope) -> QoeKey:
    event = envelope.event
    return QoeKey(
        minute_of(envelope.received_at), event.title_id, event.cdn, event.territory, event.device
    )


def fold(
    session: Session,
    envelope: Envelope,
    received_s: int,
    sums: dict[QoeKey, qoe.Aggregate],
) -> Effects | None:
    """Applies one event to its session, adding what it counts to ``sums`` (by QoE
    minute); answers what else it changes, or None for an event the session already
    applied (within the dedupe window)."""
    event = envelope.event
    mark = fingerprint(event.event_id)
    if mark in session.seen:
        return None
    session.seen[mark] = received_s
    key = key_of(envelope)
    delta = sums.get(key)
    if delta is None:
        delta = sums[key] = qoe.Aggregate()
    delta.events += 1
    effects = NOTHING_ELSE
    client_s = event.client_ts.timestamp()
    match event:
        case schema.HeartbeatEvent():
            session.bitrate_bps = event.bitrate_bps
            _played(session, delta, event.position_s, client_s)
            session.duration_s = event.duration_s
            effects = Effects(progress=ProgressMark(event, event.position_s, event.duration_s))
        case schema.SessionStart():
            if session.start_minute is None:
                session.start_minute = key.minute
                delta.views += 1
        case schema.FirstFrame(startup_ms=startup_ms):
            if not session.played:
                session.played = True
                delta.add_startup(startup_ms)
                effects = A_PLAY
            session.last_ts = client_s if session.last_ts is None else session.last_ts
        case schema.StallStart():
            session.stalls += 1
            delta.stalls += 1
        case schema.StallEnd(stall_ms=stall_ms):
            session.stall_ms += stall_ms
            delta.stall_ms += stall_ms
        case schema.ErrorEvent(fatal=fatal):
            delta.errors += 1
            if fatal and not session.failed:
                session.failed = True
                start = QoeKey(session.start_minute or key.minute, *key.dims)
                sums.setdefault(start, qoe.Aggregate()).failed_views += 1
        case schema.SessionEnd():
            _played(session, delta, event.position_s, client_s)
            if session.duration_s is not None:
                position = min(event.position_s, session.duration_s)
                effects = Effects(progress=ProgressMark(event, position, session.duration_s))
            if not session.ended and session.played:
                session.ended = True
                share = qoe.ratio(session.stall_ms, session.watch_ms + session.stall_ms) or 0.0
                delta.ended += 1
                delta.smoothness += qoe.smoothness_score(session.stalls, share)
        case schema.BitrateSwitch(to_bps=to_bps):
            session.bitrate_bps = to_bps
    return effects


def _played(
    session: Session,
    delta: qoe.Aggregate,
    position_s: float,
    client_s: float,
) -> None:
    """Playing time since the last heartbeat: how far the position moved, at most the
    client time that passed (a seek is not playing), nothing for an older event; weighted
    by the rendition playing for the average bit rate."""
    if session.last_ts is not None and client_s > session.last_ts:
        wall_ms = (client_s - session.last_ts) * 1000
        moved_ms = (
            wall_ms
            if session.last_position_s is None
            else max(0.0, position_s - session.last_position_s) * 1000
        )
        played_ms = min(wall_ms, moved_ms)
        session.watch_ms += played_ms
        delta.watch_ms += played_ms
        if session.bitrate_bps is not None:
            delta.bitrate_ms += session.bitrate_bps * played_ms
    if session.last_ts is None or client_s >= session.last_ts:
        session.last_ts = client_s
        session.last_position_s = position_s
