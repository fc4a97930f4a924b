"""Player events end to end on the emulator: POST /events -> Kinesis -> the local poller ->
the consumer (the Lambda handler) -> QoE minutes, progress, trending and the Parquet lake,
which DuckDB reads back from S3. Duplicates count once; malformed events are refused at the
API; poison records on the stream and batches that keep failing reach the dead-letter
queue."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flixstack import spec
from flixstack.aws.analytics_store import DynamoAnalyticsStore
from flixstack.aws.clients import AwsClients
from flixstack.aws.lake_store import Lake
from flixstack.events import qoe, wiring
from flixstack.events.consumer import hour_window
from flixstack.local.events import StreamPoller
from flixstack.settings import Settings
from tests.conftest import eventually
from tests.integration.conftest import Device
from tests.integration.test_viewers import new_profile
from tests.unit.events.test_schema import event

pytestmark = pytest.mark.integration


@pytest.fixture
def consuming(bootstrapped: Settings, clients: AwsClients) -> Iterator[StreamPoller]:
    """The local event source mapping, running the consumer as `flixstack up` does."""
    processor = wiring.EventBatchProcessor(wiring.consumer(bootstrapped, clients, local_lake=True))
    poller = StreamPoller(bootstrapped, clients, lambda e: wiring.handle(e, processor))
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    yield poller
    stop.set()
    thread.join(timeout=10)


def dead_letters(settings: Settings, clients: AwsClients) -> list[dict[str, Any]]:
    url = clients.sqs.get_queue_url(QueueName=settings.naming.queue(spec.EVENTS_DLQ))["QueueUrl"]
    found = []
    for _ in range(5):
        answer = clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        found += [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        if found:
            break
    return found


def test_played_events_reach_qoe_progress_trending_and_the_lake_once(
    device: Device, bootstrapped: Settings, clients: AwsClients, consuming: StreamPoller
) -> None:
    viewer = device("pipeline-viewer")
    profile = new_profile(viewer, "Pipeline")["id"]
    start = datetime.now(UTC) - timedelta(seconds=30)

    def at(s: float) -> str:
        return (start + timedelta(seconds=s)).isoformat()

    common = {"profile_id": profile, "session_id": f"s-{profile}", "title_id": "movie-a"}
    view = [
        event("session_start", 1, client_ts=at(0), **common),
        event("first_frame", 2, client_ts=at(0.7), startup_ms=700, **common),
        event("heartbeat", 3, client_ts=at(10.7), position_s=130, bitrate_bps=2_000_000, **common),
        event("stall_start", 4, client_ts=at(11), position_s=130.3, **common),
        event("stall_end", 5, client_ts=at(11.5), position_s=130.3, stall_ms=500, **common),
        event(
            "heartbeat", 6, client_ts=at(20.7), position_s=139.5, bitrate_bps=2_000_000, **common
        ),
    ]
    first = viewer.post("/events", json={"events": view[:4]})
    assert first.status_code == 202, first.text
    # GIVEN the client resends event 4 with the rest, and one event is malformed
    second = viewer.post(
        "/events", json={"events": [view[3], *view[4:], {**view[5], "bitrate_bps": "fast"}]}
    )
    assert second.status_code == 202
    assert [(r["index"], r["reason"]) for r in second.json()["rejected"]] == [(3, "invalid_event")]

    store = DynamoAnalyticsStore(
        bootstrapped.naming.table(spec.ANALYTICS), clients.dynamodb, bootstrapped.region
    )

    def minutes() -> qoe.Aggregate:
        rows = store.qoe(hour_window(datetime.now(UTC), 10))
        return qoe.merged(a for key, a in rows if key.title_id == "movie-a")

    # THEN the minute shows the play once, its startup time and the stall
    total = eventually(minutes, lambda a: a.stalls >= 1 and a.watch_ms > 10_000)
    summary = total.summary()
    assert (summary.views, summary.plays, summary.stalls) == (1, 1, 1)
    assert summary.startup_p50_ms == pytest.approx(700, rel=qoe.RELATIVE_ACCURACY)
    assert total.stall_ms == 500
    assert total.watch_ms == pytest.approx(10_000 + 9_500)  # wall-clamped, then moved
    assert summary.average_bitrate_bps == pytest.approx(2_000_000)

    # AND the profile's progress is the last heartbeat's position
    progress = eventually(
        lambda: viewer.get(f"/profiles/{profile}/progress/movie-a"),
        lambda r: r.status_code == 200 and r.json()["position_s"] == 139.5,
    )
    assert progress.json()["position_s"] == 139.5
    rows = viewer.get(f"/profiles/{profile}/continue-watching").json()["items"]
    assert [r["title"]["id"] for r in rows] == ["movie-a"]

    # AND trending in US counts the play, and the Trending Now row shows it first
    ranked = store.trending("US", datetime.now(UTC))
    assert ranked[0][0] == "movie-a"
    assert ranked[0][1] == pytest.approx(1.0, rel=1e-3)
    row = viewer.get("/rows/trending").json()
    assert row["id"] == "trending"
    assert [card["id"] for card in row["items"]] == ["movie-a"]

    # AND the lake holds each event once, which DuckDB reads from the emulator's S3
    lake = Lake(clients, bootstrapped.naming.bucket(spec.LAKE))
    found = lake.query(
        "SELECT type, count(*) AS n, max(startup_ms) AS startup FROM player_events "
        "WHERE session_id = ? GROUP BY type ORDER BY type",
        [common["session_id"]],
    )
    assert {r["type"]: r["n"] for r in found} == {
        "first_frame": 1,
        "heartbeat": 2,
        "session_start": 1,
        "stall_end": 1,
        "stall_start": 1,
    }
    assert next(r["startup"] for r in found if r["type"] == "first_frame") == 700
    [watched] = [r for r in lake.interactions() if r["profile_id"] == profile]
    assert (watched["title_id"], watched["sessions"], watched["furthest_s"]) == (
        "movie-a",
        1,
        139.5,
    )
    [partition] = lake.query("SELECT DISTINCT dt, hour FROM player_events")
    assert str(partition["dt"]) == datetime.now(UTC).strftime("%Y-%m-%d")


def test_a_poison_record_on_the_stream_reaches_the_dead_letter_queue(
    bootstrapped: Settings, clients: AwsClients, consuming: StreamPoller
) -> None:
    clients.kinesis.put_record(
        StreamName=bootstrapped.naming.stream(spec.EVENTS), Data=b"{oops", PartitionKey="x"
    )
    [letter] = eventually(lambda: dead_letters(bootstrapped, clients), bool)
    assert letter["reason"].startswith("not JSON")
    assert letter["partition_key"] == "x"


def test_a_batch_that_keeps_failing_goes_to_the_on_failure_destination(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    calls: list[int] = []

    def broken(event: dict[str, Any]) -> Any:
        calls.append(len(event["Records"]))
        raise RuntimeError("consumer down")

    stream = bootstrapped.naming.stream(spec.EVENTS)
    for n in range(3):
        clients.kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey=f"k{n}")
    poller = StreamPoller(bootstrapped, clients, broken, max_retries=2)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    [letter] = eventually(lambda: dead_letters(bootstrapped, clients), bool)
    stop.set()
    thread.join(timeout=10)
    assert calls[:3] == [3, 3, 3]  # the first try and two retries
    info = letter["KinesisBatchInfo"]
    assert info["batchSize"] == 3
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
