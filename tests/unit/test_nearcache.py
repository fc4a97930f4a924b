"""The near-cache: the first load is shared by concurrent callers, a store with nothing
yet is asked again only every refresh_s, newer versions replace older ones."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flixstack.nearcache import NearCache, Pointer
from tests.unit.catalog.conftest import ManualClock


@dataclass(frozen=True)
class Thing:
    version: int


class SlowStore:
    def __init__(self, version: int | None, delay_s: float = 0.0) -> None:
        self.version = version
        self.delay_s = delay_s
        self.pointer_calls = 0

    def pointer(self) -> Pointer | None:
        self.pointer_calls += 1
        time.sleep(self.delay_s)
        return None if self.version is None else Pointer(self.version, f"v{self.version}/")

    def load(self, pointer: Pointer) -> Thing:
        return Thing(pointer.version)


def test_callers_arriving_during_the_first_load_wait_for_it() -> None:
    cache: NearCache[Thing] = NearCache(SlowStore(3, delay_s=0.2), 60, "thing")
    seen: list[Thing | None] = []
    callers = [threading.Thread(target=lambda: seen.append(cache.current())) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert seen == [Thing(3)] * 4


def test_a_store_with_nothing_is_asked_again_only_after_refresh_s() -> None:
    store, clock = SlowStore(None), ManualClock()
    cache: NearCache[Thing] = NearCache(store, 30, "thing", clock=clock)
    assert cache.current() is None
    assert cache.current() is None
    assert store.pointer_calls == 1
    store.version = 1
    clock.now += 31
    assert cache.current() == Thing(1)


def test_only_a_newer_version_replaces_the_one_held() -> None:
    cache: NearCache[Thing] = NearCache(SlowStore(5), 30, "thing", clock=ManualClock())
    cache.install(Thing(7))
    assert cache.refresh() == Thing(7)
    cache.install(Thing(9))
    assert cache.current() == Thing(9)
