"""The home page's latency in-process, at catalogue scale: ``GET /profiles/{p}/home``.

- **data**: 10,000 published titles (licensed in the US, a tenth only in France, every
  maturity rating), a model version with 30 collaborative and 30 content neighbours per
  title, and 100,000 profiles (50,000 accounts) each with 100 trained picks and 0-15
  titles in progress (a third of them finished); all generated with a fixed seed;
- **what runs**: the real API app (``create_app``: middleware, router, dependencies,
  response model) through httpx's ASGI transport, with the real ``HomeService``,
  ``ViewerService`` and catalog view over in-memory stores (the reads DynamoDB would
  answer), and the near-cached catalog, model and trending ranks. Only the caller is
  given (the access token's check is the API benchmark's);
- **peer**: a bare FastAPI endpoint returning a home page's JSON, as large as the real
  ones, through the same transport: what the framework alone costs;
- **load**: one request at a time for random profiles (the latencies of an unloaded
  process: what the page itself costs), after a warm-up.

Writes ``bench/results/home.json`` and a latency plot ``bench/results/home.png``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI, Request
from rich.console import Console

from bench import RESULTS, harness, write_result
from flixstack.api import deps
from flixstack.api.app import create_app
from flixstack.auth.tokens import Principal
from flixstack.catalog.models import GENRES, MATURITY_LEVELS, Licence, LocalizedText, TitleDocument
from flixstack.catalog.service import CatalogView
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot
from flixstack.events.trending import TrendingRanks
from flixstack.nearcache import NearCache
from flixstack.recommend.artifacts import NEIGHBOURS, PICKS, Picks, RecModel
from flixstack.recommend.home import HomeService
from flixstack.recommend.memory import MemoryModels, MemoryPicks
from flixstack.settings import Settings
from flixstack.viewers.models import Account, Profile, Progress
from flixstack.viewers.service import ViewerService

NAME = "home"
TITLES = 10_000
ACCOUNTS = 50_000
PROFILES_PER_ACCOUNT = 2
SEED = 2026
REQUESTS = 5_000
WARMUP = 500
P99_GOAL_MS = 30.0
NOW = datetime.now(UTC)
STAMP = "2026-01-01T00:00:00.000Z"
EVER = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def catalog(rng: random.Random) -> list[TitleDocument]:
    ratings = list(MATURITY_LEVELS)
    docs = []
    for n in range(TITLES):
        territory = "FR" if n % 10 == 9 else "US"
        docs.append(
            TitleDocument(
                id=f"t{n:05d}",
                localized={"en": LocalizedText(name=f"Title {n}", synopsis=f"About title {n}.")},
                genres=rng.sample(GENRES, rng.randint(1, 3)),
                maturity_rating=rng.choice(ratings),
                release_year=rng.randint(1950, 2026),
                state="published",
                licences=[Licence(territory=territory, start=EVER[0], end=EVER[1])],
                created_at=STAMP,
                created_by="bench",
                updated_at=STAMP,
                updated_by="bench",
                published_at=(NOW - timedelta(minutes=n)).isoformat(),
            )
        )
    return docs


def rec_model(docs: list[TitleDocument], rng: np.random.Generator) -> RecModel:
    """Neighbours drawn from titles sharing the first genre (what a trained model's look
    like to the page: 30 ids per title, all valid)."""
    by_genre: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        by_genre.setdefault(doc.genres[0], []).append(i)
    pools = {g: np.array(ids, dtype=np.int32) for g, ids in by_genre.items()}

    def near() -> np.ndarray:
        return np.stack([rng.choice(pools[doc.genres[0]], NEIGHBOURS) for doc in docs])

    return RecModel(
        version=1,
        trained_at=NOW.isoformat(),
        titles=tuple(doc.id for doc in docs),
        neighbours=near(),
        similar=near(),
        popular=rng.permutation(len(docs)).astype(np.int32),
    )


@dataclass
class MemoryViewers:
    """What the viewers table answers for these reads, held in memory."""

    profiles_of: dict[str, list[Profile]]
    progress_of: dict[tuple[str, str], list[Progress]]

    def account(self, account: str) -> Account:
        return Account()

    def profiles(self, account: str) -> list[Profile]:
        return self.profiles_of[account]

    def all_progress(self, account: str, profile_id: str) -> list[Progress]:
        return self.progress_of.get((account, profile_id), [])


def viewers(docs: list[TitleDocument], rng: random.Random) -> tuple[MemoryViewers, MemoryPicks]:
    titles = [doc.id for doc in docs]
    profiles: dict[str, list[Profile]] = {}
    progress: dict[tuple[str, str], list[Progress]] = {}
    picks = MemoryPicks()
    for a in range(ACCOUNTS):
        account = f"acct{a:06d}"
        profiles[account] = []
        for slot in range(1, PROFILES_PER_ACCOUNT + 1):
            profile_id = f"p{a:06d}{slot}"
            profiles[account].append(
                Profile.model_construct(
                    id=profile_id,
                    slot=slot,
                    name=f"Viewer {slot}",
                    avatar="blue",
                    kids=False,
                    maturity_level=rng.choice((13, 18)),
                    language="en",
                    created_at=STAMP,
                    updated_at=STAMP,
                    version=1,
                )
            )
            watched = rng.sample(titles, rng.randint(0, 15))
            progress[(account, profile_id)] = [
                _progress(title_id, rng, finished=rng.random() < 1 / 3) for title_id in watched
            ]
            picks.saved[(account, profile_id)] = Picks.model_construct(
                titles=rng.sample(titles, PICKS),
                hidden=rng.sample(titles, rng.randint(0, 3)),
                model_version=1,
                trained_at=NOW.isoformat(),
            )
    return MemoryViewers(profiles, progress), picks


def _progress(title_id: str, rng: random.Random, finished: bool) -> Progress:
    at = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
    return Progress.model_construct(
        title_id=title_id,
        episode_id=None,
        position_s=5900.0 if finished else rng.uniform(60, 5000),
        duration_s=6000.0,
        client_ts=at,
        event_id=f"e{rng.getrandbits(48):x}",
        device="tv",
        session_started=at,
        recent_events=[],
        updated_at=STAMP,
        version=1,
    )


class FixedTrending:
    def __init__(self, ranked: list[tuple[str, float]]) -> None:
        self._ranked = ranked

    def trending(self, territory: str, now: datetime, limit: int = 20) -> list[tuple[str, float]]:
        return self._ranked[:limit]


def apps(home: HomeService, page: dict[str, Any]) -> tuple[FastAPI, FastAPI]:
    """The real API (only the caller and the home service given) and the bare peer."""
    settings = Settings(
        stage="bench",
        endpoint_url="http://127.0.0.1:9",
        rate_limit_per_s=1e9,
        rate_limit_burst=10**9,
    )
    app = create_app(settings)

    def principal(request: Request) -> Principal:
        account = request.headers["x-bench-account"]
        return Principal(subject=account, username=account, groups=frozenset(), client_id="bench")

    async def home_service() -> HomeService:
        return home

    app.dependency_overrides[deps._principal] = principal
    app.dependency_overrides[deps._home] = home_service
    bare = FastAPI()

    @bare.get("/profiles/{profile_id}/home")
    async def fixed(profile_id: str) -> dict[str, Any]:
        return page

    return app, bare


async def measure(
    app: FastAPI, targets: list[tuple[str, str]], bars: Any, label: str
) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    latencies = []
    task = bars.add_task(label, total=len(targets))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for n, (account, profile_id) in enumerate(targets):
            started = time.perf_counter()
            response = await client.get(
                f"/profiles/{profile_id}/home", headers={"x-bench-account": account}
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
            if n >= WARMUP:
                latencies.append(elapsed * 1000)
            bars.advance(task)
    return latencies


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(harness.percentile(values, 50), 3),
        "p95_ms": round(harness.percentile(values, 95), 3),
        "p99_ms": round(harness.percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "mean_ms": round(sum(values) / len(values), 3),
    }


def run(quick: bool) -> dict[str, Any]:
    console = Console()
    requests = 1_500 if quick else REQUESTS
    rng, nrng = random.Random(SEED), np.random.default_rng(SEED)
    started = time.perf_counter()
    with harness.bars(console, 32) as bars:
        setup = bars.add_task("catalog, model, 100,000 profiles", total=3)
        docs = catalog(rng)
        snapshot = CatalogSnapshot.build(docs, 1)
        cache = CatalogCache(harness.FixedSnapshots(snapshot), 3600)
        cache.install(snapshot)
        view = CatalogView(cache, "https://media.example")
        bars.advance(setup)
        models = MemoryModels()
        model_cache: NearCache[RecModel] = NearCache(models, 3600, "recommendation model")
        model_cache.install(rec_model(docs, nrng))
        bars.advance(setup)
        memory, picks = viewers(docs, rng)
        service = ViewerService(memory, cache, view)  # type: ignore[arg-type]
        trending = TrendingRanks(
            FixedTrending([(doc.id, 1.0) for doc in rng.sample(docs, 100)]), ttl_s=3600
        )
        home = HomeService(service, cache, view, model_cache, picks, trending)
        bars.advance(setup)

        accounts = list(memory.profiles_of)
        targets = []
        for _ in range(WARMUP + requests):
            account = rng.choice(accounts)
            targets.append((account, rng.choice(memory.profiles_of[account]).id))
        sample = home.home(*targets[0], territory="US", accept_language="en")
        app, bare = apps(home, sample.model_dump(mode="json"))
        page_bytes = len(sample.model_dump_json())

        service_ms = []
        task = bars.add_task("HomeService.home", total=len(targets))
        for n, (account, profile_id) in enumerate(targets):
            began = time.perf_counter()
            home.home(account, profile_id, territory="US", accept_language="en")
            if n >= WARMUP:
                service_ms.append((time.perf_counter() - began) * 1000)
            bars.advance(task)
        app_ms = asyncio.run(measure(app, targets, bars, "GET /profiles/{p}/home"))
        bare_ms = asyncio.run(measure(bare, targets, bars, "bare FastAPI endpoint"))

    pages = [home.home(a, p, territory="US", accept_language="en") for a, p in targets[:200]]
    rows = [len(page.rows) for page in pages]
    result = {
        "quick": quick,
        "titles": TITLES,
        "profiles": ACCOUNTS * PROFILES_PER_ACCOUNT,
        "accounts": ACCOUNTS,
        "picks_per_profile": PICKS,
        "requests": requests,
        "warmup": WARMUP,
        "page_bytes_sample": page_bytes,
        "rows_per_page_mean": round(sum(rows) / len(rows), 2),
        "home": summary(app_ms),
        "home_service": summary(service_ms),
        "bare_fastapi": summary(bare_ms),
        "p99_vs_bare": round(harness.percentile(app_ms, 99) / harness.percentile(bare_ms, 99), 2),
        "goal": {"p99_ms": P99_GOAL_MS, "met": harness.percentile(app_ms, 99) <= P99_GOAL_MS},
        "method": __doc__,
        "runtime_s": round(time.perf_counter() - started, 1),
        "machine": {"cpu_count": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]},
    }
    result["plot"] = _plot(app_ms, service_ms, bare_ms)
    path = write_result(NAME, result)
    console.print(
        f"home p50 {result['home']['p50_ms']} ms, p99 {result['home']['p99_ms']} ms "
        f"(goal <= {P99_GOAL_MS:g} ms: {'met' if result['goal']['met'] else 'NOT met'}); "
        f"service alone p99 {result['home_service']['p99_ms']} ms; bare FastAPI p99 "
        f"{result['bare_fastapi']['p99_ms']} ms ({result['p99_vs_bare']}x); {path}"
    )
    return result


def _plot(app_ms: list[float], service_ms: list[float], bare_ms: list[float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 5), constrained_layout=True)
    for values, label, color in (
        (app_ms, "GET /profiles/{p}/home (app, in-process)", "tab:red"),
        (service_ms, "HomeService.home alone", "tab:orange"),
        (bare_ms, "bare FastAPI endpoint, same JSON", "tab:gray"),
    ):
        ordered = np.sort(values)
        axis.plot(ordered, np.linspace(0, 100, len(ordered)), label=label, color=color)
    axis.axvline(P99_GOAL_MS, color="black", linestyle="--", linewidth=1)
    axis.axhline(99, color="black", linestyle=":", linewidth=0.8)
    axis.annotate(f"goal: p99 <= {P99_GOAL_MS:g} ms", (P99_GOAL_MS, 45), rotation=90, fontsize=8)
    axis.set_xscale("log")
    axis.set_xlabel("latency, ms (log)")
    axis.set_ylabel("percentile of requests")
    axis.set_title("Home page, 10,000 titles, 100,000 profiles' picks (one request at a time)")
    axis.legend(fontsize=9, loc="lower right")
    axis.grid(True, which="both", alpha=0.3)
    return harness.save_figure(figure, RESULTS / f"{NAME}.png")
