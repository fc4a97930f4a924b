"""What viewers see: territory, licence time, language, pages, rows and search."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from flixstack import cursors
from flixstack.catalog.models import Artwork, Asset, TitleDocument, TitleKind
from flixstack.catalog.service import CatalogView
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot
from flixstack.errors import InvalidInput, NotFound
from tests.unit.catalog.conftest import (
    NOW,
    STAMP,
    ManualClock,
    MemoryStore,
    series,
    title,
    window,
)

MEDIA = "https://media.example/"
DAY = timedelta(days=1)


def asset(key: str, subtitles: list[str]) -> Asset:
    return Asset(
        version="v1",
        master_playlist=f"{key}/master.m3u8",
        dash_manifest=f"{key}/manifest.mpd",
        poster=f"{key}/poster.jpg",
        thumbnails_vtt=f"{key}/thumbnails.vtt",
        duration_s=60.0,
        renditions=[],
        subtitle_languages=subtitles,
        has_audio=True,
        published_at=STAMP,
    )


def build_show() -> TitleDocument:
    show = series(
        "show",
        {2: 2, 1: 3},  # seasons stored out of order
        {"en": "The Quiet Orchard", "fr": "Le Verger Tranquille"},
        genres=["comedy"],
        age_min=20,
    )
    first = show.episodes["show-s1e1"].model_copy(
        update={"asset": asset("titles/show/s1e1", ["fr", "en"])}
    )
    second = show.episodes["show-s2e1"].model_copy(
        update={"asset": asset("titles/show/s2e1", ["de"])}
    )
    return show.model_copy(
        update={"episodes": {**show.episodes, first.id: first, second.id: second}}
    )


SHOW = build_show()
CATALOG = [
    title(
        "heart",
        {"en": "The Wild Heart", "fr": "Le Cœur Sauvage"},
        territories=["US", "FR"],
        genres=["drama", "romance"],
        age_min=10,
        cast=["Zoë Dubois"],
        artwork=Artwork(poster="posters/heart.jpg"),
    ),
    title(
        "letter",
        {"en": "The Paris Letter", "fr": "La Lettre de Paris"},
        territories=["FR"],
        genres=["drama"],
        age_min=5,
    ),
    title(
        "upcoming",
        {"en": "Tomorrow's Signal"},
        licences=[window("US", NOW + 10 * DAY, NOW + 100 * DAY)],
        age_min=1,
    ),
    title(
        "ended",
        {"en": "Yesterday's Harbor"},
        licences=[window("US", NOW - 100 * DAY, NOW - DAY)],
        age_min=2,
    ),
    SHOW,
    title(
        "rio",
        {"es": "El Río Silencioso", "fr": "La Rivière Silencieuse"},
        default_language="es",
        genres=["drama"],
        age_min=25,
        artwork=Artwork(poster="https://cdn.example/rio.jpg"),
    ),
    *(
        title(
            f"m{i}",
            {"en": f"Filler Story {i}"},
            genres=["comedy" if i % 2 else "horror"],
            age_min=30 + i,
        )
        for i in range(7)
    ),
    series("show2", {1: 1}, {"en": "Second Show"}, genres=["horror"], age_min=40),
]
US_NOW = ["heart", "show", "rio", "m0", "m1", "m2", "m3", "m4", "m5", "m6", "show2"]
FR_NOW = ["letter", "heart"]


class Moment:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def moment() -> Moment:
    return Moment()


@pytest.fixture
def cache() -> CatalogCache:
    cache = CatalogCache(MemoryStore(), refresh_s=3600, clock=ManualClock())
    cache.install(CatalogSnapshot.build(CATALOG, 1))
    return cache


@pytest.fixture
def view(cache: CatalogCache, moment: Moment) -> CatalogView:
    return CatalogView(cache, MEDIA, clock=moment)


def browse_ids(
    view: CatalogView,
    territory: str,
    *,
    limit: int = 100,
    genre: str | None = None,
    kind: TitleKind | None = None,
) -> list[str]:
    page = view.browse(
        territory=territory,
        accept_language=None,
        genre=genre,
        kind=kind,
        limit=limit,
        cursor=None,
    )
    return [card.id for card in page.items]


def all_pages(
    view: CatalogView,
    territory: str,
    limit: int,
    genre: str | None = None,
    kind: TitleKind | None = None,
) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = view.browse(
            territory=territory,
            accept_language=None,
            genre=genre,
            kind=kind,
            limit=limit,
            cursor=cursor,
        )
        pages.append([card.id for card in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
        assert len(pages) < 50, "pagination does not end"


# --- territory and time --------------------------------------------------------------------
def test_browse_shows_what_the_territory_may_watch_now_newest_first(view: CatalogView) -> None:
    assert browse_ids(view, "US") == US_NOW
    assert browse_ids(view, "FR") == FR_NOW
    assert browse_ids(view, "JP") == []


def test_an_unlicensed_title_does_not_exist_for_the_territory(view: CatalogView) -> None:
    assert view.detail("letter", territory="FR", accept_language=None).id == "letter"
    with pytest.raises(NotFound):
        view.detail("letter", territory="US", accept_language=None)
    with pytest.raises(NotFound):
        view.detail("no-such-title", territory="US", accept_language=None)


def test_a_window_that_has_not_started_is_invisible_until_it_starts(
    view: CatalogView, moment: Moment
) -> None:
    with pytest.raises(NotFound):
        view.detail("upcoming", territory="US", accept_language=None)
    moment.now = NOW + 10 * DAY - timedelta(microseconds=1)
    assert "upcoming" not in browse_ids(view, "US")
    moment.now = NOW + 10 * DAY  # the window starts
    assert view.detail("upcoming", territory="US", accept_language=None).name == (
        "Tomorrow's Signal"
    )
    assert browse_ids(view, "US")[0] == "upcoming"
    assert found(view, "signal") == ["upcoming"]


def test_an_ended_window_is_invisible_and_was_visible_before(
    view: CatalogView, moment: Moment
) -> None:
    assert "ended" not in browse_ids(view, "US")
    moment.now = NOW - 2 * DAY
    assert browse_ids(view, "US")[:2] == ["ended", "heart"]
    assert view.detail("ended", territory="US", accept_language=None).id == "ended"
    moment.now = NOW - DAY  # exactly at its end
    assert "ended" not in browse_ids(view, "US")


# --- language ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("title_id", "accept_language", "language", "name"),
    [
        pytest.param("heart", "fr", "fr", "Le Cœur Sauvage", id="french"),
        pytest.param("heart", "fr-CA,en;q=0.5", "fr", "Le Cœur Sauvage", id="regional-french"),
        pytest.param("heart", "de", "en", "The Wild Heart", id="german-falls-back-to-default"),
        pytest.param("heart", None, "en", "The Wild Heart", id="no-header"),
        pytest.param("rio", "de", "es", "El Río Silencioso", id="default-language-es"),
        pytest.param("rio", "en, fr;q=0.8", "fr", "La Rivière Silencieuse", id="second-choice"),
    ],
)
def test_names_come_in_the_viewers_language(
    view: CatalogView, title_id: str, accept_language: str | None, language: str, name: str
) -> None:
    detail = view.detail(title_id, territory="US", accept_language=accept_language)
    assert (detail.language, detail.name) == (language, name)
    card = next(
        c
        for c in view.browse(
            territory="US",
            accept_language=accept_language,
            genre=None,
            kind=None,
            limit=100,
            cursor=None,
        ).items
        if c.id == title_id
    )
    assert (card.language, card.name) == (language, name)


def test_a_series_page_lists_seasons_and_episodes_in_order(view: CatalogView) -> None:
    detail = view.detail("show", territory="US", accept_language="fr")
    assert detail.kind is TitleKind.SERIES
    assert detail.name == "Le Verger Tranquille"
    assert [season.number for season in detail.seasons] == [1, 2]
    assert [season.name for season in detail.seasons] == ["Saison 1", "Saison 2"]
    assert [[e.id for e in season.episodes] for season in detail.seasons] == [
        ["show-s1e1", "show-s1e2", "show-s1e3"],
        ["show-s2e1", "show-s2e2"],
    ]
    assert [e.name for e in detail.seasons[0].episodes] == [
        "Épisode 1.1",
        "Épisode 1.2",
        "Épisode 1.3",
    ]
    assert {e.language for season in detail.seasons for e in season.episodes} == {"fr"}
    assert [e.playable for e in detail.seasons[0].episodes] == [True, False, False]
    assert detail.playable is True
    assert detail.subtitle_languages == ["de", "en", "fr"]
    assert detail.available_languages == ["en", "fr"]
    assert detail.poster_url == "https://media.example/titles/show/s1e1/poster.jpg"
    german = view.detail("show", territory="US", accept_language="de")
    assert german.seasons[1].name == "Season 2"
    assert german.seasons[1].episodes[0].name == "Episode 2.1"


def test_a_movie_page(view: CatalogView) -> None:
    detail = view.detail("heart", territory="US", accept_language=None)
    assert detail.seasons == []
    assert detail.playable is False
    assert detail.subtitle_languages == []
    assert [member.name for member in detail.cast] == ["Zoë Dubois"]
    assert detail.genres == ["drama", "romance"]


@pytest.mark.parametrize(
    ("title_id", "poster_url"),
    [
        ("heart", "https://media.example/posters/heart.jpg"),
        ("rio", "https://cdn.example/rio.jpg"),
        ("m0", None),
    ],
)
def test_poster_urls(view: CatalogView, title_id: str, poster_url: str | None) -> None:
    assert view.detail(title_id, territory="US", accept_language=None).poster_url == poster_url


# --- pages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 3, 4, 10, 11, 12])
def test_pages_cover_everything_once(view: CatalogView, limit: int) -> None:
    pages = all_pages(view, "US", limit)
    assert [title_id for page in pages for title_id in page] == US_NOW
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


def test_a_page_ending_at_the_last_title_has_no_cursor(view: CatalogView) -> None:
    assert all_pages(view, "US", len(US_NOW)) == [US_NOW]
    assert all_pages(view, "FR", 1) == [["letter"], ["heart"]]


@pytest.mark.parametrize(
    ("genre", "kind", "limit", "pages"),
    [
        pytest.param("comedy", None, 2, [["show", "m1"], ["m3", "m5"]], id="comedy"),
        pytest.param("horror", None, 3, [["m0", "m2", "m4"], ["m6", "show2"]], id="horror"),
        pytest.param(None, TitleKind.SERIES, 1, [["show"], ["show2"]], id="series"),
        pytest.param("horror", TitleKind.MOVIE, 3, [["m0", "m2", "m4"], ["m6"]], id="both"),
        pytest.param("sci-fi", None, 3, [[]], id="no-match"),
    ],
)
def test_filters_across_pages(
    view: CatalogView,
    genre: str | None,
    kind: TitleKind | None,
    limit: int,
    pages: list[list[str]],
) -> None:
    assert all_pages(view, "US", limit, genre=genre, kind=kind) == pages


def page_after(view: CatalogView, cursor: str | None, limit: int = 3) -> tuple[list[str], str]:
    page = view.browse(
        territory="US", accept_language=None, genre=None, kind=None, limit=limit, cursor=cursor
    )
    assert page.next_cursor is not None
    return [card.id for card in page.items], page.next_cursor


def test_a_page_resumes_after_its_last_title_when_the_catalog_changed(
    view: CatalogView, cache: CatalogCache
) -> None:
    first, cursor = page_after(view, None)
    assert first == ["heart", "show", "rio"]
    # a new title arrives at the front: positions shift, the cursor's title is found by id
    cache.install(CatalogSnapshot.build([*CATALOG, title("fresh", age_min=0)], 2))
    second, _ = page_after(view, cursor)
    assert second == ["m0", "m1", "m2"]


def test_a_page_resumes_by_position_when_its_last_title_left(
    view: CatalogView, cache: CatalogCache
) -> None:
    first, cursor = page_after(view, None)
    assert first == ["heart", "show", "rio"]
    cache.install(CatalogSnapshot.build([t for t in CATALOG if t.id != "rio"], 2))
    second, _ = page_after(view, cursor)
    assert second == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not a cursor!", id="garbage"),
        pytest.param(cursors.encode({"p": -1, "id": "heart"}), id="negative-position"),
        pytest.param(cursors.encode({"p": "1", "id": "heart"}), id="position-not-int"),
        pytest.param(cursors.encode({"p": 1}), id="no-id"),
        pytest.param("WzEsMl0", id="json-list"),  # base64 of [1,2]
    ],
)
def test_bad_cursors_are_refused(view: CatalogView, cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        view.browse(
            territory="US", accept_language=None, genre=None, kind=None, limit=3, cursor=cursor
        )
    assert raised.value.reason == "bad_cursor"


# --- rows ----------------------------------------------------------------------------------
def test_the_new_row(view: CatalogView) -> None:
    row = view.new_row(territory="US", accept_language="fr", limit=3)
    assert (row.id, row.title) == ("new", "New Releases")
    assert [card.id for card in row.items] == ["heart", "show", "rio"]
    assert row.items[0].name == "Le Cœur Sauvage"
    assert [c.id for c in view.new_row(territory="FR", accept_language=None, limit=20).items] == (
        FR_NOW
    )


@pytest.mark.parametrize(
    ("genre", "row_title", "territory", "expected"),
    [
        ("drama", "Drama", "US", ["heart", "rio"]),
        ("drama", "Drama", "FR", ["letter", "heart"]),
        ("sci-fi", "Sci Fi", "US", []),
        ("horror", "Horror", "US", ["m0", "m2", "m4"]),
    ],
)
def test_genre_rows(
    view: CatalogView, genre: str, row_title: str, territory: str, expected: list[str]
) -> None:
    row = view.genre_row(genre, territory=territory, accept_language=None, limit=3)
    assert (row.id, row.title) == (f"genre:{genre}", row_title)
    assert [card.id for card in row.items] == expected


def test_an_unknown_genre_row_is_not_found(view: CatalogView) -> None:
    with pytest.raises(NotFound, match="no genre western"):
        view.genre_row("western", territory="US", accept_language=None, limit=3)


# --- search --------------------------------------------------------------------------------
def found(
    view: CatalogView, query: str, territory: str = "US", accept_language: str | None = None
) -> list[str]:
    return [
        card.id
        for card in view.search(
            query, territory=territory, accept_language=accept_language, limit=20
        )
    ]


def test_search_is_filtered_by_territory(view: CatalogView) -> None:
    assert found(view, "lettre", "FR") == ["letter"]
    assert found(view, "lettre", "US") == []
    assert found(view, "paris letter", "FR") == ["letter"]
    assert found(view, "coeur", "US") == ["heart"]
    cards = view.search("coeur", territory="FR", accept_language="fr", limit=20)
    assert [(c.id, c.name) for c in cards] == [("heart", "Le Cœur Sauvage")]


def test_search_hides_windows_not_open_now(view: CatalogView) -> None:
    assert found(view, "signal") == []
    assert found(view, "yesterday") == []


def test_search_with_typos_accents_and_limit(view: CatalogView) -> None:
    assert found(view, "orchrad") == ["show"]
    assert found(view, "RIO") == ["rio"]
    assert found(view, "zoe") == ["heart"]
    assert sorted(found(view, "filler")) == [f"m{i}" for i in range(7)]
    limited = view.search("filler", territory="US", accept_language=None, limit=2)
    assert len(limited) == 2
