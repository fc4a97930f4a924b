"""The near-cache: a process holds the current version of a published artifact (the
catalog snapshot, the recommendation model) in memory and swaps in a newer one in the
background, so request paths never wait on DynamoDB or S3 once the first one is loaded.

A store names the current version with a *pointer* (a version number and the S3 folder of
its files); writers put new files under a fresh folder first and then move the pointer
with a conditional write. ``current()`` starts a background check of the pointer at most
every ``refresh_s`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aws_lambda_powertools import Logger

logger = Logger(service="nearcache", child=True)


@dataclass(frozen=True)
class Pointer:
    version: int
    prefix: str


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)
V_co = TypeVar("V_co", bound=Versioned, covariant=True)


class PointedStore(Protocol[V_co]):
    def pointer(self) -> Pointer | None: ...
    def load(self, pointer: Pointer) -> V_co: ...


class NearCache(Generic[V]):
    def __init__(
        self,
        store: PointedStore[V],
        refresh_s: float,
        what: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._what = what
        self._clock = clock
        self._lock = threading.Lock()
        self._first = threading.Lock()
        self._current: V | None = None
        self._checked = float("-inf")
        self._refreshing = False

    def install(self, value: V) -> None:
        """Uses this version (if it is newer than the one held)."""
        with self._lock:
            if self._current is None or value.version > self._current.version:
                self._current = value

    def current(self) -> V | None:
        """The version held (the first call loads one; None while the store has none)."""
        current = self._current
        if current is None:
            # nothing held yet: look now, one caller at a time (the others wait for its
            # load); a store without a version is asked again only every refresh_s
            with self._first:
                if self._current is None and self._clock() - self._checked >= self._refresh_s:
                    return self.refresh()
                return self._current
        if self._clock() - self._checked >= self._refresh_s and not self._refreshing:
            with self._lock:  # one background check at a time
                if self._refreshing:
                    return current
                self._refreshing = True
            threading.Thread(target=self._refresh_in_background, daemon=True).start()
        return current

    def refresh(self) -> V | None:
        """Checks the pointer now and loads the version it names if it is newer."""
        self._checked = self._clock()
        pointer = self._store.pointer()
        if pointer is not None and (
            self._current is None or pointer.version > self._current.version
        ):
            started = time.monotonic()
            self.install(self._store.load(pointer))
            logger.info(
                f"{self._what} loaded",
                extra={"version": pointer.version, "seconds": round(time.monotonic() - started, 3)},
            )
        return self._current

    def _refresh_in_background(self) -> None:
        try:
            self.refresh()
        except Exception:  # the old version keeps serving; the next check retries
            logger.exception(f"{self._what} refresh failed")
        finally:
            self._refreshing = False
