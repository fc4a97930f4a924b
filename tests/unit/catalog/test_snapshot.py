"""Catalog snapshots, the API's near-cache of them, and the publisher that writes them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from flixstack.catalog.models import LocalizedText, TitleDocument, TitleState
from flixstack.catalog.publishing import ATTEMPTS, CatalogPublisher
from flixstack.catalog.snapshot import (
    SEARCH_FILE,
    TITLES_FILE,
    CatalogCache,
    CatalogSnapshot,
    Pointer,
)
from flixstack.errors import Conflict
from tests.unit.catalog.conftest import (
    NOW,
    ManualClock,
    MemoryStore,
    MemoryTitles,
    series,
    title,
    window,
)

WAIT_S = 10.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Polls ``condition`` (cheap, in memory) until true; fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def found(snapshot: CatalogSnapshot, query: str) -> list[str]:
    return [hit.title_id for hit in snapshot.search.search(query)]


CATALOG = [
    title("draft", {"en": "Draft Days"}, state=TitleState.DRAFT),
    title("ready", {"en": "Ready Steady"}, state=TitleState.READY),
    title("archived", {"en": "Archived Annals"}, state=TitleState.ARCHIVED),
    title("old", {"en": "Old Harbor"}, territories=["US"], age_min=300),
    title("mid", {"en": "Middle Harbor"}, territories=["US", "FR"], age_min=200),
    series("new", {1: 2}, {"en": "New Harbor"}, territories=["FR", "DE"], age_min=100),
]


# --- building ------------------------------------------------------------------------------
def test_build_keeps_only_published_titles() -> None:
    snapshot = CatalogSnapshot.build(CATALOG, 7)
    assert snapshot.version == 7
    assert set(snapshot.titles) == {"old", "mid", "new"}
    assert len(snapshot.search) == 3
    assert found(snapshot, "harbor") != []
    assert found(snapshot, "draft days") == []
    assert found(snapshot, "ready") == []
    assert found(snapshot, "archived") == []


def test_newest_first_and_per_territory() -> None:
    snapshot = CatalogSnapshot.build(CATALOG, 1)
    assert snapshot.newest == ("new", "mid", "old")
    assert snapshot.by_territory == {
        "US": ("mid", "old"),
        "FR": ("new", "mid"),
        "DE": ("new",),
    }


def test_newest_breaks_ties_by_release_year_then_id() -> None:
    same_moment = [
        title("a", release_year=2001),
        title("b", release_year=2020),
        title("c", release_year=2001),
        title("z", age_min=1, release_year=2030),
    ]
    assert CatalogSnapshot.build(same_moment, 1).newest == ("b", "c", "a", "z")


def test_a_territory_is_listed_once_with_several_windows_even_ended_ones() -> None:
    windows = [
        window("US", NOW.replace(year=2020), NOW.replace(year=2021)),
        window("US", NOW.replace(year=2026), NOW.replace(year=2028)),
    ]
    snapshot = CatalogSnapshot.build([title("t", licences=windows)], 1)
    assert snapshot.by_territory == {"US": ("t",)}


def test_an_empty_snapshot() -> None:
    snapshot = CatalogSnapshot.build((), 0)
    assert (snapshot.titles, snapshot.newest, snapshot.by_territory) == ({}, (), {})
    assert snapshot.search.search("anything") == []


def test_artifacts_round_trip() -> None:
    snapshot = CatalogSnapshot.build(CATALOG, 4)
    artifacts = snapshot.to_artifacts()
    assert set(artifacts) == {TITLES_FILE, SEARCH_FILE}
    loaded = CatalogSnapshot.from_artifacts(4, artifacts)
    assert loaded.version == 4
    assert loaded.titles == snapshot.titles
    assert loaded.newest == snapshot.newest
    assert loaded.by_territory == snapshot.by_territory
    for query in ("harbor", "new harb", "midle", "episode"):
        assert loaded.search.search(query) == snapshot.search.search(query), query
    assert loaded.titles["new"].ordered_episodes() == snapshot.titles["new"].ordered_episodes()


def test_replacing_adds_changes_and_removes() -> None:
    snapshot = CatalogSnapshot.build(CATALOG, 1)
    renamed = snapshot.titles["mid"].model_copy(
        update={"localized": {"en": LocalizedText(name="Renamed Lagoon")}}
    )
    added = title("added", {"en": "Added Orchard"}, age_min=0)
    changed = snapshot.replacing(
        {
            "mid": renamed,
            "old": None,
            "added": added,
            "missing": None,
            "unpublished": title("unpublished", state=TitleState.READY),
        },
        2,
    )
    assert changed.version == 2
    assert set(changed.titles) == {"mid", "new", "added"}
    assert changed.newest == ("added", "new", "mid")
    assert changed.by_territory["US"] == ("added", "mid")
    assert found(changed, "lagoon") == ["mid"]
    assert found(changed, "middle") == []
    assert found(changed, "old harbor") == []
    assert found(changed, "orchard") == ["added"]
    # the original is untouched
    assert set(snapshot.titles) == {"old", "mid", "new"}
    assert found(snapshot, "middle") == ["mid"]


# --- the near-cache ------------------------------------------------------------------------
def test_the_first_snapshot_loads_synchronously() -> None:
    store = MemoryStore()
    store.publish(CatalogSnapshot.build(CATALOG, 3))
    cache = CatalogCache(store, refresh_s=10, clock=ManualClock())
    assert cache.snapshot().version == 3
    assert set(cache.snapshot().titles) == {"old", "mid", "new"}
    assert store.loads == 1


def test_no_pointer_gives_an_empty_snapshot() -> None:
    cache = CatalogCache(MemoryStore(), refresh_s=10, clock=ManualClock())
    snapshot = cache.snapshot()
    assert (snapshot.version, snapshot.titles) == (0, {})


def test_refresh_loads_only_newer_snapshots() -> None:
    store = MemoryStore()
    store.publish(CatalogSnapshot.build(CATALOG[:4], 1))
    cache = CatalogCache(store, refresh_s=10, clock=ManualClock())
    first = cache.refresh()
    assert first is not None
    assert first.version == 1
    assert store.loads == 1
    assert cache.refresh() is first  # same pointer: nothing loaded
    assert store.loads == 1
    store.publish(CatalogSnapshot.build(CATALOG, 2))
    second = cache.refresh()
    assert second is not None
    assert (second.version, set(second.titles)) == (2, {"old", "mid", "new"})
    assert store.loads == 2


def test_install_keeps_the_newest() -> None:
    cache = CatalogCache(MemoryStore(), refresh_s=10, clock=ManualClock())
    cache.install(CatalogSnapshot.build(CATALOG, 5))
    cache.install(CatalogSnapshot.build((), 4))
    assert cache.snapshot().version == 5
    # an older pointer in the store does not replace it either
    store = MemoryStore()
    store.publish(CatalogSnapshot.build((), 2))
    older = CatalogCache(store, refresh_s=10, clock=ManualClock())
    older.install(CatalogSnapshot.build(CATALOG, 5))
    refreshed = older.refresh()
    assert refreshed is not None
    assert refreshed.version == 5
    assert store.loads == 0


class GatedStore(MemoryStore):
    """Loads wait for ``release`` so a test can see the request path not waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.gated = False
        self.loading = threading.Event()
        self.release = threading.Event()
        self.failures = 0

    def load(self, pointer: Pointer) -> CatalogSnapshot:
        if self.gated:
            self.loading.set()
            if not self.release.wait(WAIT_S):
                raise TimeoutError("the test never released the load")
        if self.failures:
            self.failures -= 1
            raise RuntimeError("S3 is having a bad day")
        return super().load(pointer)


def test_later_calls_do_not_block_and_pick_up_a_newer_snapshot_after_refresh_s() -> None:
    store = GatedStore()
    store.publish(CatalogSnapshot.build(CATALOG[:4], 1))
    clock = ManualClock(100.0)
    cache = CatalogCache(store, refresh_s=10, clock=clock)
    assert cache.snapshot().version == 1
    store.publish(CatalogSnapshot.build(CATALOG, 2))
    store.gated = True

    clock.now = 109.9  # not yet due: no check of the pointer at all
    assert cache.snapshot().version == 1
    assert store.pointer_calls == 1

    clock.now = 110.0  # due: the check runs in the background
    assert cache.snapshot().version == 1
    assert store.loading.wait(WAIT_S), "no background refresh started"
    assert cache.snapshot().version == 1  # still served while the load is stuck
    assert store.pointer_calls == 2  # and only one refresh is in flight
    store.release.set()
    wait_until(lambda: cache.snapshot().version == 2, "the newer snapshot")
    assert set(cache.snapshot().titles) == {"old", "mid", "new"}
    assert store.pointer_calls == 2


def test_a_failed_background_refresh_keeps_the_old_snapshot_and_retries() -> None:
    store = GatedStore()
    store.publish(CatalogSnapshot.build(CATALOG[:4], 1))
    clock = ManualClock(0.0)
    cache = CatalogCache(store, refresh_s=5, clock=clock)
    assert cache.snapshot().version == 1
    store.publish(CatalogSnapshot.build(CATALOG, 2))
    store.failures = 1

    def newer_after_a_while() -> bool:
        clock.now += 5
        return cache.snapshot().version == 2

    wait_until(newer_after_a_while, "a retried refresh")
    assert store.failures == 0
    assert store.loads == 2  # the first load and the retry; the failed one raised first


# --- the publisher -------------------------------------------------------------------------
def movie(title_id: str, name: str, state: TitleState = TitleState.PUBLISHED) -> TitleDocument:
    return title(title_id, {"en": name}, state=state)


def current(store: MemoryStore) -> CatalogSnapshot:
    assert store.current is not None
    return store.load(store.current)


def test_publishing_a_title_makes_a_new_version_with_it() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    assert publisher.refresh(["a"]) == 1
    assert store.current is not None
    assert store.current.version == 1
    assert set(current(store).titles) == {"a"}

    titles.put(movie("b", "Bronze Gate"))
    assert publisher.refresh(["b", "b"]) == 2
    snapshot = current(store)
    assert (snapshot.version, set(snapshot.titles)) == (2, {"a", "b"})
    assert found(snapshot, "bronze") == ["b"]


def test_refreshing_an_unchanged_published_title_writes_nothing() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    assert publisher.refresh(["a"]) == 1
    assert publisher.refresh(["a"]) == 1
    assert current(store).version == 1


def test_an_edit_of_a_published_title_reaches_the_snapshot() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    publisher.refresh(["a"])
    titles.put(movie("a", "Crimson Road").model_copy(update={"version": 2}))  # an edit
    assert publisher.refresh(["a"]) == 2
    assert found(current(store), "crimson") == ["a"]
    assert found(current(store), "amber") == []


@pytest.mark.parametrize("state", [TitleState.READY, TitleState.ARCHIVED])
def test_an_unpublished_title_is_removed(state: TitleState) -> None:
    titles = MemoryTitles([movie("a", "Amber Road"), movie("b", "Bronze Gate")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    assert publisher.refresh(["a", "b"]) == 1
    titles.put(movie("a", "Amber Road", state=state))
    assert publisher.refresh(["a"]) == 2
    assert set(current(store).titles) == {"b"}


def test_a_deleted_title_is_removed() -> None:
    titles = MemoryTitles([movie("a", "Amber Road"), movie("b", "Bronze Gate")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    publisher.refresh(["a", "b"])
    del titles.docs["a"]
    assert publisher.refresh(["a"]) == 2
    assert set(current(store).titles) == {"b"}


def test_no_viewer_visible_change_keeps_the_version() -> None:
    titles = MemoryTitles([movie("a", "Amber Road"), movie("d", "Draft", TitleState.DRAFT)])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    assert publisher.refresh(["d"]) == 0  # nothing published yet, nothing written
    assert (store.current, store.writes) == (None, 0)
    publisher.refresh(["a"])
    writes = store.writes
    assert publisher.refresh(["d", "unknown"]) == 1
    assert store.writes == writes
    assert publisher.refresh([]) == 1
    assert store.writes == writes


def test_a_lost_race_is_retried_from_the_winners_snapshot() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    publisher.refresh(["a"])
    rival = movie("r", "Rival Harbor")
    # between our write and our advance, another publisher moves the pointer to v2
    store.interference.append(lambda: store.publish(current(store).replacing({"r": rival}, 2)))
    titles.put(movie("b", "Bronze Gate"))
    assert publisher.refresh(["b"]) == 3
    assert store.advances == 3  # first publish, the lost attempt, the retry
    snapshot = current(store)
    assert (snapshot.version, set(snapshot.titles)) == (3, {"a", "r", "b"})


def test_a_publisher_that_always_loses_gives_up() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    publisher = CatalogPublisher(titles, store)
    versions = iter(range(100, 200))

    def rival() -> None:
        store.publish(CatalogSnapshot.build([movie("r", "Rival")], next(versions)))

    store.interference.extend([rival] * ATTEMPTS)
    with pytest.raises(Conflict) as raised:
        publisher.refresh(["a"])
    assert raised.value.reason == "busy"
    assert store.advances == ATTEMPTS


def test_a_commit_installs_the_snapshot_in_the_cache() -> None:
    titles = MemoryTitles([movie("a", "Amber Road")])
    store = MemoryStore()
    cache = CatalogCache(store, refresh_s=3600, clock=ManualClock())
    assert cache.snapshot().version == 0
    publisher = CatalogPublisher(titles, store, cache)
    assert publisher.refresh(["a"]) == 1
    assert cache.snapshot().version == 1
    loads = store.loads
    titles.put(movie("b", "Bronze Gate"))
    assert publisher.refresh(["b"]) == 2  # based on the cached v1, not reloaded
    assert store.loads == loads
    assert set(cache.snapshot().titles) == {"a", "b"}


def test_rebuild_reads_every_published_title() -> None:
    titles = MemoryTitles(
        [movie("a", "Amber Road"), movie("b", "Bronze Gate"), movie("d", "D", TitleState.DRAFT)]
    )
    store = MemoryStore()
    store.publish(CatalogSnapshot.build([movie("stale", "Stale")], 4))
    assert CatalogPublisher(titles, store).rebuild() == 5
    assert set(current(store).titles) == {"a", "b"}
