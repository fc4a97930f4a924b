"""The viewer API over an installed catalog snapshot (no network: admin routes, which need
DynamoDB, are covered by the integration tests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import AnyHttpUrl

from flixstack.api.app import create_app
from flixstack.api.errors import status_for
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import (
    Conflict,
    FlixstackError,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    ServiceUnavailable,
    Unauthorized,
)
from flixstack.settings import Settings
from tests.unit.catalog.conftest import series, title, window

# Nothing listens on port 9: the cache's background pointer check fails at once (one
# attempt) and the installed snapshot keeps serving.
NOWHERE = AnyHttpUrl("http://127.0.0.1:9")
# One test client sends every request: rate limits (tested in test_limits.py) are lifted.
UNREACHABLE = Settings(
    endpoint_url=NOWHERE,
    catalog_refresh_s=3600,
    max_attempts=1,
    rate_limit_per_s=1e6,
    rate_limit_burst=10**6,
)

# The API's clock is the real one: windows are open for a year around today.
TODAY = datetime.now(UTC)
OPEN = {"start": TODAY - timedelta(days=365), "end": TODAY + timedelta(days=365)}


def licensed_in(*territories: str) -> list[Any]:
    return [window(territory, **OPEN) for territory in territories]


CATALOG = [
    title(
        "heart",
        {"en": "The Wild Heart", "fr": "Le Cœur Sauvage"},
        licences=licensed_in("US", "FR"),
        genres=["drama", "romance"],
        cast=["Zoë Dubois"],
        popularity=5,
        age_min=10,
    ),
    title(
        "letter",
        {"en": "The Paris Letter", "fr": "La Lettre de Paris"},
        licences=licensed_in("FR"),
        genres=["drama"],
        age_min=5,
    ),
    title(
        "upcoming",
        {"en": "Tomorrow's Signal"},
        licences=[window("US", TODAY + timedelta(days=30), TODAY + timedelta(days=60))],
        age_min=1,
    ),
    series(
        "show",
        {1: 2, 2: 1},
        {"en": "The Quiet Orchard", "fr": "Le Verger Tranquille"},
        licences=licensed_in("US"),
        genres=["comedy"],
        age_min=20,
    ),
    *(
        title(
            f"m{i}",
            {"en": f"Filler Story {i}"},
            licences=licensed_in("US"),
            genres=["comedy" if i % 2 else "horror"],
            age_min=30 + i,
        )
        for i in range(5)
    ),
]
US_NOW = ["heart", "show", "m0", "m1", "m2", "m3", "m4"]
FR_NOW = ["letter", "heart"]


def client_for(settings: Settings = UNREACHABLE) -> TestClient:
    app = create_app(settings)
    app.state.services.catalog_cache.install(CatalogSnapshot.build(CATALOG, 1))
    return TestClient(app)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with client_for() as test_client:
        yield test_client


def ids(body: Any) -> list[str]:
    items = body["items"] if isinstance(body, dict) else body
    return [item["id"] for item in items]


# --- browse --------------------------------------------------------------------------------
def test_browse_pages_through_licensed_titles_newest_first(client: TestClient) -> None:
    seen: list[list[str]] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = client.get("/titles", params=params)
        assert response.status_code == 200
        body = response.json()
        seen.append(ids(body))
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
        assert len(seen) < 10
    assert seen == [["heart", "show", "m0"], ["m1", "m2", "m3"], ["m4"]]


def test_browse_cards(client: TestClient) -> None:
    card = client.get("/titles", params={"limit": 1}).json()["items"][0]
    assert card == {
        "id": "heart",
        "kind": "movie",
        "language": "en",
        "name": "The Wild Heart",
        "synopsis": "About The Wild Heart.",
        "genres": ["drama", "romance"],
        "maturity_rating": "PG-13",
        "release_year": None,
        "poster_url": None,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"genre": "comedy"}, ["show", "m1", "m3"], id="genre"),
        pytest.param({"genre": "horror"}, ["m0", "m2", "m4"], id="other-genre"),
        pytest.param({"kind": "series"}, ["show"], id="kind-series"),
        pytest.param({"kind": "movie", "genre": "comedy"}, ["m1", "m3"], id="both"),
        pytest.param({"genre": "sci-fi"}, [], id="none"),
    ],
)
def test_browse_filters(client: TestClient, params: dict[str, str], expected: list[str]) -> None:
    response = client.get("/titles", params=params)
    assert response.status_code == 200
    assert ids(response.json()) == expected


def test_filters_hold_across_pages(client: TestClient) -> None:
    first = client.get("/titles", params={"genre": "comedy", "limit": 2}).json()
    assert ids(first) == ["show", "m1"]
    second = client.get(
        "/titles", params={"genre": "comedy", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert (ids(second), second["next_cursor"]) == (["m3"], None)


@pytest.mark.parametrize("cursor", ["bad", "WzEsMl0", "eyJwIjotMSwiaWQiOiJ4In0"])
def test_a_bad_cursor_is_a_400_with_a_reason(client: TestClient, cursor: str) -> None:
    response = client.get("/titles", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "cursor is not one this API issued",
        "reason": "bad_cursor",
    }


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": 0}, id="limit-0"),
        pytest.param({"limit": 101}, id="limit-101"),
        pytest.param({"limit": "many"}, id="limit-not-a-number"),
        pytest.param({"kind": "podcast"}, id="unknown-kind"),
        pytest.param({"cursor": "x" * 513}, id="long-cursor"),
    ],
)
def test_invalid_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/titles", params=params).status_code == 422


def test_limit_bounds_are_accepted(client: TestClient) -> None:
    assert len(client.get("/titles", params={"limit": 1}).json()["items"]) == 1
    assert ids(client.get("/titles", params={"limit": 100}).json()) == US_NOW


# --- territory -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "expected"),
    [
        pytest.param("FR", FR_NOW, id="france"),
        pytest.param("fr", FR_NOW, id="lower-case"),
        pytest.param("US", US_NOW, id="united-states"),
        pytest.param("JP", [], id="nothing-licensed"),
        pytest.param("France", US_NOW, id="malformed-falls-back-to-default"),
    ],
)
def test_the_viewer_country_header_picks_the_territory(
    client: TestClient, country: str, expected: list[str]
) -> None:
    response = client.get("/titles", headers={"CloudFront-Viewer-Country": country})
    assert ids(response.json()) == expected


def test_without_the_header_the_default_territory_applies(client: TestClient) -> None:
    assert ids(client.get("/titles").json()) == US_NOW
    with client_for(
        Settings(
            endpoint_url=NOWHERE,
            catalog_refresh_s=3600,
            max_attempts=1,
            default_territory="FR",
        )
    ) as french:
        assert ids(french.get("/titles").json()) == FR_NOW
        assert ids(french.get("/titles", headers={"CloudFront-Viewer-Country": "US"}).json()) == (
            US_NOW
        )


# --- title pages ---------------------------------------------------------------------------
def test_a_title_page(client: TestClient) -> None:
    response = client.get("/titles/heart")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["available_languages"]) == (
        "heart",
        "The Wild Heart",
        ["en", "fr"],
    )
    assert body["cast"] == [{"name": "Zoë Dubois", "role": "actor", "character": None}]
    assert (body["playable"], body["seasons"]) == (False, [])


@pytest.mark.parametrize(
    ("title_id", "country"),
    [
        pytest.param("letter", "US", id="licensed-elsewhere"),
        pytest.param("upcoming", "US", id="window-not-started"),
        pytest.param("show", "FR", id="series-licensed-elsewhere"),
        pytest.param("nope", "US", id="unknown"),
    ],
)
def test_an_unlicensed_title_is_404(client: TestClient, title_id: str, country: str) -> None:
    response = client.get(f"/titles/{title_id}", headers={"CloudFront-Viewer-Country": country})
    assert response.status_code == 404
    assert response.json() == {"detail": f"no title {title_id}", "reason": "not_found"}


def test_a_title_licensed_in_the_viewers_country(client: TestClient) -> None:
    response = client.get("/titles/letter", headers={"CloudFront-Viewer-Country": "FR"})
    assert response.status_code == 200
    assert response.json()["name"] == "The Paris Letter"


def test_a_series_page_in_french(client: TestClient) -> None:
    body = client.get("/titles/show", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).json()
    assert (body["kind"], body["language"], body["name"]) == (
        "series",
        "fr",
        "Le Verger Tranquille",
    )
    assert [(s["number"], s["name"]) for s in body["seasons"]] == [(1, "Saison 1"), (2, "Saison 2")]
    assert [[e["id"] for e in s["episodes"]] for s in body["seasons"]] == [
        ["show-s1e1", "show-s1e2"],
        ["show-s2e1"],
    ]
    assert body["seasons"][0]["episodes"][1]["name"] == "Épisode 1.2"


@pytest.mark.parametrize(
    ("accept_language", "language", "name"),
    [
        pytest.param("fr", "fr", "Le Cœur Sauvage", id="french"),
        pytest.param("fr-CA,en;q=0.8", "fr", "Le Cœur Sauvage", id="canadian-french"),
        pytest.param("de", "en", "The Wild Heart", id="german-falls-back"),
        pytest.param("de, fr;q=0.5", "fr", "Le Cœur Sauvage", id="second-choice"),
    ],
)
def test_accept_language(
    client: TestClient, accept_language: str, language: str, name: str
) -> None:
    headers = {"Accept-Language": accept_language}
    detail = client.get("/titles/heart", headers=headers).json()
    assert (detail["language"], detail["name"]) == (language, name)
    card = client.get("/titles", params={"limit": 1}, headers=headers).json()["items"][0]
    assert (card["language"], card["name"]) == (language, name)


def test_an_overlong_title_id_is_422(client: TestClient) -> None:
    assert client.get("/titles/" + "x" * 65).status_code == 422


# --- rows ----------------------------------------------------------------------------------
def test_the_new_releases_row(client: TestClient) -> None:
    row = client.get("/rows/new", params={"limit": 2}).json()
    assert (row["id"], row["title"], ids(row["items"])) == (
        "new",
        "New Releases",
        ["heart", "show"],
    )
    french = client.get("/rows/new", headers={"CloudFront-Viewer-Country": "FR"}).json()
    assert ids(french["items"]) == FR_NOW


@pytest.mark.parametrize(
    ("genre", "country", "row_title", "expected"),
    [
        ("comedy", "US", "Comedy", ["show", "m1", "m3"]),
        ("drama", "US", "Drama", ["heart"]),
        ("drama", "FR", "Drama", ["letter", "heart"]),
        ("sci-fi", "US", "Sci Fi", []),
    ],
)
def test_genre_rows(
    client: TestClient, genre: str, country: str, row_title: str, expected: list[str]
) -> None:
    response = client.get(f"/rows/genre/{genre}", headers={"CloudFront-Viewer-Country": country})
    assert response.status_code == 200
    row = response.json()
    assert (row["id"], row["title"], ids(row["items"])) == (f"genre:{genre}", row_title, expected)


def test_an_unknown_genre_row_is_404(client: TestClient) -> None:
    response = client.get("/rows/genre/western")
    assert response.status_code == 404
    assert response.json()["reason"] == "not_found"


def test_browsing_an_unknown_genre_is_a_400_with_the_genres(client: TestClient) -> None:
    response = client.get("/titles", params={"genre": "western"})
    assert response.status_code == 400
    assert response.json()["reason"] == "unknown_genre"
    assert "sci-fi" in response.json()["detail"]


def test_row_limits_are_validated(client: TestClient) -> None:
    assert client.get("/rows/new", params={"limit": 0}).status_code == 422
    assert client.get("/rows/genre/drama", params={"limit": 101}).status_code == 422


# --- search --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "country", "expected"),
    [
        pytest.param("coeur", "US", ["heart"], id="accent-free"),
        pytest.param("CŒUR SAUV", "FR", ["heart"], id="ligature-prefix"),
        pytest.param("haert", "US", ["heart"], id="typo-swap"),
        pytest.param("wild haert", "US", ["heart"], id="typo-second-word"),
        pytest.param("orchrad", "US", ["show"], id="typo-series"),
        pytest.param("zoe", "US", ["heart"], id="cast"),
        pytest.param("lettre", "FR", ["letter"], id="licensed-here"),
        pytest.param("lettre", "US", [], id="licensed-elsewhere"),
        pytest.param("signal", "US", [], id="window-not-started"),
        pytest.param("drama", "FR", ["heart", "letter"], id="genre-by-popularity"),
        pytest.param("drama", "US", ["heart"], id="genre-us"),
    ],
)
def test_search(client: TestClient, query: str, country: str, expected: list[str]) -> None:
    response = client.get(
        "/search", params={"q": query}, headers={"CloudFront-Viewer-Country": country}
    )
    assert response.status_code == 200
    assert ids(response.json()) == expected


def test_search_cards_are_in_the_viewers_language(client: TestClient) -> None:
    body = client.get("/search", params={"q": "wild heart"}, headers={"Accept-Language": "fr"})
    assert [(c["id"], c["name"]) for c in body.json()] == [("heart", "Le Cœur Sauvage")]


def test_search_limit(client: TestClient) -> None:
    assert len(client.get("/search", params={"q": "filler", "limit": 2}).json()) == 2
    assert len(client.get("/search", params={"q": "filler"}).json()) == 5


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no-query"),
        pytest.param({"q": ""}, id="empty-query"),
        pytest.param({"q": "x" * 101}, id="long-query"),
        pytest.param({"q": "heart", "limit": 0}, id="limit-0"),
    ],
)
def test_invalid_searches_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/search", params=params).status_code == 422


def test_a_query_without_words_finds_nothing(client: TestClient) -> None:
    response = client.get("/search", params={"q": "?!"})
    assert (response.status_code, response.json()) == (200, [])


# --- the application -----------------------------------------------------------------------
def test_operation_ids_are_unique_and_readable() -> None:
    schema = create_app(UNREACHABLE).openapi()
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert {"titles-browse", "titles-title", "titles-search", "health-health"} <= set(ids)


def test_domain_errors_map_by_class_hierarchy() -> None:
    class StaleVersion(Conflict):
        pass

    class Gone(NotFound):
        pass

    assert status_for(NotFound("x")) == 404
    assert status_for(Gone("x")) == 404
    assert status_for(StaleVersion("x")) == 409
    assert status_for(InvalidInput("x")) == 400
    assert status_for(PreconditionRequired("x")) == 428
    assert status_for(Forbidden("x")) == 403
    assert status_for(Unauthorized("x")) == 401
    assert status_for(ServiceUnavailable("x")) == 503
    assert status_for(FlixstackError("x")) == 500
