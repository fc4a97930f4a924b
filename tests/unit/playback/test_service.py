"""PlaybackService in memory: what a grant carries, how long access lasts, keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest

from flixstack.catalog.models import TitleDocument
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import Forbidden, NotFound, ServiceUnavailable
from flixstack.playback.service import Delivery, PlaybackService
from flixstack.settings import CdnEndpoint
from flixstack.viewers.models import Account, Profile, Progress
from tests.unit.catalog.conftest import NOW, STAMP, title
from tests.unit.viewers.conftest import asset, playable_series

T = TypeVar("T")

CDNS = tuple(
    CdnEndpoint.model_validate({"name": n, "base_url": f"https://{n}.example.com/"})
    for n in ("cdn-a", "cdn-b")
)


class Viewers:
    """Two accounts, one profile each."""

    def __init__(self) -> None:
        self.accounts = {"acct-1": Account(), "acct-2": Account(status="suspended")}

    def profile(self, account: str, profile_id: str) -> Profile:
        if (account, profile_id) not in (("acct-1", "p1"), ("acct-2", "p2")):
            raise NotFound(f"no profile {profile_id}")
        return Profile(
            id=profile_id, slot=1, name="Ann", avatar="blue", kids=False, maturity_level=18,
            language="en", created_at=STAMP, updated_at=STAMP,
        )  # fmt: skip

    def read_as(self, account: str, profile_id: str, read: Callable[[], T]) -> tuple[Profile, T]:
        return self.profile(account, profile_id), read()

    def recent_account(self, account: str) -> Account:
        return self.accounts[account]

    def progress(self, account: str, profile_id: str, title_id: str) -> Progress | None:
        return None


class Keys:
    def key(self, asset_version: str) -> bytes:
        return asset_version.encode().ljust(16, b".")[:16]


class Catalog:
    def __init__(self, *docs: TitleDocument) -> None:
        self._snapshot = CatalogSnapshot.build(docs, version=1)

    def snapshot(self) -> CatalogSnapshot:
        return self._snapshot


def service(
    *docs: TitleDocument, healthy: set[str] | None = None, max_s: int = 6 * 3600
) -> PlaybackService:
    signed: list[tuple[str, datetime]] = []

    def sign(resource: str, expires: datetime) -> dict[str, str]:
        signed.append((resource, expires))
        return {"CloudFront-Policy": f"{resource}|{expires.isoformat()}"}

    viewers = Viewers()
    delivery = Delivery(
        cdns=CDNS,
        healthy=lambda name: healthy is None or name in healthy,
        sign=sign,
        resource=lambda t, v: f"http*://*/titles/{t}/{v}/*",
        key_base_url="https://api.example.com",
        cookie_domain="example.com",
        margin_s=1800,
        max_s=max_s,
    )
    return PlaybackService(Catalog(*docs), viewers, viewers, Keys(), delivery, clock=lambda: NOW)


PROTECTED = asset(3600.0).model_copy(
    update={
        "version": "job-7",
        "master_playlist": "titles/m1/job-7/hls/master.m3u8",
        "dash_manifest": None,
        "protection": "aes-128",
    }
)
MOVIE = title("m1", asset=PROTECTED)


def test_a_grant_ranks_cdns_and_signs_this_asset_for_runtime_plus_margin() -> None:
    grant = service(MOVIE).authorize("acct-1", "p1", "m1", territory="US", accept_language=None)
    assert {c.name for c in grant.cdns} == {"cdn-a", "cdn-b"}
    first = grant.cdns[0]
    assert first.hls_url == f"https://{first.name}.example.com/titles/m1/job-7/hls/master.m3u8"
    assert first.dash_url is None
    assert grant.access.path == "/titles/m1/job-7/"
    assert grant.access.domain == "example.com"
    assert grant.access.resource == "http*://*/titles/m1/job-7/*"
    assert grant.access.expires_at == "2027-06-01T13:30:00.000000Z"  # 3600 s + 1800 s margin
    assert grant.access.cookies["CloudFront-Policy"].startswith("http*://*/titles/m1/job-7/*|")
    assert grant.key_uri == "https://api.example.com/keys/job-7"
    assert grant.protection == "aes-128"
    assert (grant.resume_position_s, grant.duration_s) == (0.0, 3600.0)


def test_access_is_capped() -> None:
    grant = service(MOVIE, max_s=3600).authorize(
        "acct-1", "p1", "m1", territory="US", accept_language=None
    )
    assert datetime.fromisoformat(grant.access.expires_at) == NOW + timedelta(hours=1)


def test_clear_assets_have_dash_and_no_key() -> None:
    clear = title("m2", asset=asset(60.0, folder="titles/trailers/t9/"))
    grant = service(clear).authorize("acct-1", "p1", "m2", territory="US", accept_language=None)
    assert grant.key_uri is None
    assert grant.cdns[0].dash_url is not None
    assert grant.cdns[0].dash_url.endswith(".example.com/titles/trailers/t9/dash/manifest.mpd")
    # the cookies grant the folder the (shared) files live in, whatever the title's id
    assert grant.access.path == "/titles/trailers/t9/"


def test_unhealthy_cdns_drop_out_and_none_left_is_503() -> None:
    grant = service(MOVIE, healthy={"cdn-b"}).authorize(
        "acct-1", "p1", "m1", territory="US", accept_language=None
    )
    assert [c.name for c in grant.cdns] == ["cdn-b"]
    with pytest.raises(ServiceUnavailable) as none:
        service(MOVIE, healthy=set()).authorize(
            "acct-1", "p1", "m1", territory="US", accept_language=None
        )
    assert none.value.reason == "no_cdn"


def test_another_accounts_profile_is_not_found_for_plays_and_keys() -> None:
    playback = service(MOVIE)
    with pytest.raises(NotFound):
        playback.authorize("acct-1", "p2", "m1", territory="US", accept_language=None)
    with pytest.raises(NotFound):
        playback.key("acct-1", "p2", "job-7", territory="US")


def test_keys_follow_the_entitlement() -> None:
    playback = service(MOVIE)
    assert playback.key("acct-1", "p1", "job-7", territory="US") == b"job-7..........."
    with pytest.raises(NotFound) as elsewhere:
        playback.key("acct-1", "p1", "job-7", territory="FR")
    assert elsewhere.value.reason == "not_available_here"
    with pytest.raises(NotFound) as unknown:
        playback.key("acct-1", "p1", "job-8", territory="US")
    assert unknown.value.reason == "unknown_asset"
    with pytest.raises(Forbidden) as refused:
        playback.key("acct-2", "p2", "job-7", territory="US")
    assert refused.value.reason == "account_inactive"


def test_a_series_grant_names_the_next_episode_in_the_viewers_language() -> None:
    doc = playable_series("s", {1: 2})
    grant = service(doc).authorize("acct-1", "p1", "s", territory="US", accept_language="fr")
    assert grant.episode_id == "s-s1e1"
    assert grant.next_episode is not None
    assert (grant.next_episode.id, grant.next_episode.name) == ("s-s1e2", "Épisode 1.2")
