"""Licence windows (UTC, start <= t < end) and Accept-Language negotiation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from flixstack.catalog.availability import (
    licensed,
    negotiate,
    next_change,
    pick,
    preferences,
    visible,
)
from flixstack.catalog.models import Licence, LocalizedText, TitleState
from tests.unit.catalog.conftest import title

PARIS_SUMMER = timezone(timedelta(hours=2))
START = datetime(2027, 1, 1, tzinfo=UTC)
END = datetime(2027, 3, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# --- one window ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(START - MICROSECOND, False, id="1us-before-start"),
        pytest.param(START, True, id="exactly-at-start"),
        pytest.param(START + timedelta(days=20), True, id="inside"),
        pytest.param(END - MICROSECOND, True, id="1us-before-end"),
        pytest.param(END, False, id="exactly-at-end"),
        pytest.param(END + timedelta(days=1), False, id="after-end"),
    ],
)
def test_a_window_covers_start_inclusive_end_exclusive(moment: datetime, expected: bool) -> None:
    assert Licence(territory="US", start=START, end=END).covers("US", moment) is expected


def test_a_window_covers_only_its_territory() -> None:
    licence = Licence(territory="US", start=START, end=END)
    assert licence.covers("US", START) is True
    assert licence.covers("FR", START) is False


def test_a_window_in_another_offset_is_stored_in_utc() -> None:
    licence = Licence(
        territory="FR",
        start=datetime(2027, 1, 1, 2, 0, tzinfo=PARIS_SUMMER),
        end=datetime(2027, 1, 2, 2, 0, tzinfo=PARIS_SUMMER),
    )
    assert licence.start == START
    assert licence.start.utcoffset() == timedelta(0)
    assert licence.start.hour == 0
    assert licence.end == datetime(2027, 1, 2, tzinfo=UTC)
    assert licence.covers("FR", START) is True
    assert licence.covers("FR", START - MICROSECOND) is False
    assert licence.covers("FR", datetime(2027, 1, 2, tzinfo=UTC)) is False


def test_a_window_from_json_with_an_offset_compares_with_utc_instants() -> None:
    licence = Licence.model_validate(
        {"territory": "FR", "start": "2027-01-01T02:00:00+02:00", "end": "2027-01-01T03:00:00Z"}
    )
    assert licence.start == START
    assert licence.model_dump(mode="json")["start"] == "2027-01-01T00:00:00Z"
    assert licence.covers("FR", datetime(2027, 1, 1, 2, 59, 59, tzinfo=UTC)) is True
    assert licence.covers("FR", datetime(2027, 1, 1, 3, 0, tzinfo=UTC)) is False


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(datetime(2027, 1, 1), END, id="naive-start"),
        pytest.param(START, datetime(2027, 3, 1), id="naive-end"),
        pytest.param("2027-01-01T00:00:00", "2027-03-01T00:00:00Z", id="naive-json-start"),
    ],
)
def test_naive_datetimes_are_refused(start: datetime | str, end: datetime | str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        Licence.model_validate({"territory": "US", "start": start, "end": end})


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(START, START, id="empty"),
        pytest.param(END, START, id="reversed"),
        pytest.param(  # 00:30Z then 02:00+02:00 (00:00Z): ordered on the wall clock only
            datetime(2027, 1, 1, 0, 30, tzinfo=UTC),
            datetime(2027, 1, 1, 2, 0, tzinfo=PARIS_SUMMER),
            id="reversed-across-offsets",
        ),
    ],
)
def test_a_window_must_end_after_it_starts(start: datetime, end: datetime) -> None:
    with pytest.raises(ValidationError, match="ends before it starts"):
        Licence(territory="US", start=start, end=end)


@pytest.mark.parametrize("territory", ["us", "USA", "U", "1A"])
def test_territories_are_iso_alpha2(territory: str) -> None:
    with pytest.raises(ValidationError):
        Licence(territory=territory, start=START, end=END)


# --- several windows -----------------------------------------------------------------------
WINDOWS = [
    Licence(territory="US", start=at(2027, 1, 1), end=at(2027, 3, 1)),
    Licence(territory="US", start=at(2027, 6, 1), end=at(2027, 9, 1)),
    Licence(territory="FR", start=at(2027, 1, 1), end=at(2027, 12, 1)),
]


@pytest.mark.parametrize(
    ("territory", "moment", "expected"),
    [
        pytest.param("US", at(2026, 12, 31, 23), False, id="us-before-everything"),
        pytest.param("US", at(2027, 2, 1), True, id="us-first-window"),
        pytest.param("US", at(2027, 4, 1), False, id="us-in-the-gap"),
        pytest.param("FR", at(2027, 4, 1), True, id="fr-during-us-gap"),
        pytest.param("US", at(2027, 6, 1), True, id="us-second-window-starts"),
        pytest.param("US", at(2027, 9, 1), False, id="us-second-window-ended"),
        pytest.param("GB", at(2027, 2, 1), False, id="gb-never-licensed"),
        pytest.param(
            "US",
            datetime(2027, 3, 1, 1, 30, tzinfo=PARIS_SUMMER),  # 2027-02-28T23:30Z
            True,
            id="us-offset-instant-still-february-in-utc",
        ),
        pytest.param(
            "US",
            datetime(2027, 2, 28, 20, 0, tzinfo=timezone(timedelta(hours=-5))),  # Mar 1 01:00Z
            False,
            id="us-offset-instant-already-march-in-utc",
        ),
    ],
)
def test_licensed_over_several_windows(territory: str, moment: datetime, expected: bool) -> None:
    assert licensed(WINDOWS, territory, moment) is expected


def test_no_windows_means_not_licensed() -> None:
    assert licensed([], "US", at(2027, 2, 1)) is False


def test_licensed_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="time zone"):
        licensed(WINDOWS, "US", datetime(2027, 2, 1))


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (TitleState.PUBLISHED, True),
        (TitleState.DRAFT, False),
        (TitleState.PROCESSING, False),
        (TitleState.READY, False),
        (TitleState.ARCHIVED, False),
    ],
)
def test_visible_needs_published_state(state: TitleState, expected: bool) -> None:
    doc = title("t1", state=state, licences=WINDOWS)
    assert visible(doc, "US", at(2027, 2, 1)) is expected
    assert visible(doc, "US", at(2027, 4, 1)) is False  # never outside a window


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(at(2026, 6, 1), at(2027, 1, 1), id="before-all-first-start"),
        pytest.param(at(2027, 1, 1), at(2027, 3, 1), id="at-a-start-strictly-after"),
        pytest.param(at(2027, 2, 1), at(2027, 3, 1), id="inside-first-end"),
        pytest.param(at(2027, 3, 1), at(2027, 6, 1), id="at-an-end-next-start"),
        pytest.param(at(2027, 10, 1), at(2027, 12, 1), id="last-edge"),
        pytest.param(at(2027, 12, 1), None, id="after-everything"),
        pytest.param(
            datetime(2027, 3, 1, 1, 0, tzinfo=PARIS_SUMMER),  # 2027-02-28T23:00Z
            at(2027, 3, 1),
            id="offset-instant",
        ),
    ],
)
def test_next_change(after: datetime, expected: datetime | None) -> None:
    assert next_change(WINDOWS, after) == expected


def test_next_change_without_windows() -> None:
    assert next_change([], at(2027, 1, 1)) is None


# --- languages -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            "fr-CA,fr;q=0.9,en;q=0.8,*;q=0.1", ("fr-CA", "fr", "en", "*"), id="browser-style"
        ),
        pytest.param("en;q=0.5, de, fr;q=0.8", ("de", "fr", "en"), id="ordered-by-quality"),
        pytest.param("es, en", ("es", "en"), id="equal-quality-keeps-header-order"),
        pytest.param("fr;q=0, en", ("en",), id="q-zero-dropped"),
        pytest.param("fr;q=0.0, en;q=0.001", ("en",), id="q-zero-point-zero-dropped"),
        pytest.param("fr;q=abc, en", ("en",), id="bad-quality-dropped"),
        pytest.param(" fr ; q=0.9 , de ", ("de", "fr"), id="whitespace"),
        pytest.param("en,,fr", ("en", "fr"), id="empty-parts-skipped"),
        pytest.param("", (), id="empty"),
        pytest.param(None, (), id="absent"),
    ],
)
def test_preferences(header: str | None, expected: tuple[str, ...]) -> None:
    assert preferences(header) == expected


@pytest.mark.parametrize(
    ("header", "available", "default", "expected"),
    [
        pytest.param("fr", ["en", "fr"], "en", "fr", id="exact"),
        pytest.param("fr-CA", ["en", "fr"], "en", "fr", id="region-falls-back-to-language"),
        pytest.param("fr-CA", ["fr", "fr-CA"], "en", "fr-CA", id="exact-region-first"),
        pytest.param("pt", ["en", "pt-BR"], "en", "pt-BR", id="language-takes-a-region"),
        pytest.param("pt-PT", ["en", "pt-BR"], "en", "pt-BR", id="sibling-region"),
        pytest.param("FR-ca", ["en", "fr"], "en", "fr", id="case-insensitive-range"),
        pytest.param("pt-br", ["en", "pt-BR"], "en", "pt-BR", id="returns-available-spelling"),
        pytest.param("*", ["fr", "en"], "en", "en", id="star-takes-default"),
        pytest.param("*", ["fr", "es"], "en", "fr", id="star-default-absent-first-available"),
        pytest.param("ja, *;q=0.1", ["fr", "en"], "fr", "fr", id="star-after-a-miss"),
        pytest.param("de, fr;q=0.5, en;q=0.9", ["en", "fr"], "fr", "en", id="best-quality-wins"),
        pytest.param("fr;q=0, es", ["en", "fr", "es"], "en", "es", id="q-zero-not-chosen"),
        pytest.param("ja, ko", ["en", "fr"], "fr", "fr", id="nothing-matches-default"),
        pytest.param(None, ["en", "fr"], "fr", "fr", id="no-header-default"),
        pytest.param("ja", ["es", "fr"], "en", "es", id="default-absent-first-available"),
        pytest.param("fr", [], "en", "en", id="nothing-available"),
    ],
)
def test_negotiate(header: str | None, available: list[str], default: str, expected: str) -> None:
    assert negotiate(header, available, default) == expected


TEXTS = {
    "en": LocalizedText(name="The Wild Heart"),
    "fr": LocalizedText(name="Le Cœur Sauvage"),
    "pt-BR": LocalizedText(name="O Coração Selvagem"),
}


@pytest.mark.parametrize(
    ("header", "default", "language", "name"),
    [
        ("fr-FR,en;q=0.5", "en", "fr", "Le Cœur Sauvage"),
        ("pt", "en", "pt-BR", "O Coração Selvagem"),
        ("de", "en", "en", "The Wild Heart"),
        ("de", "fr", "fr", "Le Cœur Sauvage"),
        (None, "pt-BR", "pt-BR", "O Coração Selvagem"),
    ],
)
def test_pick(header: str | None, default: str, language: str, name: str) -> None:
    chosen, text = pick(TEXTS, header, default)
    assert (chosen, text.name) == (language, name)


def test_pick_with_the_default_missing_takes_the_first_text() -> None:
    texts = {"es": LocalizedText(name="El Río"), "fr": LocalizedText(name="La Rivière")}
    assert pick(texts, "de", "en") == ("es", texts["es"])
