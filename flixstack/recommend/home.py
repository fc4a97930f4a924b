"""A profile's home page: its rows, best first, each title at most once on the page.

Rows, in order: Continue Watching; Top Picks (the profile's trained candidates, or for a
profile training has not seen yet, titles like the ones it played); Because you watched
<title> (the collaborative model's neighbours of its latest titles); Trending Now in the
viewer's territory; Popular (for a profile without trained picks); New Releases; and rows
of the genres it watches most.

Every row keeps only titles licensed in the territory now, suitable for the profile's
maturity level, not finished, not given a thumbs down and not already higher on the page.
The personal rows are re-ranked for variety (maximal marginal relevance over genres).

One request reads the profile's progress and its picks (two reads at once, beside the
profile check); the catalog, the model and trending come from in-process near-caches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol, cast

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from flixstack.catalog.models import GENRES, TitleCard
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.recommend.artifacts import Picks, RecModel
from flixstack.viewers import rules
from flixstack.viewers.models import ContinueItem, Profile, Progress

logger = Logger(service="recommend", child=True)

ROW_LENGTH = 20
PERSONAL_ROW_LENGTH = 10
"""Top Picks and each Because you watched row: short, so that the rows after them still
have titles to show on a small catalog."""
MMR_POOL = 40
"""Candidates a diversified row chooses from."""
MMR_RELEVANCE = 0.7
"""Maximal marginal relevance: how much rank counts against genre overlap with the titles
already chosen (1 would keep the ranking as it is)."""
BECAUSE_ROWS = 2
GENRE_ROWS = 3

RowKind = Literal[
    "continue_watching", "top_picks", "because_you_watched", "trending", "popular", "new", "genre"
]


class HomeRow(BaseModel):
    id: str
    kind: RowKind
    title: str
    items: list[TitleCard]
    because: str | None = Field(
        default=None, description="The title a because_you_watched row follows."
    )
    resume: list[ContinueItem] = Field(
        default_factory=list,
        description="continue_watching: where to resume each item (same order as items).",
    )


class HomePage(BaseModel):
    profile_id: str
    model_version: int | None = Field(
        description="The recommendation model the page came from (None before the first)."
    )
    rows: list[HomeRow]


class Viewers(Protocol):
    def watching(
        self, account: str, profile_id: str, also: Callable[[], Picks | None]
    ) -> tuple[Profile, list[Progress], Picks | None]: ...

    def continue_items(
        self,
        profile: Profile,
        progresses: Sequence[Progress],
        *,
        territory: str,
        accept_language: str | None,
        limit: int,
    ) -> list[ContinueItem]: ...


class PicksSource(Protocol):
    def picks(self, account: str, profile_id: str) -> Picks | None: ...


class Cards(Protocol):
    def cards(
        self, snapshot: CatalogSnapshot, title_ids: Iterable[str], accept_language: str | None
    ) -> list[TitleCard]: ...


class Catalog(Protocol):
    def snapshot(self) -> CatalogSnapshot: ...


class Models(Protocol):
    def current(self) -> RecModel | None: ...


class Ranked(Protocol):
    def ranked(self, territory: str) -> list[str]: ...


def genre_mask(genres: Iterable[str]) -> int:
    mask = 0
    for genre in genres:
        if genre in _GENRE_BIT:
            mask |= _GENRE_BIT[genre]
    return mask


_GENRE_BIT = {genre: 1 << i for i, genre in enumerate(GENRES)}


def overlap(a: int, b: int) -> float:
    """Jaccard similarity of two genre sets (as bit masks)."""
    union = (a | b).bit_count()
    return (a & b).bit_count() / union if union else 0.0


def diversify(
    ranked: Sequence[str], masks: dict[str, int], k: int, relevance: float = MMR_RELEVANCE
) -> list[str]:
    """Maximal marginal relevance: repeatedly the candidate with the best mix of its rank
    (``1 - position / n``) and its distance from the genres of those already chosen."""
    n = len(ranked)
    closest = [0.0] * n
    left = list(range(n))
    chosen: list[str] = []
    while left and len(chosen) < k:
        best = max(left, key=lambda i: relevance * (1 - i / n) - (1 - relevance) * closest[i])
        left.remove(best)
        chosen.append(ranked[best])
        picked = masks.get(ranked[best], 0)
        for i in left:
            closest[i] = max(closest[i], overlap(masks.get(ranked[i], 0), picked))
    return chosen


def _round_robin(lists: Iterable[list[str]]) -> list[str]:
    """The first of each list, then the second of each, ...; each title once."""
    queues = [list(found) for found in lists if found]
    merged: dict[str, None] = {}
    depth = 0
    while any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue):
                merged.setdefault(queue[depth], None)
        depth += 1
    return list(merged)


class _Page:
    """One page being filled: what the profile may see, and what it already shows."""

    def __init__(
        self,
        snapshot: CatalogSnapshot,
        territory: str,
        profile: Profile,
        excluded: set[str],
        now: datetime,
    ) -> None:
        self.snapshot = snapshot
        self.territory = territory
        self.profile = profile
        self.excluded = excluded
        self.now = now
        self.shown: set[str] = set()

    def allowed(self, title_id: str) -> bool:
        doc = self.snapshot.titles.get(title_id)
        return (
            doc is not None
            and title_id not in self.shown
            and title_id not in self.excluded
            and rules.suitable(doc, self.profile.maturity_level)
            and self.snapshot.licensed(title_id, self.territory, self.now)
        )

    def take(self, candidates: Iterable[str], diverse: bool) -> list[str]:
        wanted = MMR_POOL if diverse else ROW_LENGTH
        found: list[str] = []
        for title_id in candidates:
            if self.allowed(title_id) and title_id not in found:
                found.append(title_id)
                if len(found) == wanted:
                    break
        chosen = diversify(found, _masks(self.snapshot), PERSONAL_ROW_LENGTH) if diverse else found
        self.shown.update(chosen)
        return chosen


def _masks(snapshot: CatalogSnapshot) -> dict[str, int]:
    """Every title's genre mask, made once per snapshot."""
    key = ("home", "genre-masks")
    masks = snapshot.memo.get(key)
    if masks is None:
        masks = snapshot.memo[key] = {t: genre_mask(d.genres) for t, d in snapshot.titles.items()}
    return cast(dict[str, int], masks)


def _by_genre(snapshot: CatalogSnapshot, territory: str) -> dict[str, tuple[str, ...]]:
    """Per genre, the titles with a licence in the territory, newest first (once per
    snapshot and territory)."""
    key = ("home", "by-genre", territory)
    found = snapshot.memo.get(key)
    if found is None:
        lists: dict[str, list[str]] = {}
        for title_id in snapshot.by_territory.get(territory, ()):
            for genre in snapshot.titles[title_id].genres:
                lists.setdefault(genre, []).append(title_id)
        found = snapshot.memo[key] = {genre: tuple(ids) for genre, ids in lists.items()}
    return cast(dict[str, tuple[str, ...]], found)


class HomeService:
    def __init__(
        self,
        viewers: Viewers,
        catalog: Catalog,
        cards: Cards,
        models: Models,
        picks: PicksSource,
        trending: Ranked,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._viewers = viewers
        self._catalog = catalog
        self._cards = cards
        self._models = models
        self._picks = picks
        self._trending = trending
        self._clock = clock

    def _model(self) -> RecModel | None:
        try:
            return self._models.current()
        except Exception:  # the page still has its other rows; the next call retries
            logger.exception("recommendation model not loaded")
            return None

    def home(
        self, account: str, profile_id: str, *, territory: str, accept_language: str | None
    ) -> HomePage:
        profile, progresses, picks = self._viewers.watching(
            account, profile_id, lambda: self._picks.picks(account, profile_id)
        )
        snapshot = self._catalog.snapshot()
        model = self._model()
        recent = sorted(progresses, key=rules.order, reverse=True)
        finished = {
            p.title_id
            for p in recent
            if (doc := snapshot.titles.get(p.title_id)) is not None
            and rules.resume_point(doc, p) is None
        }
        hidden = set(picks.hidden) if picks is not None else set()
        page = _Page(snapshot, territory, profile, finished | hidden, self._clock())
        rows: list[HomeRow] = []

        def row(
            kind: RowKind,
            row_id: str,
            title: str,
            titles: list[str],
            because: str | None = None,
        ) -> None:
            if titles:
                items = self._cards.cards(snapshot, titles, accept_language)
                rows.append(
                    HomeRow(id=row_id, kind=kind, title=title, items=items, because=because)
                )

        resume = self._viewers.continue_items(
            profile, recent, territory=territory, accept_language=accept_language, limit=ROW_LENGTH
        )
        if resume:
            page.shown.update(item.title.id for item in resume)
            rows.append(
                HomeRow(
                    id="continue-watching",
                    kind="continue_watching",
                    title="Continue Watching",
                    items=[item.title for item in resume],
                    resume=resume,
                )
            )

        played = list(dict.fromkeys(p.title_id for p in recent))
        picked = picks.titles if picks is not None else []
        if picked:
            candidates = picked
        elif model is not None:  # not trained on yet: titles like the ones it played
            candidates = _round_robin(model.similar_to(t) for t in played)
        else:
            candidates = []
        row("top_picks", "top-picks", f"Top Picks for {profile.name}", page.take(candidates, True))

        because = 0
        for seed in played:
            if because == BECAUSE_ROWS or model is None:
                break
            if seed not in snapshot.titles or not snapshot.licensed(seed, territory, page.now):
                continue
            neighbours = model.neighbours_of(seed) or model.similar_to(seed)
            titles = page.take(neighbours, True)
            if titles:
                (seed_card,) = self._cards.cards(snapshot, [seed], accept_language)
                row(
                    "because_you_watched",
                    f"because:{seed}",
                    f"Because you watched {seed_card.name}",
                    titles,
                    because=seed,
                )
                because += 1

        row(
            "trending",
            "trending",
            "Trending Now",
            page.take(self._trending.ranked(territory), False),
        )
        if not picked:
            popular = model.most_popular() if model is not None else []
            if not popular:
                popular = sorted(snapshot.titles, key=lambda t: -snapshot.titles[t].popularity)
            row("popular", "popular", "Popular on flixstack", page.take(popular, False))
        row(
            "new", "new", "New Releases", page.take(snapshot.by_territory.get(territory, ()), False)
        )

        by_genre = _by_genre(snapshot, territory)
        for genre in self._genres(snapshot, played, by_genre):
            titles = page.take(by_genre.get(genre, ()), False)
            row("genre", f"genre:{genre}", genre.replace("-", " ").title(), titles)
        return HomePage(
            profile_id=profile.id,
            model_version=model.version if model is not None else None,
            rows=rows,
        )

    @staticmethod
    def _genres(
        snapshot: CatalogSnapshot, played: Sequence[str], by_genre: dict[str, tuple[str, ...]]
    ) -> list[str]:
        """The genres the profile played most, then the territory's biggest ones."""
        watched = Counter(
            genre
            for title_id in played
            if (doc := snapshot.titles.get(title_id)) is not None
            for genre in doc.genres
        )
        ranked = [g for g, _ in watched.most_common()]
        ranked += sorted((g for g in by_genre if g not in watched), key=lambda g: -len(by_genre[g]))
        return ranked[:GENRE_ROWS]
