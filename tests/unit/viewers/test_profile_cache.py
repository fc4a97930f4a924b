"""Read-only list routes and playback check profile ownership (and playback the account's
status) against what this process read recently."""

from __future__ import annotations

from typing import Any

import pytest

from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import NotFound
from flixstack.viewers.models import Account, AccountStatusPut, Profile, ProfilePatch
from flixstack.viewers.service import RecentCache, ViewerService
from tests.unit.catalog.conftest import STAMP


def profile(profile_id: str, slot: int = 1) -> Profile:
    return Profile(
        id=profile_id, slot=slot, name="Ann", avatar="blue", kids=False, maturity_level=18,
        language="en", created_at=STAMP, updated_at=STAMP,
    )  # fmt: skip


class Repository:
    """Just what continue watching and a profile edit touch, counting profile reads."""

    def __init__(self) -> None:
        self.stored = {"acct": [profile("p1")]}
        self.profile_reads = 0
        self.accounts: dict[str, Account] = {}
        self.account_reads = 0

    def profiles(self, account: str) -> list[Profile]:
        self.profile_reads += 1
        return list(self.stored.get(account, []))

    def profile(self, account: str, profile_id: str) -> Profile:
        for found in self.profiles(account):
            if found.id == profile_id:
                return found
        raise NotFound(f"no profile {profile_id}")

    def update_profile(self, account: str, updated: Profile, expected: int) -> None:
        self.stored[account] = [updated]

    def all_progress(self, account: str, profile_id: str) -> list[Any]:
        return []

    def account(self, account: str) -> Account:
        self.account_reads += 1
        return self.accounts.get(account, Account())

    def save_account(self, account: str, state: Account) -> None:
        self.accounts[account] = state


class Catalog:
    def snapshot(self) -> CatalogSnapshot:
        return CatalogSnapshot.build([], version=1)


def continue_watching(service: ViewerService, account: str, profile_id: str) -> object:
    return service.continue_watching(
        account, profile_id, territory="US", accept_language=None, limit=10
    )


def test_list_reads_reuse_the_profiles_until_a_change_through_this_process() -> None:
    repository = Repository()
    service = ViewerService(repository, Catalog(), cards=None)  # type: ignore[arg-type]
    continue_watching(service, "acct", "p1")
    continue_watching(service, "acct", "p1")
    assert repository.profile_reads == 1
    with pytest.raises(NotFound):  # another account's profile is never in this one's list
        continue_watching(service, "other", "p1")
    service.edit_profile("acct", "p1", ProfilePatch(name="Bo"))
    reads = repository.profile_reads
    continue_watching(service, "acct", "p1")
    assert repository.profile_reads == reads + 1  # the edit dropped what was known


def test_the_account_status_is_reused_until_a_change_through_this_process() -> None:
    repository = Repository()
    service = ViewerService(repository, Catalog(), cards=None)  # type: ignore[arg-type]
    assert service.recent_account("acct").status == "active"
    assert service.recent_account("acct").status == "active"
    assert repository.account_reads == 1
    service.set_account_status("acct", AccountStatusPut(status="suspended"), actor="admin")
    assert service.recent_account("acct").status == "suspended"


def test_the_cache_expires_and_forgets() -> None:
    now = [100.0]
    cache: RecentCache[str] = RecentCache(2.0, clock=lambda: now[0])
    cache.put("acct", "seen")
    assert cache.get("acct") == "seen"
    assert cache.get("other") is None
    now[0] += 2.5
    assert cache.get("acct") is None
    cache.put("acct", "seen")
    cache.forget("acct")
    assert cache.get("acct") is None


def test_the_cache_is_bounded() -> None:
    cache: RecentCache[str] = RecentCache(60.0, size=2)
    for account in ("a", "b", "c"):
        cache.put(account, account)
    assert cache.get("c") == "c"
    assert cache.get("a") is None
