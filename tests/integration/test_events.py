"""POST /events over HTTP: accepted events land on the emulator's Kinesis stream as
flat records keyed by session, refused ones come back by index, and the limits hold."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings
from tests.integration.conftest import Device, subject
from tests.integration.test_viewers import new_profile
from tests.unit.events.test_schema import event

pytestmark = pytest.mark.integration


def stream_records(clients: AwsClients, stream: str) -> list[dict[str, Any]]:
    kinesis = clients.kinesis
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        answer = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        found += [{"key": r["PartitionKey"], **json.loads(r["Data"])} for r in answer["Records"]]
    return found


def test_events_reach_the_stream_and_refusals_come_back_by_index(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    viewer, stranger = device("events-viewer"), device("events-stranger")
    mine = new_profile(viewer, "Events")["id"]
    theirs = new_profile(stranger, "Other")["id"]
    session = f"s-{mine}"
    batch = [
        event("session_start", 1, profile_id=mine, session_id=session),
        event("first_frame", 2, profile_id=mine, session_id=session, startup_ms=-3),
        event("first_frame", 3, profile_id=theirs, session_id=session),
        event("heartbeat", 4, profile_id=mine, session_id=session),
    ]
    answered = viewer.post("/events", json={"events": batch})
    assert answered.status_code == 202, answered.text
    report = answered.json()
    assert report["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in report["rejected"]] == [
        (1, "invalid_event"),
        (2, "unknown_profile"),
    ]
    assert report["rejected"][0]["errors"][0]["loc"][-1] == "startup_ms"

    records = [
        r
        for r in stream_records(clients, bootstrapped.naming.stream(spec.EVENTS))
        if r["key"] == session
    ]
    assert [r["event_id"] for r in records] == ["e-session_start-1", "e-heartbeat-4"]
    account = subject(viewer.headers["Authorization"].removeprefix("Bearer "))
    assert {r["account"] for r in records} == {account}


def test_bad_batches_and_missing_tokens(device: Device, base_url: str) -> None:
    viewer = device("events-limits")
    assert httpx.post(f"{base_url}/events", json={"events": []}).status_code == 401
    empty = viewer.post("/events", json={"events": []})
    assert (empty.status_code, empty.json()["reason"]) == (400, "bad_batch")
    junk = viewer.post("/events", content=b"{", headers={"Content-Type": "application/json"})
    assert junk.status_code == 400
    huge = viewer.post("/events", json={"events": [event("heartbeat", n) for n in range(501)]})
    assert (huge.status_code, huge.json()["reason"]) == (413, "batch_too_large")
