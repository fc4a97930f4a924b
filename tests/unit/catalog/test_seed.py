"""The synthetic catalog: reproducible, multilingual, worldwide, changing over time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flixstack.catalog.models import TitleDocument, TitleKind, TitleState
from flixstack.catalog.seed import LANGUAGES, TERRITORIES, generate_titles
from flixstack.catalog.text import fold

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
COUNT = 200


@pytest.fixture(scope="module")
def titles() -> list[TitleDocument]:
    return generate_titles(COUNT, seed=3, now=NOW)


def dumped(docs: list[TitleDocument]) -> list[dict[str, object]]:
    return [doc.model_dump(mode="json") for doc in docs]


def test_the_same_seed_and_now_give_the_same_catalog(titles: list[TitleDocument]) -> None:
    assert dumped(generate_titles(COUNT, seed=3, now=NOW)) == dumped(titles)


def test_now_in_another_offset_is_the_same_instant(titles: list[TitleDocument]) -> None:
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert dumped(generate_titles(COUNT, seed=3, now=tokyo)) == dumped(titles)


def test_another_seed_gives_another_catalog(titles: list[TitleDocument]) -> None:
    other = generate_titles(COUNT, seed=4, now=NOW)
    assert [t.id for t in other][:2] == ["seed4-000000", "seed4-000001"]
    names = [t.localized[t.default_language].name for t in titles]
    other_names = [t.localized[t.default_language].name for t in other]
    assert names != other_names
    assert [t.licences for t in titles] != [t.licences for t in other]


def test_ids_and_size(titles: list[TitleDocument]) -> None:
    assert len(titles) == COUNT
    assert [t.id for t in titles] == [f"seed3-{i:06d}" for i in range(COUNT)]


def test_every_title_has_at_least_three_languages(titles: list[TitleDocument]) -> None:
    for doc in titles:
        assert len(doc.localized) >= 3, doc.id
        assert doc.default_language in doc.localized
        assert doc.default_language in {"en", "fr", "es"}
        assert set(doc.localized) <= set(LANGUAGES)
    defaults = Counter(doc.default_language for doc in titles)
    assert set(defaults) == {"en", "fr", "es"}


def test_names_carry_accents_that_search_must_fold(titles: list[TitleDocument]) -> None:
    names = [text.name for doc in titles for text in doc.localized.values()]
    accented = [name for name in names if fold(name) != name.lower()]
    assert len(accented) > COUNT / 2


def test_english_names_are_unique(titles: list[TitleDocument]) -> None:
    english = [doc.localized["en"].name for doc in titles if "en" in doc.localized]
    assert len(english) > COUNT / 2
    assert len(set(english)) == len(english)
    assert all(name.startswith("The ") for name in english)


def test_the_catalog_spans_many_territories(titles: list[TitleDocument]) -> None:
    territories = {licence.territory for doc in titles for licence in doc.licences}
    assert len(territories) >= 10
    assert territories <= set(TERRITORIES)
    for doc in titles:
        assert 3 <= len({licence.territory for licence in doc.licences}) <= 9, doc.id


def test_windows_are_past_current_and_future(titles: list[TitleDocument]) -> None:
    licences = [licence for doc in titles for licence in doc.licences]
    assert all(licence.start.utcoffset() == timedelta(0) for licence in licences)
    assert any(licence.end <= NOW for licence in licences)
    assert any(licence.start <= NOW < licence.end for licence in licences)
    assert any(licence.start > NOW for licence in licences)
    # most titles can be watched somewhere now
    watchable = [doc for doc in titles if any(lic.start <= NOW < lic.end for lic in doc.licences)]
    assert len(watchable) > COUNT / 2


def test_series_have_seasons_of_existing_episodes(titles: list[TitleDocument]) -> None:
    shows = [doc for doc in titles if doc.kind is TitleKind.SERIES]
    movies = [doc for doc in titles if doc.kind is TitleKind.MOVIE]
    assert shows
    assert movies
    for doc in shows:
        assert doc.seasons, doc.id
        assert [s.number for s in doc.seasons] == list(range(1, len(doc.seasons) + 1))
        for season in doc.seasons:
            assert season.episodes
            for number, episode_id in enumerate(season.episodes, start=1):
                episode = doc.episodes[episode_id]
                assert (episode.season, episode.number) == (season.number, number)
            assert set(season.localized) == set(doc.localized)
        assert len(doc.ordered_episodes()) == len(doc.episodes)
        assert doc.runtime_min is None
    for doc in movies:
        assert doc.seasons == []
        assert doc.episodes == {}
        assert doc.runtime_min is not None


def test_popularity_is_zipf(titles: list[TitleDocument]) -> None:
    ranked = sorted((doc.popularity for doc in titles), reverse=True)
    assert ranked[0] == 1000.0
    assert ranked[1] == 500.0
    assert ranked[-1] == 5.0
    assert ranked == [round(1000.0 / rank, 6) for rank in range(1, COUNT + 1)]
    assert len(set(ranked)) == COUNT


def test_titles_are_published_without_media(titles: list[TitleDocument]) -> None:
    for doc in titles:
        assert doc.state is TitleState.PUBLISHED
        assert doc.asset is None
        assert all(episode.asset is None for episode in doc.episodes.values())
        assert doc.playable is False
        assert doc.published_at is not None
        assert (doc.created_by, doc.updated_by) == ("seed", "seed")
        assert doc.genres
        assert doc.cast[0].role == "director"
    # newest first by index: published a minute apart
    assert titles[0].published_at == "2027-06-01T12:00:00.000Z"
    assert titles[1].published_at == "2027-06-01T11:59:00.000Z"
