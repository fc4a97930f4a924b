"""Trending: each territory's plays, time-decayed, so that a title's score halves every
``HALF_LIFE_H`` hours unless viewers keep starting it.

A play at time t adds ``2 ** ((t - epoch_start) / HALF_LIFE)`` to its title's counter
in the current decay epoch. Adding is commutative, so any number of consumers can ``ADD``
to one counter, late events included, and the score now is the sum of every epoch's counter
times ``2 ** -((now - its epoch_start) / HALF_LIFE)``. Epochs keep the weights small
(at most ``2 ** EPOCH_HALF_LIVES``); a reader reads the current epoch and the one before,
whose plays are ``EPOCH_HALF_LIVES`` half-lives old by the time a third would matter.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

HALF_LIFE_H = 12.0
EPOCH_HALF_LIVES = 32
_HALF_LIFE_S = HALF_LIFE_H * 3600
EPOCH_S = _HALF_LIFE_S * EPOCH_HALF_LIVES


def epoch_of(at: datetime) -> int:
    return math.floor(at.timestamp() / EPOCH_S)


def weight(at: datetime) -> float:
    """What one play at ``at`` adds to its epoch's counter."""
    seconds = at.timestamp()
    return float(2.0 ** ((seconds - epoch_of(at) * EPOCH_S) / _HALF_LIFE_S))


def epochs_to_read(now: datetime) -> tuple[int, int]:
    current = epoch_of(now)
    return current, current - 1


def score(counters: Iterable[tuple[int, float]], now: datetime) -> float:
    """A title's score now from its (epoch, counter) pairs: its plays, each halved per
    half-life since it happened."""
    seconds = now.timestamp()
    return float(
        sum(
            counter * 2.0 ** -((seconds - epoch * EPOCH_S) / _HALF_LIFE_S)
            for epoch, counter in counters
        )
    )


class TrendingSource(Protocol):
    def trending(self, territory: str, now: datetime, limit: int = 20) -> list[tuple[str, float]]:
        """The territory's titles by score now, highest first."""
        ...


RANK_LIMIT = 100
"""Titles a ranking keeps (a row shows those licensed where the viewer is)."""


class TrendingRanks:
    """Each territory's ranking, read from the counters at most every ``ttl_s`` seconds
    per process: the counters grow with every batch of events, a row needs them to the
    minute, and the read path stays in memory (the near-cache idea)."""

    def __init__(
        self,
        source: TrendingSource,
        ttl_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._clock = clock
        self._held: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def ranked(self, territory: str) -> list[str]:
        with self._lock:
            held = self._held.get(territory)
        if held is not None and self._monotonic() - held[0] < self._ttl_s:
            return held[1]
        ranked = [title for title, _ in self._source.trending(territory, self._clock(), RANK_LIMIT)]
        with self._lock:
            self._held[territory] = (self._monotonic(), ranked)
        return ranked
