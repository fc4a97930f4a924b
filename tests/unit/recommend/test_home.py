"""The home page: its rows, their filters, one appearance per title, variety, and what a
profile new to the recommender gets."""

from __future__ import annotations

import pytest

from flixstack.recommend.home import HomePage, diversify, genre_mask, overlap
from flixstack.recommend.signals import Signal
from tests.unit.recommend.conftest import (
    BASE,
    Wired,
    cluster_signals,
    progress,
    train,
)


def titles_of(page: HomePage) -> list[str]:
    return [card.id for row in page.rows for card in row.items]


def home(wired: Wired, territory: str = "US") -> HomePage:
    return wired.home.home("me", "p", territory=territory, accept_language="en")


@pytest.fixture
def trained() -> Wired:
    """A horror viewer: finished h1, halfway through h2, thumbed down h3."""
    wired = Wired()
    mine = [
        Signal("me", "p", "h1", at=BASE, watched=1.0),
        Signal("me", "p", "h2", at=BASE + 60, watched=0.5),
        Signal("me", "p", "h3", at=BASE + 90, thumb=-1),
    ]
    train(wired.cache, cluster_signals() + mine, wired.models, wired.picks)
    wired.viewers.progresses = [progress("h1", 90, 1.0), progress("h2", 30, 0.5)]
    wired.trending.ranking = ["d1", "h2", "c1", "h-france", "d2"]
    return wired


def test_the_rows_come_in_order_and_each_title_once(trained: Wired) -> None:
    page = home(trained)
    kinds = [row.kind for row in page.rows]
    assert kinds[:3] == ["continue_watching", "top_picks", "because_you_watched"]
    assert kinds.index("trending") < kinds.index("new") < kinds.index("genre")
    assert "popular" not in kinds  # a trained profile gets its picks instead
    shown = titles_of(page)
    assert len(shown) == len(set(shown))
    assert page.rows[0].items[0].id == "h2"
    assert page.rows[0].resume[0].title.id == "h2"
    assert page.rows[1].title == "Top Picks for Sam"
    assert page.model_version == 1


def test_unlicensed_too_mature_finished_and_thumbed_down_titles_never_show(
    trained: Wired,
) -> None:
    shown = set(titles_of(home(trained)))
    assert "h-france" not in shown  # not licensed in the US (though trending there)
    assert "h-mature" not in shown  # NC-17 for a profile of level 16
    assert "h1" not in shown  # finished
    assert "h3" not in shown  # thumbs down
    # the same profile in France sees the French title
    assert "h-france" in set(titles_of(home(trained, "FR")))
    trained.viewers.profile = trained.viewers.profile.model_copy(update={"maturity_level": 18})
    assert "h-mature" in set(titles_of(home(trained)))


def test_because_you_watched_follows_the_latest_title(trained: Wired) -> None:
    because = [row for row in home(trained).rows if row.kind == "because_you_watched"]
    assert because[0].because == "h2"
    assert because[0].title == "Because you watched Title h2"
    genres = [card.genres[0] for card in because[0].items]
    assert genres.count("horror") > len(genres) / 2


def test_trending_keeps_its_order_minus_what_is_higher_up(trained: Wired) -> None:
    page = home(trained)
    trending = next(row for row in page.rows if row.kind == "trending")
    higher = {c.id for row in page.rows[: page.rows.index(trending)] for c in row.items}
    expected = [t for t in ["d1", "h2", "c1", "d2"] if t not in higher]
    assert [c.id for c in trending.items] == expected


def test_genre_rows_start_with_what_the_profile_watches(trained: Wired) -> None:
    genre_rows = [row.id for row in home(trained).rows if row.kind == "genre"]
    assert genre_rows[0] == "genre:horror" or "horror" not in genre_rows
    assert set(genre_rows) <= {"genre:horror", "genre:comedy", "genre:drama"}


def test_a_new_profile_gets_content_and_popularity_rows() -> None:
    wired = Wired()
    train(wired.cache, cluster_signals(), wired.models, wired.picks)
    # GIVEN a profile training has not seen, which has just started a comedy
    wired.viewers.progresses = [progress("c1", 5, 0.1)]
    page = home(wired)
    kinds = [row.kind for row in page.rows]
    assert "popular" in kinds
    picks = next(row for row in page.rows if row.kind == "top_picks")
    assert picks.items[0].genres == ["comedy"]  # like what it played
    # and one that has played nothing still gets a page: popular first, no picks
    wired.viewers.progresses = []
    empty = [row.kind for row in home(wired).rows]
    assert empty[:2] == ["trending", "popular"] or empty[0] == "popular"
    assert "top_picks" not in empty
    assert "because_you_watched" not in empty


def test_before_any_training_the_page_still_has_rows() -> None:
    wired = Wired()
    page = home(wired)
    assert page.model_version is None
    assert [r.kind for r in page.rows][:3] == ["popular", "new", "genre"]
    shown = titles_of(page)
    assert len(shown) == len(set(shown))


def test_a_new_model_version_is_picked_up(trained: Wired) -> None:
    assert home(trained).model_version == 1
    train(trained.cache, cluster_signals(), trained.models, trained.picks)
    assert trained.model_cache.refresh() is not None
    assert home(trained).model_version == 2


def test_diversify_lifts_a_different_genre_and_keeps_rank_when_told() -> None:
    ranked = ["h1", "h2", "h3", "h4", "c1"]
    masks = {t: genre_mask(["horror"]) for t in ranked[:4]} | {"c1": genre_mask(["comedy"])}
    varied = diversify(ranked, masks, 3)
    assert varied[0] == "h1"
    assert "c1" in varied
    assert diversify(ranked, masks, 3, relevance=1.0) == ["h1", "h2", "h3"]
    assert overlap(genre_mask(["horror", "comedy"]), genre_mask(["horror"])) == 0.5
    assert overlap(0, 0) == 0.0
