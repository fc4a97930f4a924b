"""The rules of viewing, as pure functions: profile maturity, merging heartbeats into
progress (the latest wins, replays change nothing), viewing sessions, when a title is
finished and what comes next."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flixstack.catalog.models import Episode, TitleDocument, TitleKind
from flixstack.errors import InvalidInput
from flixstack.viewers.models import (
    ADULT_MATURITY,
    KIDS_DEFAULT_MATURITY,
    KIDS_MAX_MATURITY,
    Heartbeat,
    HistoryEntry,
    Progress,
    RejectReason,
)

FINISHED_AT = 0.95
"""Watched this far, a title (or an episode) counts as finished."""
SESSION_GAP = timedelta(minutes=30)
"""A pause longer than this (or another episode) starts a new viewing session."""
CLOCK_SKEW = timedelta(minutes=10)
"""How far ahead of the server a device clock may be; later heartbeats are refused, or
one wrong clock would hold a title's progress for good."""
RECENT_EVENTS = 128
"""How many applied event ids a progress item remembers (more than a batch holds)."""


# --- profiles --------------------------------------------------------------------------------
def settle_maturity(
    *, kids: bool, requested: int | None, was_kids: bool | None, current: int | None
) -> int:
    """The maturity level a profile ends with after a create (``current`` None) or an edit.

    A kids profile gets ``KIDS_DEFAULT_MATURITY`` unless a level is chosen, may never
    exceed ``KIDS_MAX_MATURITY``, and a profile that becomes a kids profile is brought
    down to the kids default."""
    if requested is not None:
        if kids and requested > KIDS_MAX_MATURITY:
            raise InvalidInput(
                f"a kids profile's maturity level is at most {KIDS_MAX_MATURITY}, not {requested}",
                reason="kids_maturity",
            )
        return requested
    if current is None:
        return KIDS_DEFAULT_MATURITY if kids else ADULT_MATURITY
    if kids and not was_kids:
        return min(current, KIDS_DEFAULT_MATURITY)
    return current


def suitable(doc: TitleDocument, maturity_level: int) -> bool:
    """May a profile of this maturity level see the title?"""
    return doc.maturity_level <= maturity_level


# --- how far along ---------------------------------------------------------------------------
def fraction(position_s: float, duration_s: float) -> float:
    """How much is watched, 0..1 (a position past the end counts as the end)."""
    return min(max(position_s / duration_s, 0.0), 1.0) if duration_s > 0 else 0.0


def finished(position_s: float, duration_s: float) -> bool:
    return fraction(position_s, duration_s) >= FINISHED_AT


def percent(position_s: float, duration_s: float) -> float:
    return round(100 * fraction(position_s, duration_s), 1)


# --- heartbeats --------------------------------------------------------------------------------
def check(
    doc: TitleDocument | None, heartbeat: Heartbeat, maturity_level: int, now: datetime
) -> RejectReason | None:
    """Why a heartbeat cannot be recorded (None if it can). ``doc`` is the title as the
    viewer's territory sees it now (None if it is not visible there)."""
    if heartbeat.client_ts > now + CLOCK_SKEW:
        return "clock_ahead"
    if doc is None:
        return "unknown_title"
    if not suitable(doc, maturity_level):
        return "maturity_restricted"
    if doc.kind is TitleKind.SERIES and heartbeat.episode_id is None:
        return "episode_required"
    if heartbeat.episode_id is not None and heartbeat.episode_id not in doc.episodes:
        return "unknown_episode"  # including any episode id sent for a movie
    return None


def fingerprint(event_id: str) -> str:
    """A short stand-in for an event id (64 bits: collisions are not a practical worry)."""
    return hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()


def order(heartbeat: Heartbeat | Progress) -> tuple[datetime, str]:
    """Which of two heartbeats is later: client time, then event id (so any two devices
    agree, whatever order their heartbeats arrive in)."""
    return heartbeat.client_ts, heartbeat.event_id


class Outcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Merge:
    progress: Progress | None
    """The state after the heartbeats (the stored one if none applied)."""
    outcomes: list[Outcome]
    """One per heartbeat, in the order given."""
    sessions: list[HistoryEntry]
    """The viewing sessions the applied heartbeats touched, as they now stand."""

    @property
    def changed(self) -> bool:
        return Outcome.APPLIED in self.outcomes


def continues(progress: Progress, heartbeat: Heartbeat) -> bool:
    """Does a (later) heartbeat carry on the session of the progress?"""
    return (
        progress.episode_id == heartbeat.episode_id
        and heartbeat.client_ts - progress.client_ts <= SESSION_GAP
    )


def merge(stored: Progress | None, heartbeats: Sequence[Heartbeat], now: str) -> Merge:
    """Folds one title's heartbeats (in any order) into its stored progress.

    Oldest first, each heartbeat is a duplicate if its event id was applied before, stale
    if it is not later than the progress, and applied otherwise; the result is what
    applying them one by one, in any interleaving, would leave."""
    outcomes: dict[int, Outcome] = {}
    sessions: dict[tuple[datetime, str | None], HistoryEntry] = {}
    state = stored
    for index in sorted(range(len(heartbeats)), key=lambda i: order(heartbeats[i])):
        heartbeat = heartbeats[index]
        mark = fingerprint(heartbeat.event_id)
        if state is not None and mark in state.recent_events:
            outcomes[index] = Outcome.DUPLICATE
            continue
        if state is not None and order(heartbeat) <= order(state):
            outcomes[index] = Outcome.STALE
            continue
        started = heartbeat.client_ts
        if state is not None and continues(state, heartbeat):
            started = state.session_started
        recent = [*(state.recent_events if state else []), mark][-RECENT_EVENTS:]
        state = Progress(
            title_id=heartbeat.title_id,
            episode_id=heartbeat.episode_id,
            position_s=heartbeat.position_s,
            duration_s=heartbeat.duration_s,
            client_ts=heartbeat.client_ts,
            event_id=heartbeat.event_id,
            device=heartbeat.device,
            session_started=started,
            recent_events=recent,
            updated_at=now,
            version=(stored.version + 1) if stored else 1,
        )
        sessions[(started, state.episode_id)] = session_of(state)
        outcomes[index] = Outcome.APPLIED
    return Merge(state, [outcomes[i] for i in range(len(heartbeats))], list(sessions.values()))


def session_of(progress: Progress) -> HistoryEntry:
    return HistoryEntry(
        title_id=progress.title_id,
        episode_id=progress.episode_id,
        started_at=progress.session_started,
        last_at=progress.client_ts,
        position_s=progress.position_s,
        duration_s=progress.duration_s,
        device=progress.device,
    )


# --- what to continue ------------------------------------------------------------------------
def next_episode(doc: TitleDocument, episode_id: str) -> Episode | None:
    """The first playable episode after this one, across seasons in number order; None
    after the last (or if the episode is gone)."""
    ordered = doc.ordered_episodes()
    ids = [episode.id for episode in ordered]
    if episode_id not in ids:
        return None
    return next((e for e in ordered[ids.index(episode_id) + 1 :] if e.asset is not None), None)


def episode_duration(episode: Episode) -> float | None:
    if episode.asset is not None:
        return episode.asset.duration_s
    return episode.runtime_min * 60.0 if episode.runtime_min else None


@dataclass(frozen=True)
class Resume:
    """Where a profile picks a title up again."""

    episode: Episode | None
    position_s: float
    duration_s: float | None
    up_next: bool


def resume_point(doc: TitleDocument, progress: Progress) -> Resume | None:
    """None when there is nothing to continue: a finished movie, a finished last episode
    (or an episode the series no longer has)."""
    done = finished(progress.position_s, progress.duration_s)
    if doc.kind is TitleKind.MOVIE:
        return None if done else Resume(None, progress.position_s, progress.duration_s, False)
    episode = doc.episodes.get(progress.episode_id or "")
    if episode is None:
        return None
    if not done:
        return Resume(episode, progress.position_s, progress.duration_s, False)
    following = next_episode(doc, episode.id)
    if following is None:
        return None
    return Resume(following, 0.0, episode_duration(following), True)
