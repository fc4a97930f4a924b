"""The event pipeline: the consumer's own rate in-process, and throughput and lag end to end
through the ingestion API, Kinesis and the consumer on the emulator.

The events are a synthetic but shaped trace (``trace``): sessions start at random over a
window; each has a session_start, a first frame after a log-normal startup time (median
700 ms), a heartbeat every 10 s for a geometric number of them (mean 30: five minutes),
a stall in 3 % of the intervals (log-normal, median 800 ms), an occasional bit rate
switch, a fatal error in 1 % of sessions, and a session_end. Events of all sessions are
interleaved in client-time order, as a stream holds them: a batch touches many sessions.

- **in-process** (``consumer_events_per_s``): the trace (2,000 sessions at once, one per
  profile) as Lambda Kinesis events of ``BATCH`` records (base64, as the event source
  sends them) through ``events.wiring.handle``: the Powertools batch processor, decoding,
  dedupe, sessions, QoE sums, trending, progress (the latest heartbeat per profile and
  title, made into the ``HeartbeatBatch`` progress takes) and EMF metrics (written to
  /dev/null), with the stores in memory (``events.memory``): the consumer's own cost, not
  a database's. The goal is on 2 cores, so the figure is two consumers side by side, one
  process each, each with the sessions of one of two shards (split by partition key as
  Kinesis splits them); one process alone is reported too. The peer is the least any
  consumer does, in one process: base64 and ``lake.decode`` (JSON and the pydantic
  schema) of every record. 3 rounds (1 with ``--quick``), median.
- **end to end** (``events_per_s``): moto's server, a bootstrapped stage with a seeded
  catalog, an account with a real Cognito token and two profiles; the API (uvicorn) and
  the consumer (``python -m flixstack.local.events``, what ``flixstack up`` runs) as
  processes. ``SENDERS`` threads post the trace in batches of ``POST_BATCH`` events; the
  rate is the events over the time from the first post until the QoE minutes count them
  all (the ``events`` sums).
- **lag** (``lag_p99_ms``): while ``LAG_LOAD_PER_S`` events per second of the trace go in,
  a probe every 100 ms posts one session_start whose device is unique; a thread reads that
  probe's QoE minute item every 10 ms; the lag is from the API's 202 to the item's first
  read.

Writes ``bench/results/events.json`` and ``bench/results/events.png``.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import heapq
import json
import math
import multiprocessing
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import AnyHttpUrl
from rich.console import Console
from rich.progress import Progress

from bench import harness
from bench.harness import HOST, answers, clean_env, free_ports, percentile
from flixstack import spec
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.catalog.seed import generate_titles
from flixstack.events import lake, schema, wiring
from flixstack.events.consumer import EventConsumer
from flixstack.events.memory import MemoryAnalyticsStore, MemoryDeadLetters, MemoryProgress
from flixstack.local import emulator
from flixstack.local.bootstrap import Bootstrap
from flixstack.local.supervisor import Supervisor
from flixstack.local.users import ensure_user, new_password
from flixstack.settings import Settings

NAME = "events"
FULL = {
    "events": 200_000, "rounds": 3, "e2e_events": 20_000, "lag_probes": 200, "titles": 300,
    "accounts": 40,
}  # fmt: skip
QUICK = {
    "events": 30_000, "rounds": 1, "e2e_events": 5_000, "lag_probes": 40, "titles": 100,
    "accounts": 10,
}  # fmt: skip
SEED = 20_261_205
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
STAGE = "bench-events"
USERNAME = "viewer@events-bench.flixstack.local"
BATCH = spec.EVENTS_BATCH_RECORDS
"""Records per Lambda event (the event source's and the local poller's batch size)."""
CONCURRENT = 2000
"""Sessions playing at once in the in-process trace (each profile plays one at a time)."""
PROCESSES = 2
"""Consumers side by side in-process: one per core, each a shard's (as a parallelization
factor or a second shard gives on AWS)."""
POST_BATCH = 100
SENDERS = 8
LAG_LOAD_PER_S = 100
"""Events per second beside the lag probes: about 1,000 viewers, each sending a heartbeat
every 10 s (what the emulator keeps up with; see events_per_s)."""
LAG_POST = 5
"""Events per background post in the lag phase (a device's few seconds of events)."""
PROBE_EVERY_S = 0.1
PROBE_READ_EVERY_S = 0.01
READY_TIMEOUT_S = 120.0
GOALS = {"consumer_events_per_s": 50_000, "lag_p99_ms": 2_000}
CDNS = ("edge-a", "edge-b")
TERRITORIES = ("US", "US", "US", "GB")
DEVICES = ("web", "tv", "mobile")


# --- the trace ---------------------------------------------------------------------------------
def trace(
    events: int,
    rng: random.Random,
    titles: Sequence[str],
    profiles: Sequence[str],
    start: datetime,
    concurrent: int = 2000,
) -> list[dict[str, Any]]:
    """About ``events`` events of sessions that start over a window sized so that about
    ``concurrent`` sessions play at once (profiles take turns: with as many profiles, each
    plays one session at a time), interleaved in client-time order."""
    per_session = 36
    sessions = max(1, events // per_session)
    window_s = sessions / concurrent * 300
    streams: list[list[tuple[float, dict[str, Any]]]] = []
    for n in range(sessions):
        profile = profiles[n % len(profiles)]
        streams.append(_session(rng, titles, profile, rng.uniform(0, window_s)))
    merged = heapq.merge(*streams, key=lambda pair: pair[0])
    out = []
    for offset, body in merged:
        body["client_ts"] = (start + timedelta(seconds=offset)).isoformat()
        out.append(body)
    return out[:events]


def _session(
    rng: random.Random, titles: Sequence[str], profile: str, t: float
) -> list[tuple[float, dict[str, Any]]]:
    common = {
        "session_id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "profile_id": profile,
        "title_id": rng.choice(titles),
        "asset_version": "v1",
        "cdn": rng.choice(CDNS),
        "territory": rng.choice(TERRITORIES),
        "device": rng.choice(DEVICES),
    }
    out: list[tuple[float, dict[str, Any]]] = []

    def emit(at: float, kind: str, **fields: Any) -> None:
        event_id = uuid.UUID(int=rng.getrandbits(128)).hex
        out.append((at, {"type": kind, "event_id": event_id, **common, **fields}))

    emit(t, "session_start")
    startup = rng.lognormvariate(math.log(700), 0.5)
    t += startup / 1000
    emit(t, "first_frame", startup_ms=round(startup, 1))
    position, bitrate = 0.0, rng.choice((800_000, 1_600_000, 3_000_000))
    beats = min(200, int(rng.expovariate(1 / 30)) + 1)
    for _ in range(beats):
        if rng.random() < 0.03:
            stall = rng.lognormvariate(math.log(800), 0.6)
            emit(t + 1, "stall_start", position_s=position + 1)
            emit(t + 1 + stall / 1000, "stall_end", position_s=position + 1, stall_ms=round(stall))
            t += stall / 1000
        if rng.random() < 0.05:
            new = rng.choice((800_000, 1_600_000, 3_000_000))
            emit(t + 2, "bitrate_switch", position_s=position + 2, from_bps=bitrate,
                 to_bps=new, height=360 if new < 1e6 else 720)  # fmt: skip
            bitrate = new
        t += 10
        position += 10
        emit(t, "heartbeat", position_s=position, duration_s=6000.0, bitrate_bps=bitrate,
             buffer_s=round(rng.uniform(5, 30), 1))  # fmt: skip
    if rng.random() < 0.01:
        emit(t + 1, "error", code="bufferStalledError", fatal=True)
    emit(t + 2, "session_end", position_s=position, reason="exit")
    return out


def kinesis_events(
    bodies: Sequence[dict[str, Any]], account: str, received_at: str
) -> list[dict[str, Any]]:
    """Lambda Kinesis events of ``BATCH`` records each, as the event source sends them."""
    events = []
    for start in range(0, len(bodies), BATCH):
        records = []
        for n, body in enumerate(bodies[start : start + BATCH], start):
            data = lake.encode(account, received_at, schema.parse_event(body))
            records.append(
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": body["session_id"],
                        "sequenceNumber": str(10**20 + n),
                        "data": base64.b64encode(data).decode(),
                        "approximateArrivalTimestamp": 0.0,
                    },
                    "eventSource": "aws:kinesis",
                    "eventID": f"shardId-000000000000:{10**20 + n}",
                    "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/bench",
                }
            )
        events.append({"Records": records})
    return events


# --- in-process ----------------------------------------------------------------------------
def _consume(batches: Sequence[dict[str, Any]], start: Any = None) -> tuple[float, int]:
    """One consumer (a fresh one, stores in memory) over these Lambda events: the seconds
    it took and the events it applied. ``start`` (a callable) is waited for once all is
    ready, so that consumers side by side begin together."""
    processor = wiring.EventBatchProcessor(
        EventConsumer(
            MemoryAnalyticsStore(),
            MemoryProgress(keep=False),
            MemoryDeadLetters(),
            metrics=wiring.EmfMetrics(),
        )
    )
    applied = 0
    # The benchmark holds the whole trace in memory, a Lambda only its batch: keep the
    # trace out of the garbage collector's walks (as the emulator keeps its store out)
    gc.collect()
    gc.freeze()
    if start is not None:
        start()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        for event in batches:
            answer = wiring.handle(event, processor)
            assert not answer["batchItemFailures"], answer
            applied += processor.outcome.applied
        elapsed = time.perf_counter() - started
    gc.unfreeze()
    return elapsed, applied


def _worker(
    batches: Sequence[dict[str, Any]], ready: Any, go: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    def start() -> None:
        ready.wait()
        go.wait()

    results.put(_consume(batches, start))


def _in_parallel(shards: Sequence[Sequence[dict[str, Any]]]) -> tuple[float, int]:
    """Each shard's events through a consumer of its own, one process each, all started
    together (as a stream's shards are consumed): the wall time until the last is done."""
    # spawned, not forked: a fork would inherit the parent's thread pools without their threads
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(len(shards) + 1)
    go = context.Event()
    results: Any = context.Queue()
    workers = [
        context.Process(target=_worker, args=(shard, ready, go, results)) for shard in shards
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    go.set()
    done = [results.get(timeout=600) for _ in workers]
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return wall, sum(applied for _, applied in done)


def in_process(shape: dict[str, int], bars: Progress) -> dict[str, Any]:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    titles = [f"t{n:04d}" for n in range(shape["titles"])]
    profiles = [f"p{n:04d}" for n in range(CONCURRENT)]  # one session at a time each
    bodies = trace(shape["events"], rng, titles, profiles, now - timedelta(hours=1), CONCURRENT)
    stamp = f"{now:%Y-%m-%dT%H:%M:%S.%fZ}"
    batches = kinesis_events(bodies, "acct-bench", stamp)
    # two shards, split by partition key as Kinesis does (a session stays on one)
    shards = [
        kinesis_events([b for b in bodies if _shard_of(b["session_id"]) == n], "acct-bench", stamp)
        for n in range(PROCESSES)
    ]
    one_s: list[float] = []
    two_s: list[float] = []
    peer_s: list[float] = []
    task = bars.add_task("in-process: 1 | 2 processes | peer", total=3 * shape["rounds"])
    for _ in range(shape["rounds"]):
        elapsed, applied = _consume(batches)
        assert applied == len(bodies), (applied, len(bodies))
        one_s.append(elapsed)
        bars.advance(task)
        elapsed, applied = _in_parallel(shards)
        assert applied == len(bodies), (applied, len(bodies))
        two_s.append(elapsed)
        bars.advance(task)
        started = time.perf_counter()
        for event in batches:
            for record in event["Records"]:
                lake.decode(base64.b64decode(record["kinesis"]["data"]))
        peer_s.append(time.perf_counter() - started)
        bars.advance(task)
    one = len(bodies) / statistics.median(one_s)
    two = len(bodies) / statistics.median(two_s)
    peer = len(bodies) / statistics.median(peer_s)
    return {
        "events": len(bodies),
        "sessions": len({b["session_id"] for b in bodies}),
        "concurrent_sessions": CONCURRENT,
        "batch_records": BATCH,
        "processes": PROCESSES,
        "rounds_one_process_s": [round(v, 3) for v in one_s],
        "rounds_processes_s": [round(v, 3) for v in two_s],
        "consumer_events_per_s": round(two),
        "consumer_events_per_s_one_process": round(one),
        "peer_decode_events_per_s": round(peer),
        "ratio_vs_decode": round(one / peer, 3),
    }


def _shard_of(partition_key: str) -> int:
    """Kinesis maps a partition key's MD5 onto the shards' hash ranges (equal ranges here)."""
    digest = int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")  # noqa: S324
    return digest * PROCESSES >> 128


# --- end to end --------------------------------------------------------------------------------
def _post(client: httpx.Client, bodies: Sequence[dict[str, Any]], token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(10):
        answer = client.post("/events", json={"events": list(bodies)}, headers=headers)
        if answer.status_code == 202:
            assert answer.json()["accepted"] == len(bodies), answer.text
            return answer
        time.sleep(0.2)  # a busy stream (503): send the batch again, as players do
    raise AssertionError(f"{answer.status_code} {answer.text}")


def _events_counted(settings: Settings, clients: AwsClients, hours: Sequence[str]) -> int:
    from flixstack.aws.analytics_store import DynamoAnalyticsStore

    store = DynamoAnalyticsStore(
        settings.naming.table(spec.ANALYTICS), clients.dynamodb, settings.region
    )
    return sum(aggregate.events for _, aggregate in store.qoe(hours))


Chunk = tuple[str, list[dict[str, Any]]]
"""(the account's access token, up to POST_BATCH of its events)"""


def chunks(bodies: Sequence[dict[str, Any]], tokens: dict[str, str]) -> list[Chunk]:
    """The trace as a device fleet posts it: each account's events in batches, in the
    order their batches fill up."""
    out: list[Chunk] = []
    filling: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        token = tokens[body["profile_id"]]
        batch = filling.setdefault(token, [])
        batch.append(body)
        if len(batch) == POST_BATCH:
            out.append((token, filling.pop(token)))
    out += list(filling.items())
    return out


def throughput(api: str, batches: Sequence[Chunk], count: Any, bars: Progress) -> dict[str, Any]:
    total = sum(len(chunk) for _, chunk in batches)
    task = bars.add_task("end to end: posted | counted", total=2 * total)
    lock = threading.Lock()
    queue = iter(batches)

    def sender() -> None:
        with httpx.Client(base_url=api, timeout=60) as client:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                token, chunk = item
                _post(client, chunk, token)
                bars.advance(task, len(chunk))

    before = count()
    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted_s = time.perf_counter() - started
    seen = 0
    deadline = time.monotonic() + float(os.environ.get("BENCH_EVENTS_DEADLINE_S", "600"))
    while seen < total and time.monotonic() < deadline:
        now_seen = count() - before
        bars.advance(task, now_seen - seen)
        seen = now_seen
        time.sleep(0.2)
    total_s = time.perf_counter() - started
    assert seen == total, f"the aggregates count {seen} of {total} events"
    return {
        "events": total,
        "post_batch": POST_BATCH,
        "senders": SENDERS,
        "posted_s": round(posted_s, 2),
        "all_counted_s": round(total_s, 2),
        "ingest_events_per_s": round(total / posted_s),
        "events_per_s": round(total / total_s),
    }


def lag(
    api: str,
    token: str,
    settings: Settings,
    clients: AwsClients,
    load: Sequence[Chunk],
    probes: int,
    template: dict[str, Any],
    bars: Progress,
) -> dict[str, Any]:
    stop = threading.Event()

    def background() -> None:
        with httpx.Client(base_url=api, timeout=60) as client:
            for owner, chunk in load:
                if stop.is_set():
                    return
                began = time.perf_counter()
                _post(client, chunk, owner)
                time.sleep(max(0.0, len(chunk) / LAG_LOAD_PER_S - (time.perf_counter() - began)))

    loader = threading.Thread(target=background, daemon=True)
    loader.start()
    table = settings.naming.table(spec.ANALYTICS)
    task = bars.add_task("lag: probes", total=probes)
    lags: list[float] = []
    with httpx.Client(base_url=api, timeout=60) as client:
        for _ in range(probes):
            device = f"probe-{uuid.uuid4().hex[:12]}"
            sent_at = datetime.now(UTC)
            body = {**template, "event_id": uuid.uuid4().hex, "session_id": uuid.uuid4().hex,
                    "device": device, "client_ts": sent_at.isoformat()}  # fmt: skip
            _post(client, [body], token)
            accepted = time.perf_counter()
            stamps = (sent_at, datetime.now(UTC))  # the API stamped it in between
            while not any(_visible(clients, table, at, body) for at in stamps):
                if time.perf_counter() - accepted > 30:
                    raise AssertionError(f"probe {device} never showed up")
                time.sleep(PROBE_READ_EVERY_S)
            lags.append((time.perf_counter() - accepted) * 1000)
            bars.advance(task)
            time.sleep(max(0.0, PROBE_EVERY_S - (time.perf_counter() - accepted)))
    stop.set()
    loader.join(timeout=30)
    return {
        "probes": len(lags),
        "background_events_per_s": LAG_LOAD_PER_S,
        "probe_read_every_ms": PROBE_READ_EVERY_S * 1000,
        "lag_p50_ms": round(percentile(lags, 50), 1),
        "lag_p95_ms": round(percentile(lags, 95), 1),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_max_ms": round(max(lags), 1),
        "lags_ms": [round(v, 1) for v in lags],
    }


def emulator_writes(settings: Settings, clients: AwsClients, seconds: float = 3.0) -> float:
    """The peer of the end-to-end rate: how many single-item ``ADD`` updates per second the
    emulator answers from 16 threads (the consumer's write pattern, with no consumer)."""
    table = settings.naming.table(spec.ANALYTICS)
    stop = time.perf_counter() + seconds
    done = [0] * 16

    def writer(n: int) -> None:
        while time.perf_counter() < stop:
            clients.dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": "BENCH#peer"}, "sk": {"S": f"{n}-{done[n] % 200}"}},
                UpdateExpression="ADD #a :one, #b :one",
                ExpressionAttributeNames={"#a": "events", "#b": "views"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            done[n] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def _viewers(
    settings: Settings, clients: AwsClients, api: str, accounts: int, bars: Progress
) -> dict[str, str]:
    """``accounts`` accounts (real Cognito users and tokens) with 5 profiles each: each
    profile's id -> its account's access token."""
    pool = find_pool(settings, clients)
    tokens: dict[str, str] = {}
    task = bars.add_task("platform: viewers", total=accounts)
    for n in range(accounts):
        username, password = f"viewer-{n}@{USERNAME.split('@')[1]}", new_password()
        ensure_user(clients, pool, username, password)
        token = sign_in(clients, pool, username, password).access_token
        for name in ("Ana", "Ben", "Cy", "Di", "Ed"):
            made = httpx.post(
                f"{api}/profiles", json={"name": name}, headers={"Authorization": f"Bearer {token}"}
            )
            assert made.status_code == 201, made.text
            tokens[made.json()["id"]] = token
        bars.advance(task)
    return tokens


def _visible(clients: AwsClients, table: str, at: datetime, body: dict[str, Any]) -> bool:
    """Is the probe's QoE minute item there (had the API stamped it at ``at``)?"""
    dims = (body["title_id"], body["cdn"], body["territory"], body["device"])
    key = {
        "pk": {"S": spec.qoe_pk(f"{at:%Y-%m-%dT%H}")},
        "sk": {"S": spec.qoe_sk(f"{at:%Y-%m-%dT%H:%M}", *dims, clients.settings.region)},
    }
    found = clients.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
    return "Item" in found


def end_to_end(shape: dict[str, int], bars: Progress, console: Console) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flixstack-bench-events-") as scratch:
        work = Path(scratch)
        supervisor = Supervisor(work / "logs")
        try:
            setup = bars.add_task("platform", total=6)
            moto_port, api_port = free_ports(2)
            endpoint_url = f"http://{HOST}:{moto_port}"
            supervisor.start(
                "emulator",
                emulator.moto_command(HOST, moto_port),
                env=dict(os.environ),
                ready=lambda: emulator.answers(endpoint_url),
                timeout=READY_TIMEOUT_S,
            )
            bars.advance(setup)
            settings = Settings(endpoint_url=AnyHttpUrl(endpoint_url), stage=STAGE)
            clients = AwsClients(settings)
            Bootstrap(clients, settings.naming).run()
            bars.advance(setup)
            now = datetime.now(UTC)
            docs = generate_titles(shape["titles"], seed=SEED, now=now)
            harness.write_catalog(settings, clients, docs, bars)
            bars.advance(setup)
            env = clean_env(
                AWS_ENDPOINT_URL=endpoint_url,
                FLIXSTACK_STAGE=STAGE,
                FLIXSTACK_RATE_LIMIT_PER_S="1e9",
                FLIXSTACK_RATE_LIMIT_BURST="1000000000",
            )
            api = f"http://{HOST}:{api_port}"
            supervisor.start(
                "api",
                harness.uvicorn_command("flixstack.local.devserver:create_app", api_port),
                env=env,
                ready=lambda: answers(f"{api}/health"),
                timeout=READY_TIMEOUT_S,
            )
            bars.advance(setup)
            supervisor.start(
                "events", [sys.executable, "-m", "flixstack.local.events"], env=env,
                ready=lambda: True,
            )  # fmt: skip
            bars.advance(setup)
            peer_writes = emulator_writes(settings, clients)
            tokens = _viewers(settings, clients, api, shape["accounts"], bars)
            token = next(iter(tokens.values()))
            profiles = list(tokens)
            bars.advance(setup)

            rng = random.Random(SEED + 1)
            titles = [doc.id for doc in docs if doc.kind == "movie"]
            start = datetime.now(UTC) - timedelta(minutes=5)
            load = trace(shape["e2e_events"], rng, titles, profiles, start, len(profiles))
            hours = [f"{at:%Y-%m-%dT%H}" for at in (now, now + timedelta(hours=1))]
            moved = throughput(
                api, chunks(load, tokens), lambda: _events_counted(settings, clients, hours), bars
            )
            background = trace(
                LAG_LOAD_PER_S * 60, random.Random(SEED + 2), titles, profiles, start,
                len(profiles),
            )  # fmt: skip
            background_chunks = [
                (owner, chunk[n : n + LAG_POST])
                for owner, chunk in chunks(background, tokens)
                for n in range(0, len(chunk), LAG_POST)
            ]
            template = {k: v for k, v in load[0].items() if k not in {"client_ts"}}
            template["profile_id"] = next(p for p, t in tokens.items() if t == token)
            template.update(type="session_start")
            for extra in ("startup_ms", "position_s", "duration_s", "bitrate_bps", "buffer_s",
                          "stall_ms", "from_bps", "to_bps", "height", "code", "fatal", "reason"):  # fmt: skip
                template.pop(extra, None)
            lagged = lag(
                api, token, settings, clients, background_chunks, shape["lag_probes"], template,
                bars,
            )  # fmt: skip
            return {
                **moved,
                "peer_emulator_updates_per_s": round(peer_writes),
                "events_per_emulator_update": round(moved["events_per_s"] / peer_writes, 3),
                **lagged,
            }
        except BaseException:
            harness.print_logs(console, supervisor)
            raise
        finally:
            supervisor.stop_all()


def _figure(result: dict[str, Any]) -> str:
    from matplotlib import pyplot as plt

    figure, (rates, lags) = plt.subplots(1, 2, figsize=(11, 4))
    names = ["peer: decode only (1 process)", "consumer (2 processes)", "end to end (emulator)"]
    values = [
        result["in_process"]["peer_decode_events_per_s"],
        result["consumer_events_per_s"],
        result["events_per_s"],
    ]
    rates.barh(names, values, color=["#999", "#4f9dde", "#4fbf7a"])
    rates.axvline(GOALS["consumer_events_per_s"], color="#e0823d", linestyle="--", label="goal")
    rates.set_xscale("log")
    rates.set_xlabel("events per second (log scale)")
    rates.legend()
    ordered = sorted(result["end_to_end"]["lags_ms"])
    lags.plot(ordered, [(n + 1) / len(ordered) for n in range(len(ordered))], color="#4f9dde")
    lags.axvline(GOALS["lag_p99_ms"], color="#e0823d", linestyle="--", label="p99 goal")
    lags.set_xlabel("ms from the API's 202 to the QoE aggregates")
    lags.set_ylabel("fraction of probes")
    lags.legend()
    figure.suptitle("flixstack events: consumer rate and lag")
    figure.tight_layout()
    return harness.save_figure(figure, RESULTS / "events.png")


def run(quick: bool) -> dict[str, Any]:
    shape = QUICK if quick else FULL
    console = Console()
    with harness.bars(console, 34) as bars:
        inner = in_process(shape, bars)
        outer = end_to_end(shape, bars, console)
    result: dict[str, Any] = {
        "benchmark": NAME,
        "quick": quick,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "consumer_events_per_s": inner["consumer_events_per_s"],
        "events_per_s": outer["events_per_s"],
        "lag_p99_ms": outer["lag_p99_ms"],
        "goals": GOALS,
        "met": {
            "consumer_events_per_s": inner["consumer_events_per_s"]
            >= GOALS["consumer_events_per_s"],
            "lag_p99_ms": outer["lag_p99_ms"] <= GOALS["lag_p99_ms"],
        },
        "in_process": inner,
        "end_to_end": outer,
    }
    result["figure"] = _figure(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{NAME}.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("consumer_events_per_s", "events_per_s", "lag_p99_ms", "met")}
    console.print(summary)
    return result
