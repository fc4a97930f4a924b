"""EventIngest: valid events go out even beside invalid ones; refused records are retried;
another account's profile is refused per event."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest

from flixstack.errors import InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from flixstack.events.ingest import PUT_ATTEMPTS, EventIngest, Record

from .test_schema import body, event

T = TypeVar("T")


class Profiles:
    def read_as(self, account: str, profile_id: str, read: Callable[[], T]) -> tuple[Any, T]:
        if (account, profile_id) != ("acct-1", "p1"):
            raise NotFound(f"no profile {profile_id}")
        return object(), read()


class Sink:
    """Refuses the first ``refuse`` records of each of its first ``times`` calls."""

    def __init__(self, refuse: int = 0, times: int = 0) -> None:
        self.refuse, self.times = refuse, times
        self.put_records: list[Record] = []
        self.calls = 0

    def put(self, records: Sequence[Record]) -> list[Record]:
        self.calls += 1
        refused = list(records[: self.refuse]) if self.calls <= self.times else []
        self.put_records += [r for r in records if r not in refused]
        return refused


def ingest(sink: Sink, *events: Any, account: str = "acct-1") -> Any:
    return EventIngest(sink, Profiles(), sleep=lambda _s: None).ingest(account, body(*events))


def test_accepted_events_become_envelopes_keyed_by_session() -> None:
    sink = Sink()
    report = ingest(sink, event("session_start"), event("first_frame", session_id="s-2"))
    assert (report.accepted, report.rejected) == (2, [])
    assert [r.partition_key for r in sink.put_records] == ["s-1", "s-2"]
    envelope = json.loads(sink.put_records[0].data)
    assert envelope["account"] == "acct-1"
    assert envelope["type"] == "session_start"
    assert envelope["client_ts"] == "2026-12-04T19:00:00.000000Z"
    assert envelope["received_at"].endswith("Z")


def test_invalid_and_foreign_events_are_refused_by_index_and_the_rest_kept() -> None:
    sink = Sink()
    report = ingest(
        sink,
        event("heartbeat", 1, profile_id="someone-else"),
        event("heartbeat", 2, buffer_s=-1),
        event("heartbeat", 3),
    )
    assert report.accepted == 1
    assert [(r.index, r.event_id, r.reason) for r in report.rejected] == [
        (0, "e-heartbeat-1", "unknown_profile"),
        (1, "e-heartbeat-2", "invalid_event"),
    ]
    assert report.rejected[1].errors[0]["loc"][-1] == "buffer_s"
    assert [json.loads(r.data)["event_id"] for r in sink.put_records] == ["e-heartbeat-3"]


def test_refused_records_are_retried_until_the_stream_takes_them() -> None:
    sink = Sink(refuse=2, times=PUT_ATTEMPTS - 1)
    report = ingest(sink, *(event("heartbeat", n) for n in range(5)))
    assert report.accepted == 5
    assert sink.calls == PUT_ATTEMPTS
    assert sorted(json.loads(r.data)["event_id"] for r in sink.put_records) == [
        f"e-heartbeat-{n}" for n in range(5)
    ]


def test_a_stream_that_keeps_refusing_is_a_503_for_the_client_to_retry() -> None:
    sink = Sink(refuse=1, times=PUT_ATTEMPTS)
    with pytest.raises(ServiceUnavailable, match="1 of 2") as raised:
        ingest(sink, event("heartbeat", 1), event("heartbeat", 2))
    assert raised.value.reason == "stream_busy"


def test_bad_batches_are_400_and_oversized_ones_413() -> None:
    engine = EventIngest(Sink(), Profiles())
    with pytest.raises(InvalidInput) as bad:
        engine.ingest("acct-1", b'{"events": []}')
    assert bad.value.reason == "bad_batch"
    with pytest.raises(PayloadTooLarge):
        engine.ingest("acct-1", body(*(event("heartbeat", n) for n in range(501))))
