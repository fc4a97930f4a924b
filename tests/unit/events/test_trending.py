"""Trending: decayed play counts, across decay epochs, and the per-process ranking cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flixstack.events import trending

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
HALF = timedelta(hours=trending.HALF_LIFE_H)


def counters(*plays: datetime) -> list[tuple[int, float]]:
    """What the consumer's ADDs leave: one counter per epoch."""
    held: dict[int, float] = {}
    for at in plays:
        epoch = trending.epoch_of(at)
        held[epoch] = held.get(epoch, 0.0) + trending.weight(at)
    return list(held.items())


def test_a_play_counts_one_now_and_half_a_half_life_later() -> None:
    assert trending.score(counters(T0), T0) == pytest.approx(1.0)
    assert trending.score(counters(T0), T0 + HALF) == pytest.approx(0.5)
    assert trending.score(counters(T0, T0 + HALF), T0 + HALF) == pytest.approx(1.5)


def test_scores_carry_across_an_epoch_boundary() -> None:
    boundary = datetime.fromtimestamp((trending.epoch_of(T0) + 1) * trending.EPOCH_S, UTC)
    before, after = boundary - timedelta(minutes=1), boundary + timedelta(minutes=1)
    pairs = counters(before, after)
    assert len(pairs) == 2  # two epochs' counters
    current, previous = trending.epochs_to_read(after)
    assert {epoch for epoch, _ in pairs} == {current, previous}
    expected = 2.0 ** (-2 / 60 / trending.HALF_LIFE_H) + 1.0
    assert trending.score(pairs, after) == pytest.approx(expected)


def test_recent_plays_outrank_more_older_ones() -> None:
    fresh = trending.score(counters(T0 + 3 * HALF, T0 + 3 * HALF), T0 + 3 * HALF)
    stale = trending.score(counters(*[T0] * 10), T0 + 3 * HALF)
    assert fresh == pytest.approx(2.0)
    assert stale == pytest.approx(10 / 8)
    assert fresh > stale


class Source:
    def __init__(self) -> None:
        self.calls = 0
        self.ranking = [("a", 3.0), ("b", 1.0)]

    def trending(self, territory: str, now: datetime, limit: int = 20) -> list[tuple[str, float]]:
        self.calls += 1
        return self.ranking[:limit]


def test_rankings_are_read_at_most_once_per_ttl_per_territory() -> None:
    source, clock = Source(), [0.0]
    ranks = trending.TrendingRanks(source, ttl_s=30, monotonic=lambda: clock[0])
    assert ranks.ranked("US") == ["a", "b"]
    source.ranking = [("b", 5.0)]
    clock[0] = 29.0
    assert ranks.ranked("US") == ["a", "b"]
    assert ranks.ranked("GB") == ["b"]
    clock[0] = 31.0
    assert ranks.ranked("US") == ["b"]
    assert source.calls == 3
