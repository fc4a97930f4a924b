"""A small catalog with a horror and a comedy cluster, viewing signals over it, and the
recommender's parts wired in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, cast

from flixstack.catalog.models import TitleDocument
from flixstack.catalog.service import CatalogView
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot
from flixstack.nearcache import NearCache
from flixstack.recommend.artifacts import Picks, RecModel
from flixstack.recommend.home import HomeService
from flixstack.recommend.memory import MemoryModels, MemoryPicks
from flixstack.recommend.signals import Signal
from flixstack.recommend.training import Trainer
from flixstack.viewers.models import ContinueItem, Profile, Progress
from flixstack.viewers.service import ViewerService
from tests.unit.catalog.conftest import NOW, STAMP, ManualClock, MemoryStore, title

HORROR = [f"h{i}" for i in range(1, 25)]
COMEDY = [f"c{i}" for i in range(1, 11)]
DRAMA = [f"d{i}" for i in range(1, 31)]
CATALOG: list[TitleDocument] = [
    *(title(t, genres=["horror"], age_min=i) for i, t in enumerate(HORROR)),
    *(title(t, genres=["comedy"], age_min=100 + i) for i, t in enumerate(COMEDY)),
    *(title(t, genres=["drama"], age_min=200 + i) for i, t in enumerate(DRAMA)),
    title("h-mature", genres=["horror"], maturity_rating="NC-17", age_min=300),
    title("h-france", genres=["horror"], territories=("FR",), age_min=301),
]
"""Published titles; h-mature is above a 16 profile; h-france is not licensed in the US."""
BASE = NOW.timestamp() - 86400


def cluster_signals() -> list[Signal]:
    """Twelve accounts who watch horror together (one sitting each) and twelve who watch
    comedy, including the two titles an adult profile may not see or watch here."""
    signals = []
    for n in range(12):
        horror = [*HORROR[n % 4 : n % 4 + 4], "h-mature", "h-france"]
        for k, title_id in enumerate(horror):
            signals.append(Signal(f"fan{n}", "p", title_id, at=BASE + 60 * k, watched=1.0))
        for k, title_id in enumerate(COMEDY[n % 3 : n % 3 + 3]):
            signals.append(Signal(f"joker{n}", "p", title_id, at=BASE + 60 * k, watched=0.8))
    return signals


class Signals:
    def __init__(self, signals: Sequence[Signal]) -> None:
        self._signals = list(signals)

    def signals(self) -> list[Signal]:
        return self._signals


def catalog_cache() -> CatalogCache:
    cache = CatalogCache(MemoryStore(), refresh_s=3600, clock=ManualClock())
    cache.install(CatalogSnapshot.build(CATALOG, 1))
    return cache


def train(
    cache: CatalogCache, signals: Sequence[Signal], models: MemoryModels, picks: MemoryPicks
) -> None:
    Trainer(cache, [Signals(signals)], models, picks, clock=lambda: NOW).run()


def profile(maturity_level: int = 16, name: str = "Sam") -> Profile:
    return Profile(
        id="p",
        slot=1,
        name=name,
        avatar="red",
        kids=False,
        maturity_level=maturity_level,
        language="en",
        created_at=STAMP,
        updated_at=STAMP,
    )


def progress(title_id: str, minutes_ago: float, share: float) -> Progress:
    at = NOW - timedelta(minutes=minutes_ago)
    return Progress(
        title_id=title_id,
        position_s=6000 * share,
        duration_s=6000,
        client_ts=at,
        event_id=f"e-{title_id}",
        device="tv",
        session_started=at,
        updated_at=STAMP,
    )


class FakeViewers:
    """One profile with this progress; continue watching is the real service's."""

    def __init__(self, cache: CatalogCache, view: CatalogView) -> None:
        self.profile = profile()
        self.progresses: list[Progress] = []
        self._service = ViewerService(cast(Any, None), cache, view, clock=lambda: NOW)

    def watching(
        self, account: str, profile_id: str, also: Callable[[], Picks | None]
    ) -> tuple[Profile, list[Progress], Picks | None]:
        return self.profile, list(self.progresses), also()

    def continue_items(
        self, profile: Profile, progresses: Sequence[Progress], **kwargs: Any
    ) -> list[ContinueItem]:
        return self._service.continue_items(profile, progresses, **kwargs)


class Trending:
    def __init__(self, ranked: list[str] | None = None) -> None:
        self.ranking = ranked or []

    def ranked(self, territory: str) -> list[str]:
        return self.ranking


class Wired:
    def __init__(self) -> None:
        self.cache = catalog_cache()
        self.view = CatalogView(self.cache, "https://media.example", clock=lambda: NOW)
        self.models = MemoryModels()
        self.picks = MemoryPicks()
        self.viewers = FakeViewers(self.cache, self.view)
        self.trending = Trending()
        self.model_cache: NearCache[RecModel] = NearCache(
            self.models, 30, "recommendation model", clock=ManualClock()
        )
        self.home = HomeService(
            self.viewers,
            self.cache,
            self.view,
            self.model_cache,
            self.picks,
            self.trending,
            clock=lambda: NOW,
        )
