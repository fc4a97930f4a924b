"""The QoE dashboard's figures (``GET /admin/qoe/report``), from the per-minute aggregates:
the whole window, each minute of it, the distribution of startup times, and breakdowns by
CDN, territory, device and title."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from flixstack.events import qoe
from flixstack.events.consumer import hour_window
from flixstack.events.sessions import QoeKey

STARTUP_BINS_MS: tuple[float, ...] = (250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000)
"""Upper edges of the startup-time histogram's bars; the last bar holds everything above."""
TOP_TITLES = 10


class QoeSource(Protocol):
    def qoe(self, hours: Sequence[str]) -> list[tuple[QoeKey, qoe.Aggregate]]: ...


class Figures(BaseModel):
    """An aggregate's ``QoeSummary``, and how many events it counts (a summary field this
    model lacks is an error, not dropped)."""

    model_config = ConfigDict(extra="forbid")

    events: int
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

    @classmethod
    def of(cls, aggregate: qoe.Aggregate) -> Figures:
        return cls(events=aggregate.events, **dataclasses.asdict(aggregate.summary()))


class Minute(Figures):
    minute: str = Field(description="YYYY-MM-DDTHH:MM, UTC")


class Group(Figures):
    name: str
    label: str | None = Field(default=None, description="A title's name, for title groups.")


class Bar(BaseModel):
    upper_ms: float | None = Field(description="The bar's upper edge; None for the last one.")
    plays: int


class QoeReport(BaseModel):
    since: str
    until: str
    overall: Figures
    minutes: list[Minute]
    startup_histogram: list[Bar]
    by_cdn: list[Group]
    by_territory: list[Group]
    by_device: list[Group]
    top_titles: list[Group]


class QoeDashboard:
    def __init__(
        self,
        source: QoeSource,
        title_name: Callable[[str], str | None] = lambda _: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._title_name = title_name
        self._clock = clock

    def report(self, minutes: int, title_id: str | None = None) -> QoeReport:
        now = self._clock()
        since = f"{now - timedelta(minutes=minutes):%Y-%m-%dT%H:%M}"
        rows = [
            (key, aggregate)
            for key, aggregate in self._source.qoe(hour_window(now, minutes))
            if key.minute >= since and (title_id is None or key.title_id == title_id)
        ]
        overall = qoe.merged(a for _, a in rows)
        by_minute = _grouped(rows, lambda k: k.minute)
        return QoeReport(
            since=since,
            until=f"{now:%Y-%m-%dT%H:%M}",
            overall=Figures.of(overall),
            minutes=[
                Minute(minute=name, **Figures.of(a).model_dump())
                for name, a in sorted(by_minute.items())
            ],
            startup_histogram=histogram(overall.sketch),
            by_cdn=_groups(rows, lambda k: k.cdn),
            by_territory=_groups(rows, lambda k: k.territory),
            by_device=_groups(rows, lambda k: k.device),
            top_titles=[
                group.model_copy(update={"label": self._title_name(group.name)})
                for group in _groups(rows, lambda k: k.title_id)[:TOP_TITLES]
            ],
        )


def histogram(sketch: dict[int, int]) -> list[Bar]:
    """The sketch's plays in the dashboard's startup-time bars."""
    counts = [0] * (len(STARTUP_BINS_MS) + 1)
    for index, plays in sketch.items():
        value = qoe.bucket_value(index)
        bar = next((n for n, edge in enumerate(STARTUP_BINS_MS) if value <= edge), -1)
        counts[bar] += plays
    edges: list[float | None] = [*STARTUP_BINS_MS, None]
    return [Bar(upper_ms=edge, plays=n) for edge, n in zip(edges, counts, strict=True)]


def _grouped(
    rows: Iterable[tuple[QoeKey, qoe.Aggregate]], by: Callable[[QoeKey], str]
) -> dict[str, qoe.Aggregate]:
    groups: dict[str, qoe.Aggregate] = {}
    for key, aggregate in rows:
        groups.setdefault(by(key), qoe.Aggregate()).add(aggregate)
    return groups


def _groups(
    rows: Iterable[tuple[QoeKey, qoe.Aggregate]], by: Callable[[QoeKey], str]
) -> list[Group]:
    """Groups by plays, most first."""
    groups = _grouped(rows, by)
    ranked = sorted(groups.items(), key=lambda item: (-item[1].plays, -item[1].views, item[0]))
    return [Group(name=name, **Figures.of(a).model_dump()) for name, a in ranked]
