"""Heartbeats into progress: latest wins, replays change nothing, sessions, rejections."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from flixstack.viewers.models import Heartbeat, HeartbeatBatch, Progress, stamp
from flixstack.viewers.rules import (
    CLOCK_SKEW,
    RECENT_EVENTS,
    SESSION_GAP,
    Outcome,
    check,
    fingerprint,
    merge,
)
from tests.unit.catalog.conftest import title
from tests.unit.viewers.conftest import T0, beat, playable_series

APPLIED, STALE, DUPLICATE = Outcome.APPLIED, Outcome.STALE, Outcome.DUPLICATE
NOW = "2027-06-01T21:00:00.000Z"


def fold(*batches: list[Heartbeat]) -> tuple[Progress | None, list[list[Outcome]]]:
    """Merges batch after batch, as the service does with what it stored before."""
    state: Progress | None = None
    outcomes = []
    for batch in batches:
        merged = merge(state, batch, NOW)
        state = merged.progress
        outcomes.append(merged.outcomes)
    return state, outcomes


# --- validation ----------------------------------------------------------------------------------
def good() -> dict[str, Any]:
    return beat(1).model_dump(mode="json")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"client_ts": "2027-06-01T20:00:00"}, id="naive-client-time"),
        pytest.param({"duration_s": 0}, id="zero-duration"),
        pytest.param({"position_s": -1}, id="negative-position"),
        pytest.param({"event_id": "e" * 65}, id="event-id-over-64"),
        pytest.param({"event_id": "a#b"}, id="event-id-with-a-hash"),
        pytest.param({"device": ""}, id="no-device"),
        pytest.param({"device": "d" * 65}, id="device-over-64"),
        pytest.param({"title_id": "a#PROGRESS#b"}, id="title-id-with-key-syntax"),
        pytest.param({"extra": 1}, id="unknown-field"),
    ],
)
def test_bad_heartbeats_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Heartbeat.model_validate({**good(), **change})


@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_holds_1_to_100_heartbeats(count: int) -> None:
    with pytest.raises(ValidationError):
        HeartbeatBatch.model_validate({"heartbeats": [good()] * count})
    assert len(HeartbeatBatch.model_validate({"heartbeats": [good()] * 100}).heartbeats) == 100


def test_client_times_are_held_in_utc_and_stored_as_sortable_text() -> None:
    heartbeat = Heartbeat.model_validate({**good(), "client_ts": "2027-06-01T22:00:00+02:00"})
    assert heartbeat.client_ts == T0
    assert heartbeat.model_dump(mode="json")["client_ts"] == "2027-06-01T20:00:00.000000Z"
    # fixed width: text order is time order, which is what DynamoDB compares
    times = [T0 + timedelta(microseconds=m) for m in (0, 1, 999_999, 1_000_000)]
    assert sorted(stamp(t) for t in times) == [stamp(t) for t in times]


# --- latest wins -----------------------------------------------------------------------------------
def test_the_first_heartbeat_starts_the_progress_and_its_session() -> None:
    merged = merge(None, [beat(1)], NOW)
    assert merged.outcomes == [APPLIED]
    assert merged.progress is not None
    assert (merged.progress.client_ts, merged.progress.version) == (T0 + timedelta(minutes=1), 1)
    assert merged.progress.session_started == merged.progress.client_ts
    assert [s.started_at for s in merged.sessions] == [merged.progress.client_ts]


def test_a_later_heartbeat_wins_and_an_earlier_one_is_stale() -> None:
    progress, outcomes = fold([beat(10, position_s=600)], [beat(20, position_s=1200)], [beat(15)])
    assert outcomes == [[APPLIED], [APPLIED], [STALE]]
    assert progress is not None
    assert (progress.position_s, progress.event_id, progress.version) == (1200, "e20", 2)


def test_equal_client_times_are_settled_by_the_event_id() -> None:
    a, b = beat(5, "aaa", device="phone"), beat(5, "bbb", device="tv")
    for first, second in ((a, b), (b, a)):
        progress, _ = fold([first], [second])
        assert progress is not None
        assert progress.device == "tv"


def test_a_batch_in_any_order_applies_every_newer_heartbeat() -> None:
    merged = merge(None, [beat(3), beat(1), beat(2)], NOW)
    assert merged.outcomes == [APPLIED, APPLIED, APPLIED]
    assert merged.progress is not None
    assert merged.progress.event_id == "e3"
    assert merged.progress.version == 1  # one write for the whole batch


def test_two_devices_converge_whatever_order_their_batches_arrive_in() -> None:
    # GIVEN a phone and a TV watching the same title, interleaved in time
    phone = [beat(m, device="phone", position_s=m * 60) for m in (1, 4, 6)]
    tv = [beat(m, device="tv", position_s=m * 60) for m in (2, 3, 5)]
    batches = [phone[:2], phone[2:], tv[:1], tv[1:]]
    finals = set()
    # WHEN the batches arrive in every possible order
    for arrival in itertools.permutations(batches):
        progress, _ = fold(*arrival)
        assert progress is not None
        finals.add((progress.event_id, progress.device, progress.position_s))
    # THEN the latest heartbeat is what is stored, every time
    assert finals == {("e6", "phone", 360)}


# --- replays -----------------------------------------------------------------------------------------
def test_replaying_a_batch_changes_nothing_and_counts_duplicates() -> None:
    batch = [beat(1), beat(2), beat(3)]
    progress, _ = fold(batch)
    replay = merge(progress, batch, NOW)
    assert replay.outcomes == [DUPLICATE, DUPLICATE, DUPLICATE]
    assert not replay.changed
    assert replay.progress == progress


def test_an_event_id_twice_in_one_batch_counts_once() -> None:
    merged = merge(None, [beat(1, "same"), beat(1, "same")], NOW)
    assert merged.outcomes == [APPLIED, DUPLICATE]


def test_a_stale_heartbeat_stays_stale_when_replayed() -> None:
    progress, outcomes = fold([beat(5)], [beat(1)], [beat(1)])
    assert outcomes[1:] == [[STALE], [STALE]]
    assert progress is not None
    assert fingerprint("e1") not in progress.recent_events


def test_remembered_event_ids_are_bounded() -> None:
    batches = [[beat(b * 100 + i, f"b{b}e{i}") for i in range(100)] for b in range(3)]
    progress, _ = fold(*batches)
    assert progress is not None
    assert len(progress.recent_events) == RECENT_EVENTS
    assert progress.recent_events[-1] == fingerprint("b2e99")
    assert merge(progress, batches[-1], NOW).outcomes == [DUPLICATE] * 100


# --- sessions ----------------------------------------------------------------------------------------
def test_heartbeats_within_the_gap_carry_one_session() -> None:
    gap = SESSION_GAP.total_seconds() / 60
    progress, _ = fold([beat(0)], [beat(gap)])
    assert progress is not None
    assert progress.session_started == T0


def test_a_long_pause_starts_a_new_session() -> None:
    gap = SESSION_GAP.total_seconds() / 60
    merged = merge(None, [beat(0), beat(10), beat(10 + gap + 1), beat(10 + gap + 2)], NOW)
    assert [(s.started_at - T0, s.last_at - T0) for s in merged.sessions] == [
        (timedelta(0), timedelta(minutes=10)),
        (timedelta(minutes=10 + gap + 1), timedelta(minutes=10 + gap + 2)),
    ]


def test_another_episode_starts_a_new_session() -> None:
    merged = merge(
        None,
        [beat(0, episode_id="s-s1e1", title_id="s"), beat(1, episode_id="s-s1e2", title_id="s")],
        NOW,
    )
    assert [s.episode_id for s in merged.sessions] == ["s-s1e1", "s-s1e2"]
    assert merged.progress is not None
    assert merged.progress.episode_id == "s-s1e2"


# --- what is refused -----------------------------------------------------------------------------------
SERIES = playable_series("s", {1: 2}, maturity_rating="TV-PG")
MOVIE = title("movie", maturity_rating="PG-13")
LATER = T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("doc", "heartbeat", "level", "reason"),
    [
        pytest.param(MOVIE, beat(1), 18, None, id="movie"),
        pytest.param(SERIES, beat(1, title_id="s", episode_id="s-s1e2"), 18, None, id="episode"),
        pytest.param(None, beat(1), 18, "unknown_title", id="title-not-visible"),
        pytest.param(MOVIE, beat(1), 12, "maturity_restricted", id="too-mature"),
        pytest.param(SERIES, beat(1, title_id="s"), 18, "episode_required", id="series-no-episode"),
        pytest.param(
            SERIES, beat(1, title_id="s", episode_id="s-s9e9"), 18, "unknown_episode", id="no-such"
        ),
        pytest.param(MOVIE, beat(1, episode_id="x"), 18, "unknown_episode", id="movie-episode"),
    ],
)
def test_heartbeats_are_checked_against_the_title(
    doc: Any, heartbeat: Heartbeat, level: int, reason: str | None
) -> None:
    assert check(doc, heartbeat, level, LATER) == reason


def test_a_device_clock_far_ahead_is_refused() -> None:
    skew = CLOCK_SKEW.total_seconds() / 60
    assert check(MOVIE, beat(60 + skew - 1), 18, LATER) is None
    assert check(MOVIE, beat(60 + skew + 1), 18, LATER) == "clock_ahead"
