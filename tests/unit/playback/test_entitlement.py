"""The entitlement matrix: territory x licence window x maturity x account x media."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flixstack.catalog.models import Licence, TitleDocument, TitleState
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import FlixstackError, Forbidden, NotFound
from flixstack.playback.entitlement import Entitlement, entitle, resolve, resolve_asset
from flixstack.viewers import rules
from flixstack.viewers.models import (
    ADULT_MATURITY,
    KIDS_DEFAULT_MATURITY,
    Account,
    AccountStatus,
    Profile,
    Progress,
)
from tests.unit.catalog.conftest import NOW, STAMP, title, window
from tests.unit.viewers.conftest import asset, beat, playable_series

EXPIRED = window("US", NOW - timedelta(days=60), NOW - timedelta(days=1))
FUTURE = window("US", NOW + timedelta(days=1), NOW + timedelta(days=60))
CURRENT = window("US")


def profile(maturity: int = ADULT_MATURITY) -> Profile:
    return Profile(
        id="p1", slot=1, name="Ann", avatar="blue", kids=maturity < ADULT_MATURITY,
        maturity_level=maturity, language="en", created_at=STAMP, updated_at=STAMP,
    )  # fmt: skip


def movie(
    rating: str = "PG-13", licences: list[Licence] | None = None, media: bool = True
) -> TitleDocument:
    return title(
        "m1",
        maturity_rating=rating,
        licences=[CURRENT] if licences is None else licences,
        asset=asset(1800.0).model_copy(update={"version": "asset-m1"}) if media else None,
    )


def decide(
    doc: TitleDocument,
    *,
    territory: str = "US",
    maturity: int = ADULT_MATURITY,
    status: AccountStatus = "active",
    progress: Progress | None = None,
    target_id: str | None = None,
) -> Entitlement:
    snapshot = CatalogSnapshot.build([doc], version=1)
    return entitle(
        snapshot,
        resolve(snapshot, target_id or doc.id),
        profile=profile(maturity),
        account=Account(status=status),
        progress=progress,
        territory=territory,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("territory", "licences", "rating", "maturity", "status", "refusal"),
    [
        ("US", [CURRENT], "PG-13", ADULT_MATURITY, "active", None),
        ("FR", [CURRENT], "PG-13", ADULT_MATURITY, "active", (NotFound, "not_available_here")),
        ("US", [EXPIRED], "PG-13", ADULT_MATURITY, "active", (NotFound, "not_available_here")),
        ("US", [FUTURE], "PG-13", ADULT_MATURITY, "active", (NotFound, "not_available_here")),
        ("US", [EXPIRED, CURRENT], "PG-13", ADULT_MATURITY, "active", None),
        ("FR", [window("FR")], "PG-13", ADULT_MATURITY, "active", None),
        ("US", [CURRENT], "R", KIDS_DEFAULT_MATURITY, "active", (Forbidden, "maturity_restricted")),
        ("US", [CURRENT], "TV-Y7", KIDS_DEFAULT_MATURITY, "active", None),
        ("US", [CURRENT], "PG-13", 13, "active", None),
        ("US", [CURRENT], "R", 13, "active", (Forbidden, "maturity_restricted")),
        ("US", [CURRENT], "PG-13", ADULT_MATURITY, "suspended", (Forbidden, "account_inactive")),
        ("FR", [CURRENT], "R", KIDS_DEFAULT_MATURITY, "suspended", (Forbidden, "account_inactive")),
    ],
)
def test_entitlement_matrix(
    territory: str,
    licences: list[Licence],
    rating: str,
    maturity: int,
    status: AccountStatus,
    refusal: tuple[type[FlixstackError], str] | None,
) -> None:
    doc = movie(rating, licences)
    if refusal is None:
        granted = decide(doc, territory=territory, maturity=maturity, status=status)
        assert granted.asset.version == "asset-m1"
        return
    kind, reason = refusal
    with pytest.raises(kind) as refused:
        decide(doc, territory=territory, maturity=maturity, status=status)
    assert refused.value.reason == reason


def test_window_end_is_exclusive() -> None:
    doc = movie(licences=[window("US", NOW - timedelta(days=1), NOW)])
    with pytest.raises(NotFound) as refused:
        decide(doc)
    assert refused.value.reason == "not_available_here"


def test_unknown_ids_and_missing_media() -> None:
    snapshot = CatalogSnapshot.build([movie()], version=1)
    with pytest.raises(NotFound) as unknown:
        resolve(snapshot, "nope")
    assert unknown.value.reason == "unknown_title"
    with pytest.raises(NotFound) as no_asset:
        resolve_asset(snapshot, "other-asset")
    assert no_asset.value.reason == "unknown_asset"
    with pytest.raises(NotFound) as no_media:
        decide(movie(media=False))
    assert no_media.value.reason == "no_media"


def test_unpublished_titles_are_unknown() -> None:
    doc = movie().model_copy(update={"state": TitleState.READY})
    with pytest.raises(NotFound) as refused:
        decide(doc)
    assert refused.value.reason == "unknown_title"


def test_movie_resumes_where_the_profile_left_off_unless_finished() -> None:
    halfway = rules.merge(None, [beat(1, title_id="m1", position_s=900.0, duration_s=1800.0)], "x")
    assert decide(movie(), progress=halfway.progress).resume_position_s == 900.0
    done = rules.merge(None, [beat(1, title_id="m1", position_s=1790.0, duration_s=1800.0)], "x")
    assert decide(movie(), progress=done.progress).resume_position_s == 0.0


def test_series_plays_the_episode_to_continue_with_and_names_the_next() -> None:
    doc = playable_series("s", {1: 3}, licences=[CURRENT])
    first = decide(doc)
    assert first.episode is not None
    assert first.episode.id == "s-s1e1"
    assert first.next_episode is not None
    assert first.next_episode.id == "s-s1e2"

    finished_e1 = rules.merge(
        None, [beat(1, title_id="s", episode_id="s-s1e1", position_s=1500, duration_s=1501)], "x"
    )
    after = decide(doc, progress=finished_e1.progress)
    assert after.episode is not None
    assert after.episode.id == "s-s1e2"
    assert after.resume_position_s == 0.0

    midway_e2 = rules.merge(
        None, [beat(1, title_id="s", episode_id="s-s1e2", position_s=300, duration_s=1502)], "x"
    )
    assert decide(doc, progress=midway_e2.progress).resume_position_s == 300
    # naming an episode plays that one; the position counts only for that episode
    named = decide(doc, progress=midway_e2.progress, target_id="s-s1e3")
    assert named.episode is not None
    assert named.episode.id == "s-s1e3"
    assert named.resume_position_s == 0.0
    assert named.next_episode is None


def test_an_asset_resolves_to_its_episode() -> None:
    doc = playable_series("s", {1: 2}, licences=[CURRENT])
    episodes = {
        episode_id: episode.model_copy(
            update={"asset": asset().model_copy(update={"version": f"a-{episode_id}"})}
        )
        for episode_id, episode in doc.episodes.items()
    }
    snapshot = CatalogSnapshot.build([doc.model_copy(update={"episodes": episodes})], version=1)
    target = resolve_asset(snapshot, "a-s-s1e2")
    assert (target.doc.id, target.episode_id) == ("s", "s-s1e2")


def test_refusals_are_domain_errors_with_reasons() -> None:
    with pytest.raises(FlixstackError) as refused:
        decide(movie("NC-17"), maturity=KIDS_DEFAULT_MATURITY)
    assert refused.value.reason == "maturity_restricted"
