"""The event consumer over in-process stores: what a session's events add up to, and the
delivery guarantees (duplicates once, poison to the dead-letter queue, a failed session
retried alone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flixstack.errors import ServiceUnavailable
from flixstack.events import lake, qoe, schema, trending
from flixstack.events.consumer import EventConsumer, StreamRecord
from flixstack.events.memory import (
    MemoryAnalyticsStore,
    MemoryDeadLetters,
    MemoryLake,
    MemoryProgress,
)
from flixstack.viewers.models import HeartbeatBatch, ProgressReport
from tests.unit.events.test_schema import event

T0 = datetime(2026, 12, 5, 9, 30, 0, tzinfo=UTC)
RECEIVED = "2026-12-05T09:30:15.000000Z"


def record(n: int, data: dict[str, Any] | bytes, account: str = "acct-1") -> StreamRecord:
    if isinstance(data, bytes):
        return StreamRecord(str(1000 + n), "s-x", data, "shard-0")
    parsed = schema.parse_event(data)
    return StreamRecord(
        str(1000 + n), parsed.session_id, lake.encode(account, RECEIVED, parsed), "shard-0"
    )


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def a_view(session: str = "s-1", profile: str = "p1") -> list[dict[str, Any]]:
    """Start, first frame after 500 ms, 10 s of play at 2.5 Mb/s, a 1 s stall, 9 s more at
    1 Mb/s, a fatal error, the end."""
    common = {"session_id": session, "profile_id": profile}
    return [
        event("session_start", 1, client_ts=at(0), **common),
        event("first_frame", 2, client_ts=at(0.5), startup_ms=500, **common),
        event("heartbeat", 3, client_ts=at(10.5), position_s=10, bitrate_bps=2_500_000, **common),
        event("stall_start", 4, client_ts=at(11), position_s=10.5, **common),
        event("stall_end", 5, client_ts=at(12), position_s=10.5, stall_ms=1000, **common),
        event("bitrate_switch", 6, client_ts=at(12), to_bps=1_000_000, **common),
        event("heartbeat", 7, client_ts=at(21), position_s=19, bitrate_bps=1_000_000, **common),
        event("error", 8, client_ts=at(21.5), code="bufferStalledError", fatal=True, **common),
        event("session_end", 9, client_ts=at(22), position_s=19, reason="error", **common),
    ]


def consumer(
    progress: Any = None,
) -> tuple[EventConsumer, MemoryAnalyticsStore, MemoryDeadLetters, MemoryLake, Any]:
    store, letters, files = MemoryAnalyticsStore(), MemoryDeadLetters(), MemoryLake()
    progress = progress or MemoryProgress()
    made = EventConsumer(
        store, progress, letters, lake_writer=files, clock=lambda: T0 + timedelta(seconds=30)
    )
    return made, store, letters, files, progress


def test_a_view_adds_up_to_its_qoe_minute_trend_progress_and_lake_rows() -> None:
    events, store, _, files, progress = consumer()
    records = [record(n, e) for n, e in enumerate(a_view())]
    outcome, failed = events.process(records)
    assert (outcome.applied, outcome.duplicates, failed) == (9, 0, set())

    [(key, minute)] = store.minutes.items()
    assert (key.minute, key.title_id, key.cdn, key.territory) == (
        "2026-12-05T09:30",
        "movie-a",
        "edge-a",
        "US",
    )
    summary = minute.summary()
    assert (summary.views, summary.plays, summary.stalls, summary.errors) == (1, 1, 1, 1)
    assert summary.startup_p50_ms == pytest.approx(500, rel=qoe.RELATIVE_ACCURACY)
    assert summary.error_rate == 1.0
    # played 10 s (to the first heartbeat) + 9 s (position 10 -> 19); stalled 1 s
    assert minute.watch_ms == pytest.approx(19_000)
    assert summary.rebuffer_ratio == pytest.approx(1 / 20)
    assert summary.average_bitrate_bps == pytest.approx((10 * 2.5e6 + 9 * 1e6) / 19)
    assert summary.startup_score == pytest.approx(qoe.startup_score(500))
    assert summary.smoothness_score == pytest.approx(qoe.smoothness_score(1, 1 / 20))

    [(trend_key, weight)] = store.counters.items()
    assert trend_key[:2] == ("US", "movie-a")
    assert trending.score([(trend_key[2], weight)], T0) == pytest.approx(1.0, rel=1e-3)

    # progress: the latest heartbeat-like event of the title, once (the session's end)
    [(account, profile, territory, batch)] = progress.calls
    assert (account, profile, territory) == ("acct-1", "p1", "US")
    assert [(b.event_id, b.position_s) for b in batch.heartbeats] == [("e-session_end-9", 19)]
    [rows] = files.files.values()
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in a_view()]
    assert rows[0]["account"] == "acct-1"
    assert rows[0]["startup_ms"] is None
    assert rows[1]["startup_ms"] == 500


def test_a_replayed_batch_and_a_resent_event_count_once() -> None:
    events, store, _, files, _progress = consumer()
    view = a_view()
    events.process([record(n, e) for n, e in enumerate(view[:5])])
    before = {k: v.sums() for k, v in store.minutes.items()}
    # the source retries the same records, and the client resends two events in a new batch
    outcome, _ = events.process([record(n, e) for n, e in enumerate(view[:5])])
    assert (outcome.applied, outcome.duplicates) == (0, 5)
    outcome, _ = events.process([record(20, view[1]), record(21, view[5])])
    assert (outcome.applied, outcome.duplicates) == (1, 1)
    after = {k: v.sums() for k, v in store.minutes.items()}
    assert after[next(iter(after))]["plays"] == before[next(iter(before))]["plays"] == 1
    assert len(files.files) == 2  # the replay wrote nothing


def test_poison_records_go_to_the_dead_letter_queue_and_the_rest_is_applied() -> None:
    events, store, letters, _, _ = consumer()
    good = a_view()[0]
    invalid = lake.encode("acct-1", RECEIVED, schema.parse_event(good)).replace(b'"US"', b'"usa"')
    outcome, failed = events.process(
        [
            record(0, b"\x00 not json"),
            StreamRecord("1001", "s-1", invalid, "shard-0"),
            StreamRecord("1002", "s-1", b'{"type": "heartbeat"}', "shard-0"),
            record(3, good),
        ]
    )
    assert (outcome.poison, outcome.applied, failed) == (3, 1, set())
    reasons = [letter.reason for letter in letters.letters]
    assert reasons[0].startswith("not JSON")
    assert "territory" in reasons[1]
    assert "account" in reasons[2]
    assert letters.letters[0].body()["sequence_number"] == "1000"
    assert sum(m.views for m in store.minutes.values()) == 1


class FlakyProgress(MemoryProgress):
    """Fails every write for one profile until told to recover."""

    def __init__(self, failing: str) -> None:
        super().__init__()
        self.failing: str | None = failing

    def record(
        self, account: str, profile_id: str, batch: HeartbeatBatch, *, territory: str
    ) -> ProgressReport:
        if profile_id == self.failing:
            raise ServiceUnavailable("throttled")
        return super().record(account, profile_id, batch, territory=territory)


def test_a_session_whose_progress_fails_is_retried_alone_and_counted_once() -> None:
    progress = FlakyProgress("p2")
    events, store, _, _, _ = consumer(progress)
    ok, bad = a_view("s-ok", "p1"), a_view("s-bad", "p2")
    records = [record(n, e) for n, e in enumerate(ok + bad)]
    outcome, failed = events.process(records)
    assert failed == {r.sequence_number for r in records[9:]}
    assert outcome.failed_sessions == ["s-bad"]
    assert sum(m.views for m in store.minutes.values()) == 1
    # the event source retries from the first failed record
    progress.failing = None
    outcome, failed = events.process(records[9:])
    assert (outcome.applied, failed) == (9, set())
    assert sum(m.views for m in store.minutes.values()) == 2
    assert sum(m.plays for m in store.minutes.values()) == 2
