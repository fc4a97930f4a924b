"""Quality of experience (QoE): per-minute aggregates, their percentiles and scores.

One ``Aggregate`` holds a minute of one title on one CDN, territory and device, as sums
that add up: stored aggregates are updated with ``ADD`` and any set of them (an hour, a
CDN across titles) merges by adding again. Startup times go into a relative-error sketch
(DDSketch's log buckets): its percentiles are within ``RELATIVE_ACCURACY`` of the exact
value, and two sketches merge bucket by bucket, which exact percentiles cannot.

What each figure means:

- startup time p50/p95: ``first_frame.startup_ms`` of the plays that started;
- rebuffer ratio: stalled time over stalled plus playing time;
- average bit rate: time-weighted, each heartbeat's bit rate over the playing time before it;
- error rate: views with a fatal error over views started;
- startup score (Mux): ``8 / (8 + startup_s) * 100``, averaged over plays;
- smoothness score (Mux): the mean of ``100 / sqrt(1 + (rebuffers / 2) ** 2)`` and
  ``100 * exp(-10 * rebuffer_fraction)``, per view when it ends, averaged over views.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

RELATIVE_ACCURACY = 0.01
"""Sketch percentiles are within 1 % of the exact value."""
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
MIN_MS = 1.0
"""Startup times below this share the sketch's lowest bucket."""


def bucket_of(value_ms: float) -> int:
    """The sketch bucket of a value: bucket ``i`` holds (gamma^(i-1), gamma^i]."""
    return max(0, math.ceil(math.log(max(value_ms, MIN_MS)) / _LOG_GAMMA))


def bucket_value(index: int) -> float:
    """A bucket's representative: within RELATIVE_ACCURACY of everything in it."""
    if index <= 0:
        return MIN_MS
    return 2 * _GAMMA**index / (_GAMMA + 1)


def quantile(buckets: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0..1) of a sketch by nearest rank (the value at rank
    ``ceil(q * n)``, 1-based: the smallest value at least ``q`` of all are at or below),
    None when it is empty."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= rank:
            return bucket_value(index)
    return bucket_value(max(buckets))


def startup_score(startup_ms: float) -> float:
    """Mux's startup time score of one play."""
    return 8 / (8 + startup_ms / 1000) * 100


def smoothness_score(rebuffers: int, rebuffer_fraction: float) -> float:
    """Mux's smoothness score of one view, from its rebuffer count and the fraction of
    its time spent rebuffering."""
    by_count = 100 / math.sqrt(1 + (rebuffers / 2) ** 2)
    by_share = 100 * math.exp(-10 * rebuffer_fraction)
    return (by_count + by_share) / 2


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


@dataclass
class Aggregate:
    """Sums of one minute (or of any merge of minutes and keys)."""

    events: int = 0
    """Events applied (every type)."""
    views: int = 0
    """session_start events."""
    plays: int = 0
    """first_frame events."""
    startup_ms: float = 0.0
    startup_score: float = 0.0
    watch_ms: float = 0.0
    stall_ms: float = 0.0
    stalls: int = 0
    bitrate_ms: float = 0.0
    """Sum of bit rate x playing ms (time-weighted average bit rate = this / watch_ms)."""
    errors: int = 0
    failed_views: int = 0
    """Views whose first fatal error came in (counted once per view)."""
    ended: int = 0
    """Views scored at their session_end."""
    smoothness: float = 0.0
    sketch: dict[int, int] = field(default_factory=dict)
    """Startup-time sketch: bucket index -> plays."""

    def add(self, other: Aggregate) -> None:
        # spelled out: the consumer adds one of these per session and batch
        self.events += other.events
        self.views += other.views
        self.plays += other.plays
        self.startup_ms += other.startup_ms
        self.startup_score += other.startup_score
        self.watch_ms += other.watch_ms
        self.stall_ms += other.stall_ms
        self.stalls += other.stalls
        self.bitrate_ms += other.bitrate_ms
        self.errors += other.errors
        self.failed_views += other.failed_views
        self.ended += other.ended
        self.smoothness += other.smoothness
        sketch = self.sketch
        for index, count in other.sketch.items():
            sketch[index] = sketch.get(index, 0) + count

    def add_startup(self, startup_ms: float) -> None:
        self.plays += 1
        self.startup_ms += startup_ms
        self.startup_score += startup_score(startup_ms)
        index = bucket_of(startup_ms)
        self.sketch[index] = self.sketch.get(index, 0) + 1

    def sums(self) -> dict[str, float]:
        """The non-zero sums, by field name (what a store ADDs)."""
        return {f: getattr(self, f) for f in SUM_FIELDS if getattr(self, f)}

    def summary(self) -> QoeSummary:
        return QoeSummary(
            views=self.views,
            plays=self.plays,
            startup_p50_ms=quantile(self.sketch, 0.50),
            startup_p95_ms=quantile(self.sketch, 0.95),
            startup_mean_ms=ratio(self.startup_ms, self.plays),
            rebuffer_ratio=ratio(self.stall_ms, self.watch_ms + self.stall_ms),
            average_bitrate_bps=ratio(self.bitrate_ms, self.watch_ms),
            error_rate=ratio(self.failed_views, self.views),
            startup_score=ratio(self.startup_score, self.plays),
            smoothness_score=ratio(self.smoothness, self.ended),
            watch_s=self.watch_ms / 1000,
            stalls=self.stalls,
            errors=self.errors,
        )


SUM_FIELDS = tuple(f.name for f in fields(Aggregate) if f.name != "sketch")


@dataclass(frozen=True)
class QoeSummary:
    """What a dashboard shows of an aggregate (None where there is nothing to divide)."""

    views: int
    plays: int
    startup_p50_ms: float | None
    startup_p95_ms: float | None
    startup_mean_ms: float | None
    rebuffer_ratio: float | None
    average_bitrate_bps: float | None
    error_rate: float | None
    startup_score: float | None
    smoothness_score: float | None
    watch_s: float
    stalls: int
    errors: int


def merged(aggregates: Iterable[Aggregate]) -> Aggregate:
    total = Aggregate()
    for aggregate in aggregates:
        total.add(aggregate)
    return total
