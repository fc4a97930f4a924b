"""Recommendations end to end against the emulator: viewers watch through the API, the
training job reads the viewers table and the events lake, writes a model version and the
picks, and the home page of the API (over real HTTP) follows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.recommend_store import DynamoPicks
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.recommend import wiring
from flixstack.settings import Settings
from flixstack.viewers.wiring import viewing
from tests.integration.conftest import access_token, licensed, serving, subject, viewer_app
from tests.unit.catalog.conftest import title
from tests.unit.viewers.conftest import asset

pytestmark = pytest.mark.integration

HORROR = [f"horror-{n}" for n in range(1, 25)]
COMEDY = [f"comedy-{n}" for n in range(1, 9)]
DRAMA = [f"drama-{n}" for n in range(1, 9)]
GORE = "horror-gore"  # NC-17: above a maturity-13 profile
ABROAD = "horror-abroad"  # licensed in GB only
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def recs_catalog(bootstrapped: Settings, clients: AwsClients) -> None:
    repository = DynamoCatalogRepository(bootstrapped.naming.table(spec.CATALOG), clients.dynamodb)
    shelves = [(HORROR, "horror"), (COMEDY, "comedy"), (DRAMA, "drama")]
    for n, (title_id, genre) in enumerate((t, g) for ids, g in shelves for t in ids):
        repository.create(
            title(title_id, **licensed(title_id, genres=[genre], asset=asset(6000)), age_min=n)
        )
    repository.create(
        title(GORE, **licensed(GORE, genres=["horror"], maturity_rating="NC-17", asset=asset()))
    )
    repository.create(title(ABROAD, **licensed(ABROAD, "GB", genres=["horror"], asset=asset())))
    snapshots = S3SnapshotStore(repository, artifacts(bootstrapped, clients))
    CatalogPublisher(repository, snapshots).rebuild()


@pytest.fixture
def api(bootstrapped: Settings, recs_catalog: None) -> Iterator[str]:
    # the model pointer is looked at on every request (no 30 s wait for the new version)
    with serving(viewer_app(bootstrapped.model_copy(update={"recommend_refresh_s": 0}))) as url:
        yield url


def signed_in(api: str, settings: Settings, clients: AwsClients, name: str) -> httpx.Client:
    token = access_token(settings, clients, f"{name}-{uuid.uuid4().hex[:6]}@test.flixstack")
    return httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def profile(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/profiles", json={"name": "Sam", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def watch(
    client: httpx.Client,
    profile_id: str,
    titles: list[str],
    share: float = 1.0,
    territory: str = "US",
    start_minute: int = 0,
) -> None:
    """Plays each title to ``share`` of its 6,000 s, one after another in one evening."""
    beats = [
        {
            "event_id": str(uuid.uuid4()),
            "title_id": title_id,
            "position_s": 6000 * share,
            "duration_s": 6000,
            "client_ts": (BASE + timedelta(minutes=start_minute + 2 * n)).isoformat(),
            "device": "tv",
        }
        for n, title_id in enumerate(titles)
    ]
    response = client.post(
        f"/profiles/{profile_id}/progress",
        json={"heartbeats": beats},
        headers={"CloudFront-Viewer-Country": territory},
    )
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == len(titles), response.text


def home(client: httpx.Client, profile_id: str) -> dict[str, Any]:
    response = client.get(f"/profiles/{profile_id}/home")
    assert response.status_code == 200, response.text
    return dict(response.json())


def shown(page: dict[str, Any]) -> list[str]:
    return [card["id"] for row in page["rows"] for card in row["items"]]


def test_watching_horror_then_training_brings_a_horror_row(
    api: str, bootstrapped: Settings, clients: AwsClients
) -> None:
    # GIVEN other viewers with tastes: horror fans (who also watch the NC-17 title, and in
    # GB the title licensed there) and comedy fans
    for n in range(6):
        with signed_in(api, bootstrapped, clients, f"fan{n}") as fan:
            p = profile(fan)
            watch(fan, p, [*HORROR[3 * n : 3 * n + 8], GORE])
            watch(fan, p, [ABROAD], territory="GB")
        with signed_in(api, bootstrapped, clients, f"joker{n}") as joker:
            watch(joker, profile(joker), COMEDY[n % 4 : n % 4 + 4])

    with signed_in(api, bootstrapped, clients, "me") as me:
        mine = profile(me, maturity_level=13)
        # WHEN this profile watches several horror titles (two to the end)
        watch(me, mine, HORROR[:2])
        watch(me, mine, [HORROR[2]], share=0.4, start_minute=10)
        # and lists one horror title and gives another a thumbs down
        assert me.put(f"/profiles/{mine}/my-list/{HORROR[5]}").status_code == 200
        thumbs = me.put(f"/profiles/{mine}/ratings/{HORROR[6]}", json={"rating": "down"})
        assert thumbs.status_code == 200, thumbs.text
        before = home(me, mine)
        assert before["model_version"] is None
        assert "because_you_watched" not in [row["kind"] for row in before["rows"]]

        # AND the recommender trains
        report = wiring.trainer(bootstrapped, clients, viewing(bootstrapped, clients)).run()
        assert report.profiles == 13  # 6 + 6 + 1
        assert report.titles == len(HORROR) + len(COMEDY) + len(DRAMA) + 2

        # THEN the home page has a "Because you watched" row, mostly horror
        page = home(me, mine)
        assert page["model_version"] == report.version
        kinds = [row["kind"] for row in page["rows"]]
        assert kinds[:3] == ["continue_watching", "top_picks", "because_you_watched"]
        because = next(row for row in page["rows"] if row["kind"] == "because_you_watched")
        assert because["because"] == HORROR[2]
        assert because["title"] == f"Because you watched {HORROR[2]} (en)"
        horror = [card for card in because["items"] if card["genres"] == ["horror"]]
        assert len(horror) > len(because["items"]) / 2
        # every title once; never the unlicensed, the too mature or the finished ones
        titles = shown(page)
        assert len(titles) == len(set(titles))
        assert GORE not in titles
        assert ABROAD not in titles
        assert not {HORROR[0], HORROR[1]} & set(titles)
        assert page["rows"][0]["items"][0]["id"] == HORROR[2]  # continue watching

        # the picks were stored with the profile's own items
        picks = DynamoPicks(bootstrapped.naming.table(spec.VIEWERS), clients.dynamodb).picks(
            subject(me.headers["Authorization"].split()[1]), mine
        )
        assert picks is not None
        assert picks.model_version == report.version
        assert picks.titles[0] in HORROR
        # what it listed counts as its own (no candidate); the thumbs down is hidden
        assert HORROR[5] not in picks.titles
        assert picks.hidden == [HORROR[6]]
        assert HORROR[6] not in titles


def test_another_accounts_profile_has_no_home(
    api: str, bootstrapped: Settings, clients: AwsClients
) -> None:
    with signed_in(api, bootstrapped, clients, "owner") as owner:
        theirs = profile(owner)
    with signed_in(api, bootstrapped, clients, "other") as other:
        response = other.get(f"/profiles/{theirs}/home")
        assert response.status_code == 404
