"""The training job: interactions from signals, then a model version and every profile's
picks."""

from __future__ import annotations

import pytest

from flixstack.errors import Conflict
from flixstack.recommend.memory import MemoryModels, MemoryPicks
from flixstack.recommend.signals import Signal
from flixstack.recommend.training import Trainer, dataset
from tests.unit.recommend.conftest import (
    BASE,
    COMEDY,
    HORROR,
    Signals,
    catalog_cache,
    cluster_signals,
    train,
)


def test_a_signal_weighs_by_share_watched_thumbs_and_my_list() -> None:
    base = Signal("a", "p", "t", at=0)
    assert base.weight == 0.0
    assert Signal("a", "p", "t", at=0, watched=0.01).weight == pytest.approx(0.25 + 0.75 * 0.01)
    assert Signal("a", "p", "t", at=0, played=True).weight == pytest.approx(0.25)
    assert Signal("a", "p", "t", at=0, watched=1.0).weight == pytest.approx(1.0)
    liked = Signal("a", "p", "t", at=0, watched=1.0, thumb=1, listed=True)
    assert liked.weight == pytest.approx(2.5)
    assert Signal("a", "p", "t", at=0, watched=1.0, thumb=-1).weight == 0.0
    merged = Signal("a", "p", "t", at=5, watched=0.5).merged(
        Signal("a", "p", "t", at=9, listed=True)
    )
    assert (merged.at, merged.watched, merged.listed) == (9, 0.5, True)


def test_signals_for_unpublished_titles_are_dropped_and_thumbs_down_hide() -> None:
    data = dataset(
        [
            Signal("a", "p", "h1", at=1, watched=1.0),
            Signal("a", "p", "gone", at=1, watched=1.0),
            Signal("a", "p", "h2", at=2, watched=1.0),
            Signal("a", "p", "h2", at=3, thumb=-1),
        ],
        ["h1", "h2"],
    )
    assert data.profiles == (("a", "p"),)
    assert data.interactions.items.tolist() == [0]  # h2 is hidden, not an interaction
    assert data.hidden == {0: [1]}


def test_picks_leave_out_what_a_profile_has_and_what_it_thumbed_down() -> None:
    cache, models, picks = catalog_cache(), MemoryModels(), MemoryPicks()
    mine = [
        Signal("me", "p", "h1", at=BASE, watched=1.0),
        Signal("me", "p", "h2", at=BASE + 60, watched=0.5),
        Signal("me", "p", "h3", at=BASE + 90, thumb=-1),
    ]
    train(cache, cluster_signals() + mine, models, picks)
    found = picks.picks("me", "p")
    assert found is not None
    assert found.model_version == 1
    assert not {"h1", "h2", "h3"} & set(found.titles)
    assert found.hidden == ["h3"]
    # a horror viewer's best candidates are horror
    assert set(found.titles[:3]) <= {*HORROR, "h-mature", "h-france"}
    comedy_fan = picks.picks("joker0", "p")
    assert comedy_fan is not None
    assert set(comedy_fan.titles[:2]) <= set(COMEDY)


def test_each_run_is_a_new_version_and_the_pointer_moves_only_from_the_one_read() -> None:
    cache, models, picks = catalog_cache(), MemoryModels(), MemoryPicks()
    train(cache, cluster_signals(), models, picks)
    train(cache, cluster_signals(), models, picks)
    assert models.current is not None
    assert models.current.version == 2
    loaded = models.load(models.current)
    assert loaded.version == 2
    assert set(loaded.titles) == set(cache.snapshot().titles)
    assert set(loaded.neighbours_of("h1")[:3]) <= {*HORROR, "h-mature", "h-france"}
    assert set(loaded.most_popular()[:2]) == {"h-mature", "h-france"}  # every fan watched both

    class Racing(MemoryModels):
        def advance(self, expected, new):  # type: ignore[no-untyped-def]
            self.current = None if expected is None else expected  # someone else moved it
            super().advance(new, new)

    racing = Racing()
    racing.current = models.current
    trainer = Trainer(cache, [Signals(cluster_signals())], racing, picks)
    with pytest.raises(Conflict):
        trainer.run()


def test_a_catalog_with_nothing_published_is_refused() -> None:
    from flixstack.catalog.snapshot import CatalogSnapshot

    cache = catalog_cache()
    cache._current = CatalogSnapshot.build((), 2)
    with pytest.raises(ValueError, match="no published titles"):
        Trainer(cache, [], MemoryModels(), MemoryPicks()).run()


def test_the_lake_gives_each_profile_the_share_it_played() -> None:
    from flixstack.aws.recommend_store import LakeSignals

    class Lake:
        def interactions(self) -> list[dict[str, object]]:
            return [
                {
                    "account": "a",
                    "profile_id": "p",
                    "title_id": "h1",
                    "sessions": 2,
                    "furthest_s": 4500.0,
                    "duration_s": 6000.0,
                    "last_at": "2027-06-01T11:00:00.000000Z",
                },
                {  # an event without a profile (a bad client): nothing to learn
                    "account": "a",
                    "profile_id": None,
                    "title_id": "h2",
                    "sessions": 1,
                    "furthest_s": 10.0,
                    "duration_s": 6000.0,
                    "last_at": "2027-06-01T11:00:00.000000Z",
                },
                {  # no duration known: played, share unknown
                    "account": "a",
                    "profile_id": "p",
                    "title_id": "h3",
                    "sessions": 1,
                    "furthest_s": 30.0,
                    "duration_s": None,
                    "last_at": "2027-06-01T10:00:00+00:00",
                },
            ]

    found = list(LakeSignals(Lake()).signals())  # type: ignore[arg-type]
    assert [(s.title_id, s.watched) for s in found] == [("h1", 0.75), ("h3", 0.0)]
    assert found[0].at == BASE + 86400 - 3600
    assert found[1].weight == 0.25  # played, how far unknown: it still counts as started
