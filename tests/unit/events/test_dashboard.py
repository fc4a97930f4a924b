"""The QoE report: the window, per-minute figures, the startup histogram and breakdowns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flixstack.events import qoe
from flixstack.events.dashboard import STARTUP_BINS_MS, QoeDashboard, histogram
from flixstack.events.sessions import QoeKey

NOW = datetime(2026, 12, 5, 10, 5, tzinfo=UTC)


def minute(startups: list[float], stall_ms: float = 0, watch_ms: float = 10_000) -> qoe.Aggregate:
    aggregate = qoe.Aggregate(views=len(startups), watch_ms=watch_ms, stall_ms=stall_ms)
    for value in startups:
        aggregate.add_startup(value)
    return aggregate


class Source:
    def __init__(self, rows: list[tuple[QoeKey, qoe.Aggregate]]) -> None:
        self.rows = rows
        self.asked: list[str] = []

    def qoe(self, hours: Sequence[str]) -> list[tuple[QoeKey, qoe.Aggregate]]:
        self.asked += hours
        return [(k, a) for k, a in self.rows if k.hour in hours]


ROWS = [
    (QoeKey("2026-12-05T09:40", "t1", "edge-a", "US", "web"), minute([400, 600], stall_ms=500)),
    (QoeKey("2026-12-05T10:01", "t1", "edge-b", "GB", "web"), minute([2500])),
    (QoeKey("2026-12-05T10:02", "t2", "edge-a", "US", "tv"), minute([900, 12_000, 300])),
    (QoeKey("2026-12-05T08:00", "t2", "edge-a", "US", "tv"), minute([100])),  # too old
]


def test_the_report_covers_the_window_and_breaks_it_down() -> None:
    source = Source(ROWS)
    report = QoeDashboard(source, clock=lambda: NOW).report(minutes=30)
    assert source.asked == ["2026-12-05T09", "2026-12-05T10"]
    assert report.overall.plays == 6
    assert [m.minute for m in report.minutes] == [
        "2026-12-05T09:40",
        "2026-12-05T10:01",
        "2026-12-05T10:02",
    ]
    assert report.minutes[0].rebuffer_ratio == 500 / 10_500
    assert [g.name for g in report.by_cdn] == ["edge-a", "edge-b"]
    assert [(g.name, g.plays) for g in report.by_territory] == [("US", 5), ("GB", 1)]
    assert [(g.name, g.plays) for g in report.top_titles] == [
        ("t1", 3),
        ("t2", 3),
    ]  # a tie: by name
    assert [g.label for g in report.top_titles] == [None, None]
    named = QoeDashboard(source, title_name={"t1": "First"}.get, clock=lambda: NOW)
    assert [g.label for g in named.report(minutes=30).top_titles] == ["First", None]
    one_title = QoeDashboard(source, clock=lambda: NOW).report(minutes=30, title_id="t2")
    assert one_title.overall.plays == 3


def test_histogram_bars_hold_each_play_once_and_the_last_holds_the_rest() -> None:
    bars = histogram(minute([100, 260, 600, 2500, 12_000, 60_000]).sketch)
    assert [b.upper_ms for b in bars] == [*STARTUP_BINS_MS, None]
    counts = {b.upper_ms: b.plays for b in bars}
    assert (counts[250], counts[500], counts[750], counts[3000], counts[None]) == (1, 1, 1, 1, 2)
    assert sum(counts.values()) == 6
