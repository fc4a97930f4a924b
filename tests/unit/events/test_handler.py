"""The Lambda side of the consumer: a Kinesis event (tests/events) through the Powertools
batch processor, with partial batch failures and EMF metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flixstack import spec
from flixstack.events.consumer import EventConsumer
from flixstack.events.memory import MemoryAnalyticsStore, MemoryDeadLetters
from flixstack.events.wiring import EmfMetrics, EventBatchProcessor, handle
from tests.unit.events.test_consumer import FlakyProgress

EVENT = Path(__file__).parents[2] / "events" / "kinesis_player_events.json"
RECEIVED = datetime(2026, 12, 5, 9, 30, 15, tzinfo=UTC)
"""When the API received the fixture's events (their ``received_at``)."""


def soon_after() -> datetime:
    """The consumer's clock: a minute after the events arrived, whenever the test runs
    (sessions remember events for ``sessions.DEDUPE_WINDOW`` after they arrive)."""
    return RECEIVED + timedelta(minutes=1)


def kinesis_event() -> dict[str, Any]:
    return json.loads(EVENT.read_text())  # type: ignore[no-any-return]


def test_failed_sessions_are_batch_item_failures_and_poison_is_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, letters = MemoryAnalyticsStore(), MemoryDeadLetters()
    progress = FlakyProgress("p2")
    processor = EventBatchProcessor(
        EventConsumer(store, progress, letters, metrics=EmfMetrics(), clock=soon_after)
    )
    event = kinesis_event()
    response = handle(event, processor)
    bad = event["Records"][2]["kinesis"]["sequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": bad}]}
    assert letters.letters[0].reason.startswith("not JSON")
    assert letters.letters[0].record.shard.endswith("stream/flixstack-dev-events")
    assert set(store.stored) == {"s-ok"}

    emf = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    batch = next(m for m in emf if spec.METRIC_EVENTS in m)
    assert (batch[spec.METRIC_EVENTS], batch[spec.METRIC_POISON]) == ([2.0], [1.0])
    per_cdn = next(m for m in emf if spec.METRIC_STARTUP in m)
    assert per_cdn[spec.CDN_DIMENSION] == "edge-a"
    assert per_cdn[spec.METRIC_STARTUP] == [512.5]

    # the source retries from the failed record; now it goes through, the rest are repeats
    progress.failing = None
    retry = {"Records": event["Records"][2:]}
    assert handle(retry, processor) == {"batchItemFailures": []}
    assert set(store.stored) == {"s-ok", "s-bad"}
    assert processor.outcome.duplicates == 1


def test_a_batch_whose_shared_writes_fail_is_retried_whole() -> None:
    class Down(MemoryAnalyticsStore):
        def add_qoe(self, sums: Any) -> None:
            raise RuntimeError("table unavailable")

    store = Down()
    processor = EventBatchProcessor(
        EventConsumer(store, FlakyProgress(""), MemoryDeadLetters(), clock=soon_after)
    )
    with pytest.raises(RuntimeError, match="table unavailable"):
        handle(kinesis_event(), processor)
    assert store.stored == {}  # nothing marked applied: the whole batch comes again
