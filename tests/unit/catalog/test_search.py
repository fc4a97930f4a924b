"""Search: folding, as-you-type prefixes, typo tolerance, tiers, filters, storage."""

from __future__ import annotations

import gzip
import json

import pytest

from flixstack.catalog.models import LocalizedText
from flixstack.catalog.search import (
    Field,
    Match,
    SearchDoc,
    SearchHit,
    SearchIndex,
    documents,
    max_edits,
)
from flixstack.catalog.text import fold, index_tokens, tokens
from tests.unit.catalog.conftest import title


def doc(
    title_id: str,
    *names: str,
    cast: tuple[str, ...] = (),
    genres: tuple[str, ...] = (),
    popularity: float = 1.0,
) -> SearchDoc:
    return SearchDoc(title_id, names, cast, genres, popularity)


DOCS = [
    doc(
        "silent-river",
        "The Silent River",
        "La Rivière Silencieuse",
        cast=("Ana Álvarez",),
        genres=("drama",),
        popularity=10,
    ),
    doc("silent-river-returns", "The Silent River Returns", popularity=50),
    doc(
        "wild-heart",
        "The Wild Heart",
        "Le Cœur Sauvage",
        cast=("Zoë Dubois", "Søren Müller"),
        genres=("romance",),
        popularity=5,
    ),
    doc(
        "frontier",
        "The Last Frontier",
        "La Última Frontera",
        cast=("José Fernández",),
        genres=("sci-fi", "action"),
        popularity=3,
    ),
    doc("spider", "Spider-Man", genres=("action",), popularity=7),
    doc("summer", "The Golden Summer", "L'Été Doré", popularity=6),
    doc("lighthouse", "The Lighthouse", popularity=2),
    doc("up", "Up", genres=("animation", "family"), popularity=4),
    doc("wolf", "Wolf", popularity=1),
    doc("wolfgang", "Wolfgang", popularity=100),
    doc("golf", "Golf", popularity=1000),
    doc("hearthstone", "Hearthstone", popularity=500),
    doc("heard", "Heard", popularity=900),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(DOCS)


def ids(hits: list[SearchHit]) -> list[str]:
    return [hit.title_id for hit in hits]


# --- folding -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("coeur", "wild-heart", id="oe-ligature"),
        pytest.param("CŒUR", "wild-heart", id="capital-ligature-in-query"),
        pytest.param("ULTIMA", "frontier", id="upper-case-no-accent"),
        pytest.param("última", "frontier", id="accent-in-query"),
        pytest.param("zoe", "wild-heart", id="cast-diaeresis"),
        pytest.param("soren muller", "wild-heart", id="cast-o-slash-and-umlaut"),
        pytest.param("ete", "summer", id="elided-article-and-accents"),
        pytest.param("riviere silencieuse", "silent-river", id="second-language-name"),
        pytest.param("jose fernandez", "frontier", id="cast-full-name"),
    ],
)
def test_accent_and_case_insensitive(index: SearchIndex, query: str, expected: str) -> None:
    assert ids(index.search(query)) == [expected]


# --- as you type ---------------------------------------------------------------------------
def test_the_last_word_matches_as_a_prefix(index: SearchIndex) -> None:
    hits = index.search("the sil")
    assert sorted(ids(hits)) == ["silent-river", "silent-river-returns"]
    assert {hit.match for hit in hits} == {Match.PREFIX}
    assert ids(index.search("lighth")) == ["lighthouse"]
    assert index.search("lighth")[0].match is Match.PREFIX


def test_only_the_last_word_matches_as_a_prefix(index: SearchIndex) -> None:
    assert index.search("sil river") == []
    assert ids(index.search("river sil")) == ["silent-river", "silent-river-returns"]


def test_a_two_letter_prefix(index: SearchIndex) -> None:
    # both are one-word names, so popularity decides
    assert ids(index.search("wo")) == ["wolfgang", "wolf"]


# --- typos ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "edits"),
    [("", 0), ("up", 0), ("ana", 1), ("wolf", 1), ("heart", 1), ("silent", 2), ("lighthouse", 2)],
)
def test_max_edits(word: str, edits: int) -> None:
    assert max_edits(word) == edits


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("up", [SearchHit("up", Match.EXACT, 0, Field.NAME)], id="two-letters-exact"),
        pytest.param("ip", [], id="two-letters-one-typo-no-match"),
        pytest.param(
            "ama", [SearchHit("silent-river", Match.FUZZY, 1, Field.CAST)], id="three-one-typo"
        ),
        pytest.param("wplf", [SearchHit("wolf", Match.FUZZY, 1, Field.NAME)], id="four-one-typo"),
        pytest.param(
            "wlof", [SearchHit("wolf", Match.FUZZY, 1, Field.NAME)], id="four-swap-is-one-edit"
        ),
        pytest.param("wpkf", [], id="four-two-typos-no-match"),
        pytest.param("hxaxt", [], id="five-two-typos-no-match"),
        pytest.param(
            "silnet",
            [
                SearchHit("silent-river-returns", Match.FUZZY, 1, Field.NAME),
                SearchHit("silent-river", Match.FUZZY, 1, Field.NAME),
            ],
            id="six-swap",
        ),
        pytest.param(
            "lihgthuose",
            [SearchHit("lighthouse", Match.FUZZY, 2, Field.NAME)],
            id="long-two-swaps",
        ),
        pytest.param(
            "frintira",
            [SearchHit("frontier", Match.FUZZY, 2, Field.NAME)],
            id="long-two-substitutions",
        ),
        pytest.param("lxhgthxusx", [], id="long-three-typos-no-match"),
    ],
)
def test_typo_tolerance(index: SearchIndex, query: str, expected: list[SearchHit]) -> None:
    assert index.search(query) == expected


def test_typos_in_several_words(index: SearchIndex) -> None:
    hits = index.search("slient rivr")
    assert ids(hits) == ["silent-river", "silent-river-returns"]  # same length first
    assert [(hit.match, hit.edits) for hit in hits] == [(Match.FUZZY, 1), (Match.FUZZY, 1)]


# --- ranking -------------------------------------------------------------------------------
def test_exact_before_prefix_before_fuzzy_whatever_the_popularity(index: SearchIndex) -> None:
    # popularity: heard 900 (fuzzy: one edit), hearthstone 500 (prefix), wild-heart 5 (exact)
    hits = index.search("heart")
    assert ids(hits) == ["wild-heart", "hearthstone", "heard"]
    assert [hit.match for hit in hits] == [Match.EXACT, Match.PREFIX, Match.FUZZY]
    assert [hit.edits for hit in hits] == [0, 0, 1]


def test_whole_name_then_prefix_then_fuzzy(index: SearchIndex) -> None:
    # popularity: golf 1000 (one edit), wolfgang 100 (prefix), wolf 1 (whole name)
    hits = index.search("wolf")
    assert ids(hits) == ["wolf", "wolfgang", "golf"]
    assert [hit.match for hit in hits] == [Match.EXACT, Match.PREFIX, Match.FUZZY]


def test_popularity_breaks_ties_within_a_tier(index: SearchIndex) -> None:
    # one-word query, neither name is one word long: popularity (50 > 10) decides
    assert ids(index.search("river")) == ["silent-river-returns", "silent-river"]
    assert ids(index.search("silent")) == ["silent-river-returns", "silent-river"]


def test_a_whole_name_comes_first(index: SearchIndex) -> None:
    hits = index.search("the silent river")
    assert ids(hits) == ["silent-river", "silent-river-returns"]
    assert [hit.match for hit in hits] == [Match.EXACT, Match.EXACT]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("silent river", id="exact-without-article"),
        pytest.param("silent riv", id="prefix-without-article"),
        pytest.param("silent rivr", id="fuzzy-without-article"),
    ],
)
def test_a_name_as_long_as_the_query_comes_first_in_its_tier(
    index: SearchIndex, query: str
) -> None:
    hits = index.search(query)
    assert ids(hits) == ["silent-river", "silent-river-returns"]
    assert hits[0].match == hits[1].match  # same tier: the length rule, not the tier, decides


def test_a_query_with_its_article_prefers_the_name_of_its_length(index: SearchIndex) -> None:
    # the article counts when the query has one: "The Silent River Returns" (4 words) is
    # not as long as "the silent riv" (3), even though it is 3 long without its article
    hits = index.search("the silent riv")
    assert ids(hits) == ["silent-river", "silent-river-returns"]
    assert [hit.match for hit in hits] == [Match.PREFIX, Match.PREFIX]


def test_a_short_query_with_an_article_is_no_name_yet(index: SearchIndex) -> None:
    # "the sil" is two words: neither three-word "The Silent River" nor the four-word
    # sequel is that long, so popularity (50 > 10) decides
    assert ids(index.search("the sil")) == ["silent-river-returns", "silent-river"]


# --- filters -------------------------------------------------------------------------------
def test_allow_filters_titles(index: SearchIndex) -> None:
    assert ids(index.search("silent", allow=lambda t: t != "silent-river-returns")) == [
        "silent-river"
    ]
    licensed_here = {"frontier", "wolf"}
    assert ids(index.search("wolf", allow=licensed_here.__contains__)) == ["wolf"]
    assert index.search("lighthouse", allow=licensed_here.__contains__) == []


def test_limit(index: SearchIndex) -> None:
    assert ids(index.search("wolf", limit=2)) == ["wolf", "wolfgang"]
    assert ids(index.search("wolf", limit=1)) == ["wolf"]
    assert index.search("wolf", limit=0) == []


def test_limit_counts_allowed_titles_only(index: SearchIndex) -> None:
    assert ids(index.search("wolf", limit=1, allow=lambda t: t != "wolf")) == ["wolfgang"]


# --- several words, fields -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("wild dubois", ["wild-heart"], id="name-word-and-cast-surname"),
        pytest.param("dubois wild", ["wild-heart"], id="any-order"),
        pytest.param("wild fernandez", [], id="every-word-must-match"),
        pytest.param("frontera action", ["frontier"], id="name-and-genre"),
    ],
)
def test_every_word_must_match_in_some_field(
    index: SearchIndex, query: str, expected: list[str]
) -> None:
    assert ids(index.search(query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("romance", [SearchHit("wild-heart", Match.EXACT, 0, Field.GENRE)], id="genre"),
        pytest.param("sci-fi", [SearchHit("frontier", Match.EXACT, 0, Field.GENRE)], id="hyphen"),
        pytest.param("scifi", [SearchHit("frontier", Match.EXACT, 0, Field.GENRE)], id="joined"),
        pytest.param(
            "action",
            [
                SearchHit("spider", Match.EXACT, 0, Field.GENRE),
                SearchHit("frontier", Match.EXACT, 0, Field.GENRE),
            ],
            id="popularity-order",
        ),
    ],
)
def test_genre_search(index: SearchIndex, query: str, expected: list[SearchHit]) -> None:
    assert index.search(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("zoe", SearchHit("wild-heart", Match.EXACT, 0, Field.CAST), id="cast"),
        pytest.param("zoe dubois wild", SearchHit("wild-heart", Match.EXACT, 0, Field.CAST)),
        pytest.param("wild dubois", SearchHit("wild-heart", Match.EXACT, 0, Field.NAME)),
        pytest.param("spiderman", SearchHit("spider", Match.EXACT, 0, Field.NAME), id="joined"),
        pytest.param("spider ma", SearchHit("spider", Match.PREFIX, 0, Field.NAME), id="prefix"),
    ],
)
def test_hit_details(index: SearchIndex, query: str, expected: SearchHit) -> None:
    assert index.search(query)[0] == expected


@pytest.mark.parametrize("query", ["", "   ", "!!! --- ?", "'", "_"])
def test_queries_without_words_find_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_unknown_words_find_nothing(index: SearchIndex) -> None:
    assert index.search("zzzzzzzzzz") == []


# --- storing -------------------------------------------------------------------------------
QUERIES = [
    "coeur",
    "the sil",
    "wolf",
    "heart",
    "lihgthuose",
    "wild dubois",
    "action",
    "wo",
    "silent riv",
]


def test_bytes_round_trip_gives_the_same_results(index: SearchIndex) -> None:
    loaded = SearchIndex.from_bytes(index.to_bytes())
    assert len(loaded) == len(index) == len(DOCS)
    for query in QUERIES:
        assert loaded.search(query) == index.search(query), query
    assert loaded.search("wolf", limit=2, allow=lambda t: t != "wolfgang") == index.search(
        "wolf", limit=2, allow=lambda t: t != "wolfgang"
    )


def test_an_empty_index_round_trips() -> None:
    empty = SearchIndex.build([])
    loaded = SearchIndex.from_bytes(empty.to_bytes())
    assert len(loaded) == 0
    assert loaded.search("anything") == []


def test_another_format_is_refused(index: SearchIndex) -> None:
    body = json.loads(gzip.decompress(index.to_bytes()))
    body["format"] = 2
    with pytest.raises(ValueError, match="format 2"):
        SearchIndex.from_bytes(gzip.compress(json.dumps(body).encode()))
    with pytest.raises(ValueError, match="format None"):
        SearchIndex.from_bytes(gzip.compress(b"{}"))


def test_documents_from_titles() -> None:
    doc_ = title(
        "t1",
        {"en": "Summer", "fr": "Été", "es": "Summer"},
        cast=["Zoë Dubois"],
        genres=["drama", "comedy"],
        popularity=12.5,
    )
    assert documents([doc_]) == [
        SearchDoc("t1", ("Summer", "Été"), ("Zoë Dubois",), ("drama", "comedy"), 12.5)
    ]


def test_an_index_built_from_titles_finds_every_language() -> None:
    doc_ = title("t1", {"en": "The Golden Summer", "fr": "L'Été Doré"})
    doc_.localized["de"] = LocalizedText(name="Der Goldene Sommer")
    built = SearchIndex.build(documents([doc_]))
    for query in ("golden summer", "ete dore", "goldene sommer", "sommer"):
        assert ids(built.search(query)) == ["t1"], query


# --- text ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Le Cœur Sauvage", "le coeur sauvage"),
        ("La Última Frontera", "la ultima frontera"),
        ("Straße", "strasse"),
        ("ÆON Flux", "aeon flux"),
        ("Søren Łukasz", "soren lukasz"),
        ("Zoë", "zoe"),
        ("ＷＯＬＦ", "wolf"),  # noqa: RUF001 (full-width letters fold to ASCII)
        ("Plain ASCII", "plain ascii"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L'Été", ["l", "ete"]),
        ("Spider-Man", ["spider", "man"]),
        ("sci-fi", ["sci", "fi"]),
        ("Tromsø: Œuvre #2", ["tromso", "oeuvre", "2"]),
        ("snake_case", ["snake", "case"]),
        ("  ", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spider-Man", ["spider", "man", "spiderman"]),
        ("L'Été", ["l", "ete", "lete"]),
        ("The Silent River", ["the", "silent", "river"]),
        ("Spider-Man: Far-From-Home", ["spider", "man", "far", "from", "home", "spiderman",
                                        "farfromhome"]),
    ],
)  # fmt: skip
def test_index_tokens(text: str, expected: list[str]) -> None:
    assert index_tokens(text) == expected
