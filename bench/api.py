"""The HTTP API under load: throughput and latency per endpoint, against a bare FastAPI peer.

Everything runs on this machine over loopback, with real load generators (``wrk`` for
throughput, ``hey`` for paced latency; ``make bench`` installs both):

- **platform**: moto's server on a free port (the command ``flixstack up`` uses), a fresh
  stage created by :class:`~flixstack.local.bootstrap.Bootstrap`, a synthetic catalog of
  2,000 titles (500 with ``--quick``) from :func:`~flixstack.catalog.seed.generate_titles`
  written with the catalog repository and made visible by one snapshot rebuild (no media),
  and one account with a real access token issued by the emulator's Cognito
  (``ensure_user`` + ``sign_in``); through the API it gets two profiles, progress
  heartbeats for some movies and a My List;
- **servers**: the app as ``flixstack up`` serves it (``uvicorn
  flixstack.local.devserver:create_app --factory``) and the peer, a bare FastAPI app whose
  one sync endpoint returns a prebuilt dict - the app's own first browse page (``uvicorn
  bench.api:bare_app --factory``); each in its own process, one worker, uvicorn's defaults
  otherwise, no access log. The app's rate limits are raised (``FLIXSTACK_RATE_LIMIT_*``)
  so the limiter never throttles the one load generator;
- **max throughput**: ``wrk`` (1 thread, 32 connections) for 10 s (3 s with ``--quick``)
  after an unmeasured warm-up, in 3 rounds (1) of bare, endpoint, bare, endpoint, ...,
  bare, the endpoint order reversed every other round; an endpoint's rps is the median of
  its runs, and ``throughput_ratio_vs_bare`` divides it by the median of the bare runs
  right before and after them;
- **latency at half load**: then, per endpoint, ``hey`` paces four single-worker
  processes to half that rps for 10 s (3 s); p50/p95/p99 are computed from their
  per-request CSVs, while a thread times a static page of the emulator every 50 ms (its
  stalls land in the profile routes' tail);
- **JWT**: in-process, before any load, ``TokenVerifier.verify`` on the emulator-issued
  access token (JWKS already cached) and the whole ``Authenticator.principal`` path
  (header parsing included), 10,000 times each, timed one by one.

Writes ``bench/results/api.json`` and ``bench/results/api.png``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt as pyjwt
from fastapi import FastAPI
from pydantic import AnyHttpUrl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import RESULTS, harness, write_result
from bench.harness import HOST, answers, clean_env, free_ports, percentile, print_logs
from flixstack import spec
from flixstack.auth.identity import Authenticator, find_pool, sign_in
from flixstack.auth.tokens import Jwks, TokenVerifier
from flixstack.aws.clients import AwsClients
from flixstack.catalog import availability
from flixstack.catalog.models import TitleDocument, TitleKind
from flixstack.catalog.seed import generate_titles
from flixstack.catalog.text import tokens
from flixstack.local import emulator
from flixstack.local.bootstrap import Bootstrap
from flixstack.local.supervisor import Supervisor
from flixstack.local.users import ensure_user, new_password
from flixstack.process import die_with_parent
from flixstack.settings import Settings

NAME = "api"
FULL = {"titles": 2_000, "throughput_s": 10, "latency_s": 10, "warmup_s": 2, "rounds": 3}
QUICK = {"titles": 500, "throughput_s": 3, "latency_s": 3, "warmup_s": 1, "rounds": 1}
SEED = 20_251_126
ROOT = Path(__file__).resolve().parents[1]
"""The repository: uvicorn imports ``bench.api`` from here."""
APP = "flixstack.local.devserver:create_app"
"""What ``flixstack up`` serves: the API plus the local media edge."""
STAGE = "bench"
TERRITORY = "US"
USERNAME = "bench@flixstack.local"
WRK_THREADS = 1
WRK_CONNECTIONS = 32
HEY_PROCESSES = 4
JWT_ITERATIONS = 10_000
JWT_WARMUP = 200
EMULATOR_CALLS = 200
RATE_LIMIT_PER_S = 1e9
RATE_LIMIT_BURST = 10**9
LIST_TITLES = 20
WATCHING_TITLES = 10
PROBE_EVERY_S = 0.05
SETTLE_CPU = 0.05
"""Before each run, wait until the servers and the emulator use less than this share of
one CPU together (measured over ``SETTLE_WINDOW_S``), for at most ``SETTLE_MAX_S``."""
SETTLE_WINDOW_S = 0.3
SETTLE_MAX_S = 20.0
BARE_PAGE_ENV = "BENCH_API_BARE_PAGE"
READY_TIMEOUT_S = 120.0

GOAL_RATIO = 0.5
GOAL_P99_MS = 25.0
GOAL_JWT_P99_US = 500.0
CACHED_READ_PATHS = ("browse", "title_detail", "search")
"""Served from the in-memory catalog snapshot. Health re-reads every resource at the
emulator when its 10 s inventory cache expires; the profile routes read DynamoDB (the
profile, then its progress or list items) on every request: none of those count."""

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"bytes\\": %d, " ..
    "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"status\\": %d, " ..
    "\\"timeout\\": %d, \\"p50_us\\": %.0f, \\"p99_us\\": %.0f, \\"max_us\\": %.0f}\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""

METHOD = (
    "One machine, loopback only: load generator, app server and emulator share its CPUs "
    "(nothing is pinned; see environment.cpu_count) - the uvicorn process runs one event "
    "loop and its sync routes in its thread pool under one GIL. Platform: moto's server on "
    "a free port, a fresh stage bootstrapped, a synthetic catalog (generate_titles, fixed "
    "seed, licence windows around the real now) written with DynamoCatalogRepository.create "
    "and one CatalogPublisher.rebuild() snapshot, no media; one Cognito user "
    "(ensure_user) with an emulator-issued access token (sign_in). Through the API: two "
    "profiles, progress heartbeats for 10 movies licensed in US (20-80% watched) and 20 "
    "movies on My List of the first profile. Servers: `uvicorn "
    "flixstack.local.devserver:create_app --factory` (what `flixstack up` serves) and the "
    "peer `uvicorn bench.api:bare_app --factory` (FastAPI, one sync GET /titles returning a "
    "prebuilt dict: the app's own GET /titles?limit=20 page), each its own process, one "
    "worker, --log-level warning --no-access-log, uvicorn defaults otherwise (uvloop and "
    "httptools when installed). The app runs with AWS_ENDPOINT_URL=emulator, "
    f"FLIXSTACK_STAGE={STAGE} and FLIXSTACK_RATE_LIMIT_PER_S/FLIXSTACK_RATE_LIMIT_BURST "
    "raised to 1e9 so the per-IP and per-account token buckets never throttle the single "
    "load generator (every other setting is its default, e.g. the 2 s catalog pointer "
    "check). Every request is a fixed URL with CloudFront-Viewer-Country: US; the profile "
    "routes add Authorization: Bearer <token>; each endpoint is checked once for a 200 and "
    "a non-empty answer before it is loaded. Max throughput: wrk -t1 -c32 for the run "
    "length after an unmeasured wrk warm-up of the same shape; a run's rps = requests / "
    "duration from wrk's Lua summary. Runs go in rounds (3; 1 with --quick) of bare, "
    "endpoint, bare, endpoint, ..., bare, the endpoint order reversed every other round, so "
    "every endpoint run sits between two bare runs and drift of the machine (a VM; see "
    "loadavg) affects both sides of each ratio; endpoints.<name>.rps is the median of "
    "the endpoint's runs, bare_rps the median of the bare runs next to them, "
    "throughput_ratio_vs_bare = rps / bare_rps; endpoints.bare.rps is the median of all bare "
    "runs (a single pair was not enough: one bare run in a trial fell to 0.7x the others, "
    "which alone moved one ratio from 0.36 to 0.50). Latency at half load, after all "
    "throughput rounds, endpoint by endpoint at half its rps: 4 hey processes, "
    "each GOMAXPROCS=1 hey -c 1 -q (rps/2/4) -z <run length> -o csv, started 1/(rps/2) s "
    "apart so their ticks interleave (one hey -c 8 starts all its workers' tickers at the "
    "same instant and its requests then arrive in bursts of 8, which inflated p50 2.5-3.5x "
    "on a bare endpoint in trials); a worker whose response is late skips ticks, so this is "
    "closed-loop pacing, not open-loop (achieved_rps shows the load really applied). "
    "p50/p95/p99 are computed from the response-time column of the processes' per-request "
    "CSVs (hey writes seconds with 4 decimals: 0.1 ms resolution; statistics.quantiles, "
    "inclusive); achieved_rps = rows / run length. Emulator baseline: before any load, "
    "the benchmark process times the repository reads the profile routes make "
    "(DynamoViewerRepository.profiles, .all_progress, .my_list: one Query each) against "
    f"moto, {EMULATOR_CALLS} calls each, to show how much of those routes' latency is the "
    "emulator's (continue-watching and my-list read the profiles, then their items). "
    "During every latency run a thread of the benchmark process also times GET /moto-api/ "
    "(a static page) on the emulator every 50 ms (half_load.emulator_probe): before the "
    "embedded emulator froze what survives a full garbage collection (flixstack.local."
    "moto_server), moto stalled 0.7-1.4 s at each one under the profile routes' load, which "
    "landed in those routes' p99; the probe shows whether anything like it recurs. CPU: utime+stime of the app, emulator "
    "and load generator processes (from /proc and RUSAGE_CHILDREN) over each throughput "
    "run, per request. Before every warm-up and every latency run the benchmark waits until "
    "the app, the peer and the emulator together use < 5% of a CPU over 0.3 s (at most "
    "20 s; settled_s), so a backlog left by one run (requests of the profile routes still "
    "waiting on the emulator after wrk stops) does not land in the next. JWT: in the benchmark process before any load, TokenVerifier.verify "
    "(JWKS fetched once beforehand) and Authenticator.principal('Bearer ...') timed one by "
    f"one with perf_counter_ns, {JWT_WARMUP} unmeasured calls then {JWT_ITERATIONS} "
    "measured. Cached read paths (the throughput goal): browse, title_detail and search, "
    "served from the in-memory catalog snapshot; health (re-inventories every resource when "
    "its 10 s cache expires) and the profile routes (read DynamoDB at the emulator on every "
    "request) are reported but not held to it. The p99 goal applies to every endpoint."
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    server: str
    """``app`` or ``bare``."""
    auth: bool = False
    what: str = ""


@dataclass(frozen=True)
class Fixture:
    """What the benchmark made on the platform to point its requests at."""

    token: str
    profile_id: str
    detail: TitleDocument
    query: str
    searched: TitleDocument
    watching: list[str]
    listed: list[str]


@dataclass
class Processes:
    """The servers' pids, for CPU accounting."""

    app: int
    bare: int
    emulator: int


# --- the bare peer ------------------------------------------------------------------------------


def bare_app() -> FastAPI:
    """The peer, for ``uvicorn bench.api:bare_app --factory``: one sync endpoint returning
    a prebuilt dict (the page in the JSON file ``$BENCH_API_BARE_PAGE`` names)."""
    page: dict[str, Any] = json.loads(Path(os.environ[BARE_PAGE_ENV]).read_text())
    app = FastAPI()

    @app.get("/titles")
    def titles() -> dict[str, Any]:
        return page

    return app


# --- run ----------------------------------------------------------------------------------------


def run(quick: bool) -> dict[str, Any]:
    shape = QUICK if quick else FULL
    tools = _tools()
    console = Console()
    load_start = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="flixstack-bench-api-") as scratch,
        harness.bars(console, 44) as bars,
    ):
        work = Path(scratch)
        supervisor = Supervisor(work / "logs")
        try:
            setup = bars.add_task("platform", total=7)
            moto_port, app_port, bare_port = free_ports(3)
            endpoint_url = f"http://{HOST}:{moto_port}"
            bars.update(setup, description=f"platform: moto server on {endpoint_url}")
            moto = supervisor.start(
                "emulator",
                emulator.moto_command(HOST, moto_port),
                env=dict(os.environ),
                ready=lambda: emulator.answers(endpoint_url),
                timeout=READY_TIMEOUT_S,
            )
            bars.advance(setup)
            settings = Settings(
                endpoint_url=AnyHttpUrl(endpoint_url),
                stage=STAGE,
                rate_limit_per_s=RATE_LIMIT_PER_S,
                rate_limit_burst=RATE_LIMIT_BURST,
            )
            clients = AwsClients(settings)
            bars.update(setup, description="platform: bootstrap")
            Bootstrap(clients, settings.naming).run()
            bars.advance(setup)
            now = datetime.now(UTC)
            titles = generate_titles(shape["titles"], seed=SEED, now=now)
            harness.write_catalog(settings, clients, titles, bars)
            bars.advance(setup)
            bars.update(setup, description="platform: account and token")
            pool = find_pool(settings, clients)
            password = new_password()
            ensure_user(clients, pool, USERNAME, password)
            token = sign_in(clients, pool, USERNAME, password).access_token
            bars.advance(setup)
            bars.update(setup, description="platform: API server")
            app_url = f"http://{HOST}:{app_port}"
            app = supervisor.start(
                "api",
                harness.uvicorn_command(APP, app_port),
                env=_app_env(endpoint_url),
                ready=lambda: answers(f"{app_url}/health"),
                timeout=READY_TIMEOUT_S,
            )
            bars.advance(setup)
            bars.update(setup, description="platform: profiles, progress, My List")
            fixture = _fixture(app_url, token, titles, now)
            bars.advance(setup)
            bars.update(setup, description="platform: bare peer")
            page_path = work / "bare-page.json"
            page = httpx.get(
                f"{app_url}/titles?limit=20", headers={"CloudFront-Viewer-Country": TERRITORY}
            )
            page_path.write_bytes(page.content)
            bare_url = f"http://{HOST}:{bare_port}"
            bare = supervisor.start(
                "bare",
                harness.uvicorn_command("bench.api:bare_app", bare_port),
                env={**os.environ, BARE_PAGE_ENV: str(page_path)},
                ready=lambda: answers(f"{bare_url}/titles"),
                timeout=READY_TIMEOUT_S,
            )
            bars.advance(setup)

            jwt = _jwt(settings, clients, fixture.token, bars)
            baseline = _emulator(settings, clients, fixture, bars)
            plan = _plan(fixture)
            urls = {"app": app_url, "bare": bare_url, "emulator": endpoint_url}
            headers = {endpoint.name: _headers(endpoint, fixture.token) for endpoint in plan}
            _check(plan, urls, headers, fixture)
            pids = Processes(app.process.pid, bare.process.pid, moto.process.pid)
            measured = _load(plan, urls, headers, shape, pids, work, tools, bars)
        except BaseException:
            print_logs(console, supervisor)  # they go with the scratch directory
            raise
        finally:
            supervisor.stop_all()
    result = _result(
        quick, shape, tools, plan, fixture, measured, jwt, (load_start, os.getloadavg())
    )
    result["emulator_baseline"] = baseline
    result["plot"] = _plot(result, RESULTS / f"{NAME}.png")
    path = write_result(NAME, result)
    _print(console, result, path)
    return result


def _tools() -> dict[str, str]:
    """Where wrk and hey are; a clear error if either is missing."""
    found = {name: shutil.which(name) for name in ("wrk", "hey")}
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        raise SystemExit(
            f"bench api needs the load generators {' and '.join(missing)}: "
            f"`apt-get install {' '.join(missing)}` (`make bench` installs them)"
        )
    return {name: str(path) for name, path in found.items()}


def _app_env(endpoint_url: str) -> dict[str, str]:
    return clean_env(
        AWS_ENDPOINT_URL=endpoint_url,
        FLIXSTACK_STAGE=STAGE,
        FLIXSTACK_RATE_LIMIT_PER_S=str(RATE_LIMIT_PER_S),
        FLIXSTACK_RATE_LIMIT_BURST=str(RATE_LIMIT_BURST),
    )


# --- the platform's data -------------------------------------------------------------------------


def _fixture(app_url: str, token: str, titles: Sequence[TitleDocument], now: datetime) -> Fixture:
    """Two profiles, progress and My List for the first, and the title and query to ask for."""
    licensed = sorted(
        (t for t in titles if availability.licensed(t.licences, TERRITORY, now)),
        key=lambda t: (-t.popularity, t.id),
    )
    movies = [t for t in licensed if t.kind is TitleKind.MOVIE]
    rng = random.Random(SEED)
    headers = {"Authorization": f"Bearer {token}", "CloudFront-Viewer-Country": TERRITORY}
    with httpx.Client(base_url=app_url, headers=headers, timeout=30) as client:
        if "/profiles" not in _ok(client.get("/openapi.json"))["paths"]:
            raise RuntimeError(f"the app at {app_url} has no /profiles routes to load")
        profiles = [
            _ok(client.post("/profiles", json={"name": "Bench"})),
            _ok(client.post("/profiles", json={"name": "Bench Kids", "kids": True})),
        ]
        profile_id = str(profiles[0]["id"])
        watching = movies[:WATCHING_TITLES]
        beats = []
        for minutes, doc in enumerate(reversed(watching)):
            duration = float((doc.runtime_min or 100) * 60)
            beats.append(
                {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "title_id": doc.id,
                    "position_s": round(duration * rng.uniform(0.2, 0.8), 1),
                    "duration_s": duration,
                    "client_ts": (now - timedelta(minutes=60 - minutes)).isoformat(),
                    "device": "bench",
                }
            )
        report = _ok(client.post(f"/profiles/{profile_id}/progress", json={"heartbeats": beats}))
        assert report["applied"] == len(beats), report
        listed = movies[WATCHING_TITLES : WATCHING_TITLES + LIST_TITLES]
        for doc in listed:
            _ok(client.put(f"/profiles/{profile_id}/my-list/{doc.id}"))
        query, searched = _typo_query(client, licensed, rng)
    return Fixture(
        token=token,
        profile_id=profile_id,
        detail=licensed[0],
        query=query,
        searched=searched,
        watching=[t.id for t in watching],
        listed=[t.id for t in listed],
    )


def _typo_query(
    client: httpx.Client, licensed: Sequence[TitleDocument], rng: random.Random
) -> tuple[str, TitleDocument]:
    """A popular title's English name with one typo, that finds the title in its top 3."""
    from bench.search import mistype  # the search benchmark's typo generator

    for doc in licensed[:50]:
        text = doc.localized.get("en") or doc.localized[doc.default_language]
        words = tokens(text.name)
        long = [i for i, word in enumerate(words) if len(word) >= 5]
        if len(words) < 2 or not long:
            continue
        position = rng.choice(long)
        _, typo = mistype(words[position], rng)
        query = " ".join([*words[:position], typo, *words[position + 1 :]])
        hits = _ok(client.get("/search", params={"q": query, "limit": 20}))
        if doc.id in [hit["id"] for hit in hits[:3]]:
            return query, doc
    raise RuntimeError("no typo query found its title in the top 3")


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return response.json()


# --- what is loaded -----------------------------------------------------------------------------


def _plan(fixture: Fixture) -> list[Endpoint]:
    profile = f"/profiles/{fixture.profile_id}"
    return [
        Endpoint("bare", "/titles?limit=20", "bare", what="bare FastAPI, prebuilt browse page"),
        Endpoint("health", "/health", "app", what="every spec resource (inventory cached 10 s)"),
        Endpoint("browse", "/titles?limit=20", "app", what="first browse page, 20 cards"),
        Endpoint(
            "title_detail",
            f"/titles/{fixture.detail.id}",
            "app",
            what=f"title page of the most popular title ({fixture.detail.kind.value})",
        ),
        Endpoint(
            "search",
            "/search?" + urlencode({"q": fixture.query, "limit": 20}),
            "app",
            what=f"typo query {fixture.query!r}, limit 20",
        ),
        Endpoint(
            "continue_watching",
            f"{profile}/continue-watching",
            "app",
            auth=True,
            what=f"{len(fixture.watching)} movies in progress",
        ),
        Endpoint(
            "my_list",
            f"{profile}/my-list",
            "app",
            auth=True,
            what=f"{len(fixture.listed)} movies listed",
        ),
        Endpoint("profile_list", "/profiles", "app", auth=True, what="2 profiles"),
    ]


def _headers(endpoint: Endpoint, token: str) -> dict[str, str]:
    headers = {"CloudFront-Viewer-Country": TERRITORY}
    if endpoint.auth:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _check(
    plan: Sequence[Endpoint],
    urls: dict[str, str],
    headers: dict[str, dict[str, str]],
    fixture: Fixture,
) -> None:
    """Each URL answers 200 with what it should, before any load."""
    for endpoint in plan:
        body = _ok(httpx.get(urls[endpoint.server] + endpoint.path, headers=headers[endpoint.name]))
        if endpoint.name in ("bare", "browse"):
            assert len(body["items"]) == 20, body
        elif endpoint.name == "health":
            assert body["all_present"], body
        elif endpoint.name == "title_detail":
            assert body["id"] == fixture.detail.id, body
        elif endpoint.name == "search":
            assert fixture.searched.id in [hit["id"] for hit in body[:3]], body
        elif endpoint.name == "continue_watching":
            assert [i["title"]["id"] for i in body["items"]] == fixture.watching, body
        elif endpoint.name == "my_list":
            assert [i["title"]["id"] for i in body["items"]] == fixture.listed, body
        elif endpoint.name == "profile_list":
            assert len(body) == 2, body


# --- load ---------------------------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _command(argv: Sequence[str], timeout: float) -> str:
    done = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=die_with_parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


class EmulatorProbe:
    """Times ``GET /moto-api/`` (a static page: no backend work) every ``PROBE_EVERY_S``
    from a thread, so that a stall of the emulator shows up next to a run's latencies."""

    def __init__(self, url: str) -> None:
        self._url = f"{url}/moto-api/"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)
        self.latencies_ms: list[float] = []

    def _probe(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.wait(PROBE_EVERY_S):
                started = time.perf_counter()
                with contextlib.suppress(httpx.HTTPError):  # a failure counts as its time
                    client.get(self._url)
                self.latencies_ms.append((time.perf_counter() - started) * 1000)

    def __enter__(self) -> EmulatorProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms) or [0.0]
        return {
            "probes": len(self.latencies_ms),
            "p50_ms": round(percentile(values, 50), 2),
            "max_ms": round(values[-1], 2),
            "over_100_ms": sum(value > 100 for value in values),
        }


def _settle(pids: Processes) -> float:
    """Waits until the servers and the emulator are idle (a backlog left by the previous
    run, e.g. requests still waiting on the emulator, must not land in the next one);
    returns the seconds waited."""
    started = time.monotonic()
    every = (pids.app, pids.bare, pids.emulator)
    while time.monotonic() - started < SETTLE_MAX_S:
        before = sum(_cpu_s(pid) for pid in every)
        time.sleep(SETTLE_WINDOW_S)
        if sum(_cpu_s(pid) for pid in every) - before < SETTLE_CPU * SETTLE_WINDOW_S:
            break
    return round(time.monotonic() - started, 2)


def _wrk(
    tools: dict[str, str], url: str, headers: dict[str, str], seconds: float, script: Path
) -> dict[str, Any]:
    argv = [
        tools["wrk"], "-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS),
        "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(script),
    ]  # fmt: skip
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    output = _command([*argv, url], timeout=seconds + 60)
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return summary


def _throughput(
    tools: dict[str, str],
    url: str,
    headers: dict[str, str],
    shape: dict[str, int],
    pids: Processes,
    server_pid: int,
    script: Path,
) -> dict[str, Any]:
    """A wrk warm-up, then the measured wrk run with the CPU time each process spent."""
    _wrk(tools, url, headers, shape["warmup_s"], script)
    before = (_cpu_s(server_pid), _cpu_s(pids.emulator), _children_cpu_s())
    summary = _wrk(tools, url, headers, shape["throughput_s"], script)
    after = (_cpu_s(server_pid), _cpu_s(pids.emulator), _children_cpu_s())
    seconds = summary["duration_us"] / 1e6
    requests = int(summary["requests"])
    cpu = [b - a for a, b in zip(before, after, strict=True)]
    errors = sum(int(summary[k]) for k in ("connect", "read", "write", "timeout"))
    return {
        "rps": round(requests / seconds, 1),
        "requests": requests,
        "seconds": round(seconds, 3),
        "non_2xx": int(summary["status"]),
        "socket_errors": errors,
        "wrk_p50_ms": round(summary["p50_us"] / 1000, 3),
        "wrk_p99_ms": round(summary["p99_us"] / 1000, 3),
        "server_cpu_share": round(cpu[0] / seconds, 3),
        "cpu_us_per_request": {
            "server": round(cpu[0] / requests * 1e6, 1),
            "emulator": round(cpu[1] / requests * 1e6, 1),
            "load_generator": round(cpu[2] / requests * 1e6, 1),
        },
    }


def _latency(
    tools: dict[str, str], url: str, headers: dict[str, str], rps: float, seconds: float
) -> dict[str, Any]:
    """``HEY_PROCESSES`` hey processes of one worker each, together paced to ``rps`` and
    started ``1/rps`` apart (one hey process starts all its workers' tickers at once, so
    its requests would arrive in bursts); percentiles from their per-request CSVs."""
    argv = [
        tools["hey"], "-z", f"{seconds:g}s", "-c", "1", "-q", f"{rps / HEY_PROCESSES:.3f}",
        "-t", "10", "-o", "csv",
    ]  # fmt: skip
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    env = {**os.environ, "GOMAXPROCS": "1"}
    processes: list[subprocess.Popen[str]] = []
    rows: list[dict[str, str]] = []
    try:
        started = time.perf_counter()
        for index in range(HEY_PROCESSES):
            time.sleep(max(0.0, started + index / rps - time.perf_counter()))
            processes.append(
                subprocess.Popen(
                    [*argv, url],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                    preexec_fn=die_with_parent,
                )
            )
        for process in processes:
            output, errors = process.communicate(timeout=seconds + 60)
            if process.returncode != 0:
                raise RuntimeError(f"hey exited with {process.returncode}: {errors[-2000:]}")
            rows += csv.DictReader(io.StringIO(output))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    latencies = sorted(float(row["response-time"]) * 1000 for row in rows)
    statuses = Counter(row["status-code"] for row in rows)
    return {
        "target_rps": round(rps, 1),
        "achieved_rps": round(len(rows) / seconds, 1),
        "requests": len(rows),
        "non_2xx": sum(n for code, n in statuses.items() if not code.startswith("2")),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(latencies[-1], 3),
    }


def _load(
    plan: Sequence[Endpoint],
    urls: dict[str, str],
    headers: dict[str, dict[str, str]],
    shape: dict[str, int],
    pids: Processes,
    work: Path,
    tools: dict[str, str],
    bars: Progress,
) -> dict[str, Any]:
    script = work / "summary.lua"
    script.write_text(WRK_SCRIPT)
    bare, *ours = plan
    run_s = shape["warmup_s"] + shape["throughput_s"]
    runs = shape["rounds"] * (1 + 2 * len(ours))
    task = bars.add_task("load", total=runs * run_s + len(plan) * shape["latency_s"])

    def throughput(endpoint: Endpoint, round_: int) -> dict[str, Any]:
        bars.update(task, description=f"load: {endpoint.name} max throughput {round_ + 1} (wrk)")
        settled = _settle(pids)
        pid = pids.bare if endpoint.server == "bare" else pids.app
        url = urls[endpoint.server] + endpoint.path
        measured = _throughput(tools, url, headers[endpoint.name], shape, pids, pid, script)
        bars.advance(task, run_s)
        return {**measured, "settled_s": settled}

    def latency(endpoint: Endpoint, rps: float) -> dict[str, Any]:
        bars.update(task, description=f"load: {endpoint.name} at half load (hey)")
        settled = _settle(pids)
        url = urls[endpoint.server] + endpoint.path
        with EmulatorProbe(urls["emulator"]) as probe:
            measured = _latency(tools, url, headers[endpoint.name], rps / 2, shape["latency_s"])
        bars.advance(task, shape["latency_s"])
        return {**measured, "settled_s": settled, "emulator_probe": probe.summary()}

    # Every endpoint's run sits between two bare runs; rounds alternate the endpoint order.
    bare_runs: list[dict[str, Any]] = []
    own: dict[str, list[dict[str, Any]]] = {endpoint.name: [] for endpoint in ours}
    neighbours: dict[str, list[float]] = {endpoint.name: [] for endpoint in ours}
    for round_ in range(shape["rounds"]):
        before = throughput(bare, round_)
        bare_runs.append(before)
        for endpoint in ours if round_ % 2 == 0 else ours[::-1]:
            own[endpoint.name].append(throughput(endpoint, round_))
            after = throughput(bare, round_)
            bare_runs.append(after)
            neighbours[endpoint.name] += [before["rps"], after["rps"]]
            before = after
    bare_rps = statistics.median(run["rps"] for run in bare_runs)
    results: dict[str, Any] = {
        bare.name: {"runs": bare_runs, "rps": bare_rps, "half_load": latency(bare, bare_rps)}
    }
    for endpoint in ours:
        rps = statistics.median(run["rps"] for run in own[endpoint.name])
        results[endpoint.name] = {
            "runs": own[endpoint.name],
            "rps": rps,
            "bare_neighbours": neighbours[endpoint.name],
            "half_load": latency(endpoint, rps),
        }
    return results


# --- the emulator -------------------------------------------------------------------------------


def _emulator(
    settings: Settings, clients: AwsClients, fixture: Fixture, bars: Progress
) -> dict[str, Any]:
    """Milliseconds per repository read the profile routes make, timed here one by one
    against the emulator without load: how much of their latency is the emulator's."""
    from flixstack.aws.viewer_store import DynamoViewerRepository

    repository = DynamoViewerRepository(settings.naming.table(spec.VIEWERS), clients.dynamodb)
    account = str(pyjwt.decode(fixture.token, options={"verify_signature": False})["sub"])
    reads: dict[str, Callable[[], object]] = {
        "profiles": lambda: repository.profiles(account),
        "all_progress": lambda: repository.all_progress(account, fixture.profile_id),
        "my_list": lambda: repository.my_list(account, fixture.profile_id),
    }
    task = bars.add_task("emulator: repository reads", total=len(reads) * EMULATOR_CALLS)
    timings: dict[str, list[float]] = {}
    for name, read in reads.items():
        read()
        measured = []
        for _ in range(EMULATOR_CALLS):
            started = time.perf_counter_ns()
            read()
            measured.append((time.perf_counter_ns() - started) / 1e6)
            bars.advance(task)
        timings[name] = sorted(measured)
    return {
        "what": "DynamoViewerRepository reads (one Query each) against moto, unloaded, "
        "timed one by one in the benchmark process",
        "calls": EMULATOR_CALLS,
        **{
            name: {
                "p50_ms": round(percentile(values, 50), 3),
                "p99_ms": round(percentile(values, 99), 3),
            }
            for name, values in timings.items()
        },
    }


# --- JWT ----------------------------------------------------------------------------------------


def _jwt(settings: Settings, clients: AwsClients, token: str, bars: Progress) -> dict[str, Any]:
    pool = find_pool(settings, clients)
    verifier = TokenVerifier(
        pool.issuer,
        pool.client_ids.values(),
        Jwks(pool.jwks_url, refresh_min_s=settings.jwks_refresh_min_s),
        leeway_s=settings.jwt_leeway_s,
    )
    authenticator = Authenticator(settings, clients)
    header = f"Bearer {token}"
    paths: dict[str, Callable[[], object]] = {
        "verify": lambda: verifier.verify(token),
        "principal": lambda: authenticator.principal(header),
    }
    timings: dict[str, list[float]] = {}
    for name, call in paths.items():
        task = bars.add_task(f"jwt: {name}", total=JWT_WARMUP + JWT_ITERATIONS)
        for _ in range(JWT_WARMUP):  # the first call fetches the JWKS (and finds the pool)
            call()
        bars.advance(task, JWT_WARMUP)
        measured = []
        for _ in range(JWT_ITERATIONS):
            started = time.perf_counter_ns()
            call()
            measured.append((time.perf_counter_ns() - started) / 1000)
        bars.advance(task, JWT_ITERATIONS)
        timings[name] = sorted(measured)
    return {
        name: {
            "p50_us": round(percentile(values, 50), 1),
            "p99_us": round(percentile(values, 99), 1),
            "max_us": round(values[-1], 1),
            "mean_us": round(statistics.fmean(values), 1),
        }
        for name, values in timings.items()
    } | {"iterations": JWT_ITERATIONS, "warmup": JWT_WARMUP}


# --- results ------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("uvicorn", "fastapi", "starlette", "pydantic", "uvloop", "httptools", "moto"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    for package in ("wrk", "hey"):
        try:
            versions[package] = _command(["dpkg-query", "-W", "-f", "${Version}", package], 10)
        except (OSError, RuntimeError):
            versions[package] = "unknown"
    return versions


def _result(
    quick: bool,
    shape: dict[str, int],
    tools: dict[str, str],
    plan: Sequence[Endpoint],
    fixture: Fixture,
    measured: dict[str, Any],
    jwt: dict[str, Any],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> dict[str, Any]:
    endpoints: dict[str, Any] = {}
    meets: dict[str, bool] = {}
    for endpoint in plan:
        data = measured[endpoint.name]
        half = data["half_load"]
        rps = data["rps"]
        bare_rps = statistics.median(data.get("bare_neighbours") or [rps])
        ratio = round(rps / bare_rps, 3)
        median_run = min(data["runs"], key=lambda run: abs(run["rps"] - rps))
        endpoints[endpoint.name] = {
            "rps": round(rps, 1),
            "p50_ms": half["p50_ms"],
            "p95_ms": half["p95_ms"],
            "p99_ms": half["p99_ms"],
            "throughput_ratio_vs_bare": ratio,
            "path": endpoint.path,
            "authenticated": endpoint.auth,
            "what": endpoint.what,
            "cached_read_path": endpoint.name in CACHED_READ_PATHS,
            "half_load": half,
            "throughput_runs_rps": [run["rps"] for run in data["runs"]],
            "max_throughput": median_run,
        }
        if endpoint.name == "bare":
            continue
        endpoints[endpoint.name]["bare_rps"] = round(bare_rps, 1)
        endpoints[endpoint.name]["bare_neighbours_rps"] = data["bare_neighbours"]
        if endpoint.name in CACHED_READ_PATHS:
            meets[f"endpoints.{endpoint.name}.throughput_ratio_vs_bare"] = ratio >= GOAL_RATIO
        meets[f"endpoints.{endpoint.name}.p99_ms"] = half["p99_ms"] <= GOAL_P99_MS
    jwt_p99 = jwt["verify"]["p99_us"]
    meets["jwt_verify_p99_us"] = jwt_p99 <= GOAL_JWT_P99_US
    runs = [run for e in plan for run in measured[e.name]["runs"]]
    failed = sum(run["non_2xx"] + run["socket_errors"] for run in runs)
    failed += sum(measured[e.name]["half_load"]["non_2xx"] for e in plan)
    return {
        "quick": quick,
        "endpoints": endpoints,
        "jwt_verify_p99_us": jwt_p99,
        "jwt": jwt,
        "cached_read_paths": list(CACHED_READ_PATHS),
        "failed_requests": failed,
        "fixture": {
            "titles": shape["titles"],
            "generator": f"flixstack.catalog.seed.generate_titles(seed={SEED}, now=run time)",
            "territory": TERRITORY,
            "detail_title": fixture.detail.id,
            "search_query": fixture.query,
            "search_intended": fixture.searched.id,
            "continue_watching": len(fixture.watching),
            "my_list": len(fixture.listed),
            "profiles": 2,
        },
        "load": {
            "throughput": f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{shape['throughput_s']}s "
            f"after a {shape['warmup_s']} s warm-up; {shape['rounds']} rounds of bare, endpoint, "
            "bare, endpoint, ..., bare (order reversed every other round)",
            "half_load": f"{HEY_PROCESSES} x (GOMAXPROCS=1 hey -c 1 -q <rps/2/{HEY_PROCESSES}> "
            f"-z {shape['latency_s']}s -o csv), started 2/rps s apart",
            "order": [e.name for e in plan],
            "tools": tools,
        },
        "method": METHOD,
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "versions": _versions(),
            "loadavg_start": [round(x, 2) for x in load[0]],
            "loadavg_end": [round(x, 2) for x in load[1]],
        },
        "goals": {
            "endpoints.<cached read path>.throughput_ratio_vs_bare": f">= {GOAL_RATIO}",
            "endpoints.<every endpoint>.p99_ms (at half of its max throughput)": (
                f"<= {GOAL_P99_MS:g}"
            ),
            "jwt_verify_p99_us": f"<= {GOAL_JWT_P99_US:g}",
        },
        "meets_goals": meets,
        "sizes": shape,
    }


# --- presentation -------------------------------------------------------------------------------


def _plot(result: dict[str, Any], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    endpoints = result["endpoints"]
    names = [name for name in endpoints if name != "bare"]
    labels = [f"{name}{' *' if endpoints[name]['cached_read_path'] else ''}" for name in names]
    figure, (left, right) = plt.subplots(1, 2, figsize=(15, 6.5), constrained_layout=True)

    positions = range(len(names))
    width = 0.38
    ours = [endpoints[name]["rps"] for name in names]
    peers = [endpoints[name]["bare_rps"] for name in names]
    left.bar([p - width / 2 for p in positions], ours, width, color="tab:red", label="endpoint")
    left.bar(
        [p + width / 2 for p in positions],
        peers,
        width,
        color="tab:blue",
        label="bare FastAPI (median of the runs next to it)",
    )
    for p, name in zip(positions, names, strict=True):
        if endpoints[name]["cached_read_path"]:
            half = GOAL_RATIO * endpoints[name]["bare_rps"]
            left.hlines(half, p - width, p, colors="black", linestyles="--", linewidth=1.2)
        left.annotate(
            f"{endpoints[name]['throughput_ratio_vs_bare']:.2f}x",
            (p - width / 2, endpoints[name]["rps"]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    left.plot([], [], color="black", linestyle="--", label=f"goal: {GOAL_RATIO}x bare (*)")
    left.set_xticks(list(positions), labels, rotation=30, ha="right")
    left.set_ylim(0, 1.25 * max([*ours, *peers]))
    left.set_ylabel("requests/s at max throughput (wrk)")
    left.set_title("Max throughput vs the bare peer (* cached read path)")
    left.legend(fontsize=8, loc="upper center", ncols=3)
    left.grid(True, axis="y", alpha=0.3)

    everything = ["bare", *names]
    positions = range(len(everything))
    width = 0.27
    for offset, (key, color) in zip(
        (-width, 0.0, width),
        (("p50_ms", "tab:green"), ("p95_ms", "tab:orange"), ("p99_ms", "tab:red")),
        strict=True,
    ):
        right.bar(
            [p + offset for p in positions],
            [endpoints[name][key] for name in everything],
            width,
            color=color,
            label=key.removesuffix("_ms"),
        )
    right.axhline(
        GOAL_P99_MS,
        color="black",
        linestyle="--",
        linewidth=1.2,
        label=f"p99 goal {GOAL_P99_MS:g} ms",
    )
    right.set_yscale("log")
    right.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    right.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    right.yaxis.set_minor_formatter(NullFormatter())
    right.set_xticks(list(positions), everything, rotation=30, ha="right")
    right.set_ylabel("latency (ms, log) at half of max throughput (hey)")
    right.set_title("Latency at half load")
    right.legend(fontsize=8)
    right.grid(True, axis="y", which="both", alpha=0.3)
    cpus = result["environment"]["cpu_count"]
    figure.suptitle(
        f"flixstack API over uvicorn on localhost ({cpus} CPUs shared by the load generator, "
        "the server and the emulator)"
    )
    return harness.save_figure(figure, path)


def _print(console: Console, result: dict[str, Any], path: Path) -> None:
    table = Table(title=f"api benchmark ({path})")
    columns = ("endpoint", "rps", "/bare", "p50", "p95", "p99", "CPU", "emu", "met")
    for column in columns:
        table.add_column(column)
    meets = result["meets_goals"]
    for name, data in result["endpoints"].items():
        checks = [v for k, v in meets.items() if k.startswith(f"endpoints.{name}.")]
        table.add_row(
            f"{name}{'*' if data['cached_read_path'] else ''}",
            f"{data['rps']:.0f}",
            f"{data['throughput_ratio_vs_bare']:.2f}",
            f"{data['p50_ms']:.2f}",
            f"{data['p95_ms']:.2f}",
            f"{data['p99_ms']:.2f}",
            f"{data['max_throughput']['server_cpu_share']:.2f}",
            f"{data['half_load']['emulator_probe']['max_ms']:.0f}",
            ("yes" if all(checks) else "NO") if checks else "",
        )
    jwt = result["jwt"]
    table.add_row(
        "jwt verify", "", "", f"{jwt['verify']['p50_us']:.0f}", "",
        f"{jwt['verify']['p99_us']:.0f}", "", "", "yes" if meets["jwt_verify_p99_us"] else "NO",
    )  # fmt: skip
    table.add_row(
        "principal", "", "", f"{jwt['principal']['p50_us']:.0f}", "",
        f"{jwt['principal']['p99_us']:.0f}", "", "", "",
    )  # fmt: skip
    console.print(table)
    console.print(
        "*: cached read path. p50/p95/p99: ms at half of the endpoint's max throughput "
        "(jwt rows: µs); CPU: the server's CPUs in use at max throughput; emu: slowest "
        "emulator probe (ms) during the latency run"
    )
    baseline = result.get("emulator_baseline") or {}
    reads = [f"{k} {v['p50_ms']:.1f}" for k, v in baseline.items() if isinstance(v, dict)]
    if reads:
        console.print(f"emulator, unloaded, p50 ms per repository read: {', '.join(reads)}")
    if result["failed_requests"]:
        console.print(f"[red]{result['failed_requests']} requests failed under load[/]")
