"""Profile rules: field validation, maturity levels and the kids caps."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flixstack.catalog.models import MATURITY_LEVELS
from flixstack.errors import InvalidInput
from flixstack.viewers.models import (
    ADULT_MATURITY,
    AVATARS,
    KIDS_DEFAULT_MATURITY,
    KIDS_MAX_MATURITY,
    ProfileCreate,
    ProfilePatch,
)
from flixstack.viewers.rules import settle_maturity, suitable
from tests.unit.catalog.conftest import title


@pytest.mark.parametrize(
    ("kids", "requested", "was_kids", "current", "expected"),
    [
        pytest.param(False, None, None, None, ADULT_MATURITY, id="new-adult-gets-18"),
        pytest.param(True, None, None, None, KIDS_DEFAULT_MATURITY, id="new-kids-gets-7"),
        pytest.param(True, 12, None, None, 12, id="new-kids-may-choose-12"),
        pytest.param(True, 0, None, None, 0, id="new-kids-may-choose-0"),
        pytest.param(False, 13, None, None, 13, id="new-adult-may-choose-13"),
        pytest.param(True, None, False, 18, KIDS_DEFAULT_MATURITY, id="becoming-kids-lowers-18"),
        pytest.param(True, None, False, 5, 5, id="becoming-kids-keeps-a-lower-level"),
        pytest.param(True, None, True, 10, 10, id="staying-kids-keeps-its-level"),
        pytest.param(False, None, True, 7, 7, id="leaving-kids-keeps-its-level"),
        pytest.param(True, 9, True, 7, 9, id="kids-raised-within-the-cap"),
    ],
)
def test_settled_maturity(
    kids: bool, requested: int | None, was_kids: bool | None, current: int | None, expected: int
) -> None:
    assert (
        settle_maturity(kids=kids, requested=requested, was_kids=was_kids, current=current)
        == expected
    )


@pytest.mark.parametrize(
    ("was_kids", "current"),
    [pytest.param(None, None, id="on-create"), pytest.param(True, 7, id="on-edit")],
)
def test_a_kids_profile_never_goes_above_the_cap(
    was_kids: bool | None, current: int | None
) -> None:
    with pytest.raises(InvalidInput) as caught:
        settle_maturity(
            kids=True, requested=KIDS_MAX_MATURITY + 1, was_kids=was_kids, current=current
        )
    assert caught.value.reason == "kids_maturity"


def test_the_kids_caps_keep_teen_ratings_out() -> None:
    # GIVEN the catalog's ratings WHEN a kids profile is at its default or its cap
    assert suitable(title("y7", maturity_rating="TV-Y7"), KIDS_DEFAULT_MATURITY)
    assert not suitable(title("pg", maturity_rating="PG"), KIDS_DEFAULT_MATURITY)
    assert suitable(title("pg", maturity_rating="PG"), KIDS_MAX_MATURITY)
    # THEN nothing rated PG-13 or above is ever suitable for a kids profile
    teen = [r for r, level in MATURITY_LEVELS.items() if level > KIDS_MAX_MATURITY]
    assert sorted(teen) == sorted(["PG-13", "TV-14", "R", "TV-MA", "NC-17"])


def test_a_profile_is_created_with_defaults() -> None:
    body = ProfileCreate(name="  Ana  ")
    assert (body.name, body.avatar, body.kids, body.maturity_level, body.language) == (
        "Ana",
        "blue",
        False,
        None,
        "en",
    )
    assert body.avatar in AVATARS


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"name": "   "}, id="blank-name"),
        pytest.param({"name": "x" * 51}, id="name-over-50"),
        pytest.param({"name": "Ana", "avatar": "https://evil.example/a.png"}, id="avatar-url"),
        pytest.param({"name": "Ana", "avatar": "dragon"}, id="unknown-avatar"),
        pytest.param({"name": "Ana", "maturity_level": 19}, id="maturity-over-18"),
        pytest.param({"name": "Ana", "maturity_level": -1}, id="negative-maturity"),
        pytest.param({"name": "Ana", "language": "english"}, id="not-bcp47"),
        pytest.param({"name": "Ana", "owner": "someone-else"}, id="unknown-field"),
    ],
)
def test_bad_profiles_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProfileCreate.model_validate(fields)


def test_names_of_50_characters_and_regional_languages_are_fine() -> None:
    body = ProfileCreate(name="x" * 50, language="pt-BR", avatar="kids-robot", kids=True)
    assert (len(body.name), body.language) == (50, "pt-BR")


def test_a_patch_cannot_slip_in_fields_it_does_not_have() -> None:
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"slot": 3})
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"id": "other"})
