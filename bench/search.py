"""Catalog search and browse: latency, typo recall, and the cost of the HTTP path.

On a synthetic catalog (:func:`flixstack.catalog.seed.generate_titles`, 10,000 titles;
2,000 with ``--quick``) with a fixed seed and a fixed "now":

- **index**: the search index is built from the titles, stored with ``to_bytes`` and
  loaded back with ``from_bytes`` (as an API process loads it from a snapshot); the
  loaded index answers everything below;
- **queries**: 1,000 (200 with ``--quick``) from a seeded generator, a third of each kind:
  *exact* (a title's whole name in one of its languages, as displayed, or one of its cast
  members' names), *prefix* (a name's first word(s) plus the first 1-5 letters of the
  next, folded, as a viewer types) and *typo* (a name, folded, with one random edit -
  substitution, deletion, insertion or swap of neighbours - in one word of 4+ letters);
  intended titles are drawn uniformly, not by popularity;
- **latency**: ``SearchIndex.search(query, limit=20, allow=...)`` with a territory
  predicate built per query the way ``CatalogView`` builds it (licence windows at the
  fixed now), timed one by one with ``perf_counter_ns`` after 100 unmeasured warm-up
  queries; p50/p99/max over all queries and per kind;
- **recall**: the share of typo queries (and of exact name queries) whose intended title
  is among ``SearchIndex.search(query, limit=3)`` with no territory filter;
- **peer**: a linear scan, ``rapidfuzz.process.extract`` with ``fuzz.WRatio`` over every
  distinct folded name, cast and genre string of the catalog (see ``SCAN``), run on the
  same queries with the same predicate after the index's pass; ``speedup_vs_scan`` is
  the scan's p50 over the index's;
- **browse**: ``GET /titles`` (limit 20; first and later pages, six territories, some
  with a genre, several Accept-Languages) sent to ``create_app(...)`` in-process through
  ``httpx.ASGITransport`` in one event loop, interleaved request by request with the same
  requests to a bare FastAPI app whose one sync endpoint returns a prebuilt 20-card page;
  ``browse_overhead_vs_bare`` is our p50 over the bare app's.

Writes ``bench/results/search.json`` and ``bench/results/search.png``.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import AnyHttpUrl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import RESULTS, harness, write_result
from bench.harness import percentile
from flixstack.api.app import create_app
from flixstack.catalog import availability
from flixstack.catalog.models import GENRES, TitleDocument
from flixstack.catalog.search import SearchIndex, documents
from flixstack.catalog.seed import generate_titles
from flixstack.catalog.service import CatalogView
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot
from flixstack.catalog.text import index_tokens, tokens
from flixstack.settings import Settings

NAME = "search"
FULL = {"titles": 10_000, "queries": 1_000, "requests": 2_000}
QUICK = {"titles": 2_000, "queries": 200, "requests": 300}
SEED = 20_251_125
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
KINDS = ("exact", "prefix", "typo")
WARMUP_QUERIES = 100
WARMUP_REQUESTS = 100
LIMIT = 20
RECALL_AT = 3
TERRITORIES = ("US", "GB", "FR", "BR", "JP", "DE")
ACCEPT_LANGUAGES = ("en-US,en;q=0.9", "fr-FR,fr;q=0.9,en;q=0.5", "es-MX,es;q=0.9", "de", None)
EDITS = ("substitution", "deletion", "insertion", "swap")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
CAST_SHARE = 0.25
"""Share of exact queries that are a cast member's name (the rest are title names)."""
GENRE_SHARE = 0.3
"""Share of browse requests with a genre filter."""
MAX_PAGE = 5
"""Browse requests go up to this many pages deep (0 is the first page)."""
SCAN_CUTOFF = 60
MISS_EXAMPLES = 25
SCAN = (
    "rapidfuzz.process.extract(folded query, every distinct folded name/cast/genre string, "
    f"scorer=fuzz.WRatio, limit=None, score_cutoff={SCAN_CUTOFF}) - one linear pass over "
    "the strings - then the titles owning each string, best score first (ties: strings of "
    "more popular titles first, and titles of one string by popularity), filtered by the "
    "same territory predicate until 20"
)
METHOD = (
    "Queries are drawn with a seeded RNG, a third per kind. exact: a title's whole name in "
    f"one of its languages as displayed (accents, case), or ({CAST_SHARE:.0%} of exact "
    "queries) one of its cast members' names; prefix: the folded first k words of a name "
    "(k from 1 to all but one) plus the first 1-5 letters of the next word; typo: the "
    "folded name with one edit (substitution, deletion or insertion of a letter a-z, or a "
    "swap of two different neighbouring letters) in one word of 4+ letters, i.e. exactly "
    "one OSA edit. Titles are drawn uniformly (not by popularity), languages uniformly "
    "among the title's. Latency: SearchIndex.search(q, limit=20, allow=territory "
    "predicate as CatalogView builds it, at the fixed now) timed per query with "
    "perf_counter_ns after 100 unmeasured warm-up queries, index pass then scan pass over "
    "the same queries; recall: intended title id among search(q, limit=3) with NO "
    "territory filter (for the scan too). Exact-name recall counts name queries only "
    "(cast names are shared by many titles). Peer: " + SCAN + ". Browse: GET /titles "
    "through create_app(Settings(endpoint_url=unreachable, catalog_refresh_s=3600, rate limits "
    "raised so the single benchmark client is never throttled)) with "
    "the snapshot installed in a CatalogCache over an in-memory snapshot store (so no "
    "background check touches the network) and a CatalogView whose clock is the fixed now; "
    "httpx.AsyncClient(transport=ASGITransport) in one asyncio loop, requests interleaved "
    "(alternating which app goes first) with the bare app, warm-up first. The bare app is "
    "FastAPI with one sync endpoint returning a prebuilt CardPage-shaped dict of 20 cards, "
    "sent the same URLs and headers."
)


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    territory: str
    intended: str | None
    """The title the query means (None for a cast name: many titles share it)."""
    name: str = ""
    """The intended name (in the query's language) for name-based queries."""
    edit: str = ""
    """For typo queries: the edit and the word it changed, e.g. ``swap: river -> rievr``."""


def run(quick: bool) -> dict[str, Any]:
    shape = QUICK if quick else FULL
    console = Console()
    load_start = os.getloadavg()
    with harness.bars(console, 34) as bars:
        setup = bars.add_task("catalog and index", total=4)
        titles = generate_titles(shape["titles"], seed=SEED, now=NOW)
        bars.advance(setup)
        started = time.perf_counter()
        built = SearchIndex.build(documents(titles))
        build_s = time.perf_counter() - started
        stored = built.to_bytes()
        started = time.perf_counter()
        index = SearchIndex.from_bytes(stored)
        load_s = time.perf_counter() - started
        bars.advance(setup)
        snapshot = CatalogSnapshot.build(titles, 1, search=index)
        scan = FuzzyScan(titles)
        bars.advance(setup)
        rng = random.Random(SEED)
        warmup = make_queries(titles, WARMUP_QUERIES, rng)
        queries = make_queries(titles, shape["queries"], rng)
        for query in queries[:50]:  # the loaded index is the built one
            assert _ids(index.search(query.text, limit=LIMIT)) == _ids(
                built.search(query.text, limit=LIMIT)
            ), query
        bars.advance(setup)

        index_ms = _latencies(
            "index: SearchIndex.search", index.search, snapshot, warmup, queries, bars
        )
        scan_ms = _latencies(
            "peer: rapidfuzz WRatio scan", scan.search, snapshot, warmup, queries, bars
        )
        recall = _recall(index, scan, titles, queries, bars)
        browse = asyncio.run(_browse(snapshot, shape["requests"], bars))

    result = _result(
        quick,
        shape,
        titles,
        queries,
        index_ms,
        scan_ms,
        recall,
        browse,
        {"build_s": build_s, "to_bytes": len(stored), "from_bytes_s": load_s},
        (load_start, os.getloadavg()),
    )
    result["plot"] = _plot(queries, index_ms, scan_ms, browse, RESULTS / f"{NAME}.png")
    path = write_result(NAME, result)
    _print(console, result, path)
    return result


# --- queries ------------------------------------------------------------------------------------


def make_queries(titles: Sequence[TitleDocument], count: int, rng: random.Random) -> list[Query]:
    """``count`` queries, a third of each kind, in a shuffled order."""
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    makers = {"exact": _exact, "prefix": _prefix, "typo": _typo}
    queries = []
    for kind in kinds:
        query = None
        while query is None:  # some names have no word the kind can use; draw another
            title = rng.choice(titles)
            query = makers[kind](title, rng, rng.choice(TERRITORIES))
        queries.append(query)
    return queries


def _language(title: TitleDocument, rng: random.Random) -> tuple[str, str]:
    language = rng.choice(sorted(title.localized))
    return language, title.localized[language].name


def _exact(title: TitleDocument, rng: random.Random, territory: str) -> Query:
    if rng.random() < CAST_SHARE:
        return Query("exact", rng.choice(title.cast).name, territory, None)
    _, name = _language(title, rng)
    return Query("exact", name, territory, title.id, name)


def _prefix(title: TitleDocument, rng: random.Random, territory: str) -> Query | None:
    _, name = _language(title, rng)
    words = tokens(name)
    if len(words) < 2:
        return None
    whole = rng.randint(1, len(words) - 1)
    typed = words[whole][: rng.randint(1, min(5, len(words[whole])))]
    return Query("prefix", " ".join([*words[:whole], typed]), territory, title.id, name)


def _typo(title: TitleDocument, rng: random.Random, territory: str) -> Query | None:
    _, name = _language(title, rng)
    words = tokens(name)
    long = [i for i, word in enumerate(words) if len(word) >= 4]
    if not long:
        return None
    position = rng.choice(long)
    word = words[position]
    edit, typo = mistype(word, rng)
    assert OSA.distance(word, typo) == 1, (word, typo)
    text = " ".join([*words[:position], typo, *words[position + 1 :]])
    return Query("typo", text, territory, title.id, name, f"{edit}: {word} -> {typo}")


def mistype(word: str, rng: random.Random) -> tuple[str, str]:
    """(edit, ``word`` with exactly one random edit)."""
    while True:
        edit = rng.choice(EDITS)
        at = rng.randrange(len(word))
        if edit == "substitution":
            typo = word[:at] + rng.choice(LETTERS) + word[at + 1 :]
        elif edit == "deletion":
            typo = word[:at] + word[at + 1 :]
        elif edit == "insertion":
            at = rng.randrange(len(word) + 1)
            typo = word[:at] + rng.choice(LETTERS) + word[at:]
        else:
            at = rng.randrange(len(word) - 1)
            typo = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        if typo != word:
            return edit, typo


# --- the peer -----------------------------------------------------------------------------------


class FuzzyScan:
    """What one would write without an index: fuzzy-score every string, keep the best."""

    def __init__(self, titles: Sequence[TitleDocument]) -> None:
        owners: dict[str, list[str]] = {}
        for title in sorted(titles, key=lambda t: (-t.popularity, t.id)):
            texts = [
                *(text.name for text in title.localized.values()),
                *(member.name for member in title.cast),
                *title.genres,
            ]
            for folded in dict.fromkeys(" ".join(tokens(text)) for text in texts):
                owners.setdefault(folded, []).append(title.id)
        self.choices = list(owners)
        self.owners = [owners[choice] for choice in self.choices]

    def search(
        self, query: str, *, limit: int = LIMIT, allow: Callable[[str], bool] | None = None
    ) -> list[str]:
        folded = " ".join(tokens(query))
        if not folded:
            return []
        found: list[str] = []
        seen: set[str] = set()
        for _, _, position in process.extract(
            folded, self.choices, scorer=fuzz.WRatio, limit=None, score_cutoff=SCAN_CUTOFF
        ):
            for title_id in self.owners[position]:
                if title_id not in seen and (allow is None or allow(title_id)):
                    seen.add(title_id)
                    found.append(title_id)
                    if len(found) == limit:
                        return found
        return found


# --- measuring ----------------------------------------------------------------------------------


def _ids(hits: Sequence[Any]) -> list[str]:
    return [hit if isinstance(hit, str) else hit.title_id for hit in hits]


def _visible(snapshot: CatalogSnapshot, territory: str) -> Callable[[str], bool]:
    """The territory predicate, as CatalogView builds it per request (at the fixed now)."""
    titles = snapshot.titles
    return lambda title_id: (
        title_id in titles and availability.licensed(titles[title_id].licences, territory, NOW)
    )


def _latencies(
    label: str,
    search: Callable[..., Sequence[Any]],
    snapshot: CatalogSnapshot,
    warmup: Sequence[Query],
    queries: Sequence[Query],
    bars: Progress,
) -> list[float]:
    """Milliseconds per query of ``search(text, limit=20, allow=territory predicate)``."""
    task = bars.add_task(label, total=len(warmup) + len(queries))
    for query in warmup:
        search(query.text, limit=LIMIT, allow=_visible(snapshot, query.territory))
        bars.advance(task)
    timings = []
    for query in queries:
        started = time.perf_counter_ns()
        search(query.text, limit=LIMIT, allow=_visible(snapshot, query.territory))
        timings.append((time.perf_counter_ns() - started) / 1e6)
        bars.advance(task)
    return timings


@dataclass
class Recall:
    index: dict[str, list[bool]]
    scan: dict[str, list[bool]]
    misses: list[dict[str, Any]]
    by_edit: dict[str, list[bool]]
    real_word: list[bool]
    """Per typo query: whether the mistyped word is itself an indexed term."""
    shared_name: list[bool]
    """Per typo query: whether another title has the same name (folded, any language)."""


def _recall(
    index: SearchIndex,
    scan: FuzzyScan,
    titles: Sequence[TitleDocument],
    queries: Sequence[Query],
    bars: Progress,
) -> Recall:
    by_id = {t.id: t for t in titles}
    vocabulary = _vocabulary(titles)
    name_owners = Counter(
        folded
        for t in titles
        for folded in {" ".join(tokens(text.name)) for text in t.localized.values()}
    )
    judged = [q for q in queries if q.kind in ("exact", "typo") and q.intended is not None]
    task = bars.add_task(f"recall@{RECALL_AT} (no territory filter)", total=len(judged))
    recall = Recall({"exact": [], "typo": []}, {"exact": [], "typo": []}, [], {}, [], [])
    for query in judged:
        hits = index.search(query.text, limit=RECALL_AT)
        found = query.intended in _ids(hits)
        recall.index[query.kind].append(found)
        recall.scan[query.kind].append(query.intended in scan.search(query.text, limit=RECALL_AT))
        if query.kind == "typo":
            edit, change = query.edit.split(": ")
            typo_word = change.split(" -> ")[1]
            recall.by_edit.setdefault(edit, []).append(found)
            recall.real_word.append(typo_word in vocabulary)
            recall.shared_name.append(name_owners[" ".join(tokens(query.name))] > 1)
            if not found:
                recall.misses.append(_miss(index, query, by_id, hits, typo_word in vocabulary))
        bars.advance(task)
    return recall


def _miss(
    index: SearchIndex,
    query: Query,
    by_id: dict[str, TitleDocument],
    hits: Sequence[Any],
    real_word: bool,
) -> dict[str, Any]:
    """What a missed typo query returned instead, for whoever fixes the index."""
    deeper = _ids(index.search(query.text, limit=200))
    assert query.intended is not None
    return {
        "query": query.text,
        "edit": query.edit,
        "typo_is_indexed_term": real_word,
        "intended": {"id": query.intended, "name": query.name},
        "intended_rank": deeper.index(query.intended) + 1 if query.intended in deeper else None,
        "top3": [
            {
                "id": hit.title_id,
                "names": sorted({text.name for text in by_id[hit.title_id].localized.values()}),
                "match": str(hit.match),
                "edits": hit.edits,
                "field": str(hit.field),
            }
            for hit in hits
        ],
    }


def _vocabulary(titles: Sequence[TitleDocument]) -> set[str]:
    """The index's terms, recomputed from the titles (the index keeps its own private)."""
    return {
        term
        for doc in documents(titles)
        for text in (*doc.names, *doc.cast, *doc.genres)
        for term in index_tokens(text)
    }


# --- browse -------------------------------------------------------------------------------------


def _our_app(snapshot: CatalogSnapshot) -> FastAPI:
    settings = Settings(
        endpoint_url=AnyHttpUrl("http://127.0.0.1:9"),
        catalog_refresh_s=3600,
        rate_limit_per_s=1e9,  # one client sends everything: measure the path, not the limiter
        rate_limit_burst=10**9,
    )
    app = create_app(settings)
    cache = CatalogCache(harness.FixedSnapshots(snapshot), settings.catalog_refresh_s)
    cache.install(snapshot)
    app.state.services = replace(
        app.state.services,
        catalog_cache=cache,
        catalog_view=CatalogView(cache, settings.media_base_url, clock=lambda: NOW),
    )
    return app


def _bare_app(page: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.get("/titles")
    def titles() -> dict[str, Any]:
        return page

    return app


@dataclass(frozen=True)
class Request:
    params: dict[str, str]
    headers: dict[str, str]
    page: int


async def _browse(snapshot: CatalogSnapshot, count: int, bars: Progress) -> dict[str, Any]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_our_app(snapshot)), base_url="http://bench"
    ) as ours:
        rng = random.Random(SEED + 1)
        chains = await _cursor_chains(ours, bars)
        first = (await ours.get("/titles", params={"limit": str(LIMIT)})).json()
        assert len(first["items"]) == LIMIT, first
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_bare_app(first)), base_url="http://bench"
        ) as bare:
            warmup = [_request(chains, rng) for _ in range(WARMUP_REQUESTS)]
            plan = [_request(chains, rng) for _ in range(count)]
            task = bars.add_task("browse: GET /titles vs bare", total=len(warmup) + len(plan))
            timings: dict[str, list[float]] = {"ours": [], "bare": []}
            short_pages = 0
            for number, request in enumerate([*warmup, *plan]):
                order = [("ours", ours), ("bare", bare)]
                if number % 2:
                    order.reverse()
                for side, client in order:
                    started = time.perf_counter_ns()
                    response = await client.get(
                        "/titles", params=request.params, headers=request.headers
                    )
                    elapsed = (time.perf_counter_ns() - started) / 1e6
                    assert response.status_code == 200, response.text
                    if number >= len(warmup):
                        timings[side].append(elapsed)
                        if side == "ours" and len(response.json()["items"]) < LIMIT:
                            short_pages += 1
                bars.advance(task)
    pages = Counter(request.page for request in plan)
    return {
        "ours_ms": timings["ours"],
        "bare_ms": timings["bare"],
        "requests": len(plan),
        "warmup": WARMUP_REQUESTS,
        "short_pages": short_pages,
        "pages": {str(page): pages[page] for page in sorted(pages)},
        "with_genre": sum("genre" in request.params for request in plan),
        "territories": list(TERRITORIES),
    }


async def _cursor_chains(
    client: httpx.AsyncClient, bars: Progress
) -> dict[tuple[str, str | None], list[str | None]]:
    """Per (territory, genre): the cursors of pages 0..MAX_PAGE (None for the first)."""
    keys = [(t, g) for t in TERRITORIES for g in (None, *GENRES)]
    task = bars.add_task("browse: cursors", total=len(keys))
    chains: dict[tuple[str, str | None], list[str | None]] = {}
    for territory, genre in keys:
        chain: list[str | None] = [None]
        while len(chain) <= MAX_PAGE:
            params = {"limit": str(LIMIT)}
            if genre is not None:
                params["genre"] = genre
            if chain[-1] is not None:
                params["cursor"] = str(chain[-1])
            response = await client.get(
                "/titles", params=params, headers={"CloudFront-Viewer-Country": territory}
            )
            assert response.status_code == 200, response.text
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
            chain.append(cursor)
        chains[(territory, genre)] = chain
        bars.advance(task)
    return chains


def _request(chains: dict[tuple[str, str | None], list[str | None]], rng: random.Random) -> Request:
    territory = rng.choice(TERRITORIES)
    genre = rng.choice(GENRES) if rng.random() < GENRE_SHARE else None
    chain = chains[(territory, genre)]
    page = 0 if rng.random() < 0.5 else min(rng.randint(1, MAX_PAGE), len(chain) - 1)
    params = {"limit": str(LIMIT)}
    if genre is not None:
        params["genre"] = genre
    cursor = chain[page]
    if cursor is not None:
        params["cursor"] = cursor
    headers = {"CloudFront-Viewer-Country": territory}
    language = rng.choice(ACCEPT_LANGUAGES)
    if language is not None:
        headers["Accept-Language"] = language
    return Request(params, headers, page)


# --- results ------------------------------------------------------------------------------------


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 4),
        "p99_ms": round(percentile(values, 99), 4),
        "max_ms": round(max(values), 4),
    }


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _result(
    quick: bool,
    shape: dict[str, int],
    titles: Sequence[TitleDocument],
    queries: Sequence[Query],
    index_ms: list[float],
    scan_ms: list[float],
    recall: Recall,
    browse: dict[str, Any],
    storage: dict[str, float],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> dict[str, Any]:
    overall = _stats(index_ms)
    scan_overall = _stats(scan_ms)
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        ours = [ms for q, ms in zip(queries, index_ms, strict=True) if q.kind == kind]
        peer = [ms for q, ms in zip(queries, scan_ms, strict=True) if q.kind == kind]
        by_kind[kind] = {
            "queries": len(ours),
            **_stats(ours),
            "scan": _stats(peer),
            "speedup_vs_scan": round(statistics.median(peer) / statistics.median(ours), 1),
        }
    by_kind["exact"]["recall_name_top3"] = _share(recall.index["exact"])
    by_kind["exact"]["name_queries"] = len(recall.index["exact"])
    by_kind["typo"]["recall_top3"] = _share(recall.index["typo"])
    browse_ours, browse_bare = _stats(browse["ours_ms"]), _stats(browse["bare_ms"])
    recall_typo = _share(recall.index["typo"])
    slowest = sorted(zip(index_ms, queries, strict=True), key=lambda pair: -pair[0])[:10]
    return {
        "quick": quick,
        "catalog": {
            "titles": len(titles),
            "generator": f"flixstack.catalog.seed.generate_titles(seed={SEED})",
            "now": NOW.isoformat(),
        },
        "queries": len(queries),
        "p50_ms": overall["p50_ms"],
        "p99_ms": overall["p99_ms"],
        "max_ms": overall["max_ms"],
        "by_kind": by_kind,
        "recall_typo": recall_typo,
        "recall_exact_name": _share(recall.index["exact"]),
        "recall_note": f"intended title in search(q, limit={RECALL_AT}), no territory filter",
        "typo": {
            "queries": len(recall.index["typo"]),
            "recall_by_edit": {
                edit: _share(found) for edit, found in sorted(recall.by_edit.items())
            },
            "typo_is_indexed_term": sum(recall.real_word),
            "recall_when_typo_is_indexed_term": _share(
                [f for f, real in zip(recall.index["typo"], recall.real_word, strict=True) if real]
            ),
            "name_shared_with_another_title": sum(recall.shared_name),
            "misses": len(recall.misses),
            "miss_examples": recall.misses[:MISS_EXAMPLES],
        },
        "slowest_queries": [
            {"ms": round(ms, 3), "kind": q.kind, "query": q.text, "territory": q.territory}
            for ms, q in slowest
        ],
        "scan": {
            "what": SCAN,
            **scan_overall,
            "recall_typo": _share(recall.scan["typo"]),
            "recall_exact_name": _share(recall.scan["exact"]),
            "strings": "distinct folded names, cast names and genres",
        },
        "speedup_vs_scan": round(scan_overall["p50_ms"] / overall["p50_ms"], 1),
        "browse_p50_ms": browse_ours["p50_ms"],
        "browse_p99_ms": browse_ours["p99_ms"],
        "browse_max_ms": browse_ours["max_ms"],
        "browse_bare": browse_bare,
        "browse_overhead_vs_bare": round(browse_ours["p50_ms"] / browse_bare["p50_ms"], 2),
        "browse": {k: v for k, v in browse.items() if not k.endswith("_ms")},
        "index": {
            "titles": len(titles),
            "vocabulary": len(_vocabulary(titles)),
            "build_s": round(storage["build_s"], 3),
            "to_bytes": int(storage["to_bytes"]),
            "from_bytes_s": round(storage["from_bytes_s"], 3),
            "build": "SearchIndex.build(documents(titles)), first build in the process",
        },
        "method": METHOD,
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in load[0]],
            "loadavg_end": [round(x, 2) for x in load[1]],
        },
        "goals": {"p99_ms": "<= 5", "recall_typo": ">= 0.95", "browse_p99_ms": "<= 10"},
        "meets_goals": {
            "p99_ms": overall["p99_ms"] <= 5,
            "recall_typo": recall_typo is not None and recall_typo >= 0.95,
            "browse_p99_ms": browse_ours["p99_ms"] <= 10,
        },
        "sizes": shape,
    }


# --- presentation -------------------------------------------------------------------------------


def _plot(
    queries: Sequence[Query],
    index_ms: Sequence[float],
    scan_ms: Sequence[float],
    browse: dict[str, Any],
    path: Path,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(13, 9), constrained_layout=True)
    # (title, [(label, milliseconds, colour)], goal in ms, legend position)
    panels: list[tuple[str, list[tuple[str, Sequence[float], str]], float, str]] = [
        (
            f"{kind} queries",
            [
                (
                    "SearchIndex",
                    [ms for q, ms in zip(queries, index_ms, strict=True) if q.kind == kind],
                    "tab:red",
                ),
                (
                    "rapidfuzz WRatio scan",
                    [ms for q, ms in zip(queries, scan_ms, strict=True) if q.kind == kind],
                    "tab:blue",
                ),
            ],
            5.0,
            "center",
        )
        for kind in KINDS
    ]
    panels.append(
        (
            "GET /titles (in-process ASGI)",
            [
                ("flixstack app", browse["ours_ms"], "tab:red"),
                ("bare FastAPI endpoint", browse["bare_ms"], "tab:blue"),
            ],
            10.0,
            "center right",
        )
    )
    for axis, (title, series, goal, legend) in zip(axes.flat, panels, strict=True):
        for label, values, color in series:
            ordered = sorted(values)
            shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
            axis.step(ordered, shares, where="post", color=color, linewidth=1.8, label=label)
            axis.axvline(percentile(ordered, 99), color=color, linestyle=":", linewidth=1)
        axis.axvline(
            goal, color="black", linestyle="--", linewidth=1, label=f"p99 goal {goal:g} ms"
        )
        axis.axhline(0.99, color="grey", linewidth=0.6)
        axis.set_xscale("log")
        axis.set_ylim(0, 1.01)
        axis.set_title(title)
        axis.set_xlabel("latency (ms, log); dotted: each side's p99")
        axis.set_ylabel("share of requests at or below")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8, loc=legend)
    figure.suptitle("Latency CDFs: search index vs a linear fuzzy scan, browse vs a bare endpoint")
    return harness.save_figure(figure, path)


def _print(console: Console, result: dict[str, Any], path: Path) -> None:
    table = Table(title=f"search benchmark ({path})")
    for column in ("measure", "ours", "peer", "ratio", "goal", "met"):
        table.add_column(column)

    def mark(key: str) -> str:
        return "yes" if result["meets_goals"][key] else "NO"

    scan = result["scan"]
    table.add_row(
        "search p50 (ms)", f"{result['p50_ms']:.3f}", f"{scan['p50_ms']:.2f}",
        f"{result['speedup_vs_scan']:.0f}x", "", "",
    )  # fmt: skip
    table.add_row(
        "search p99 (ms)", f"{result['p99_ms']:.3f}", f"{scan['p99_ms']:.2f}", "",
        result["goals"]["p99_ms"], mark("p99_ms"),
    )  # fmt: skip
    for kind, data in result["by_kind"].items():
        table.add_row(
            f"  {kind} p50/p99 ms",
            f"{data['p50_ms']:.3f} / {data['p99_ms']:.3f}",
            f"{data['scan']['p50_ms']:.2f} / {data['scan']['p99_ms']:.2f}",
            f"{data['speedup_vs_scan']:.0f}x", "", "",
        )  # fmt: skip
    table.add_row(
        "recall@3 typo", f"{result['recall_typo']:.3f}", f"{scan['recall_typo']:.3f}", "",
        result["goals"]["recall_typo"], mark("recall_typo"),
    )  # fmt: skip
    table.add_row(
        "recall@3 exact name", f"{result['recall_exact_name']:.3f}",
        f"{scan['recall_exact_name']:.3f}", "", "", "",
    )  # fmt: skip
    bare = result["browse_bare"]
    table.add_row(
        "browse p50 (ms)", f"{result['browse_p50_ms']:.3f}", f"{bare['p50_ms']:.3f}",
        f"{result['browse_overhead_vs_bare']:.2f}x", "", "",
    )  # fmt: skip
    table.add_row(
        "browse p99 (ms)", f"{result['browse_p99_ms']:.3f}", f"{bare['p99_ms']:.3f}", "",
        result["goals"]["browse_p99_ms"], mark("browse_p99_ms"),
    )  # fmt: skip
    index = result["index"]
    table.add_row(
        "index build/load s", f"{index['build_s']:.2f} / {index['from_bytes_s']:.2f}",
        "", "", "", "",
    )  # fmt: skip
    table.add_row("index stored KiB", f"{index['to_bytes'] / 1024:.0f}", "", "", "", "")
    console.print(table)
