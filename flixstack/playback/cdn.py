"""CDN steering: which CDNs a viewer gets, best first.

Among the enabled, healthy CDNs, each viewer gets a weighted random order: CDN ``i`` comes
first with probability ``w_i / sum(w)`` (its weight in the viewer's territory, else its
global weight), then the same rule among the rest (weighted sampling without replacement,
by Efraimidis-Spirakis keys ``u ** (1 / w)``). The ``u`` of a viewer and CDN is a hash of
the two, not fresh randomness, so one viewer keeps one order from play to play (warm
caches, stable QoE per CDN) while the population splits by weight. A CDN weighted 0 in a
territory is never first there but stays as a last resort. Disabled CDNs and those whose
health probe fails are left out; the player walks the list when a request fails.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence

import httpx

from flixstack.settings import CdnEndpoint

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 1.0


def _uniform(viewer: str, cdn: str) -> float:
    """A number in (0, 1) fixed by the viewer and the CDN."""
    digest = hashlib.blake2b(f"{viewer}\0{cdn}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 1) / (2**64 + 2)


def weight(cdn: CdnEndpoint, territory: str) -> float:
    return cdn.territories.get(territory, cdn.weight)


def rank(
    cdns: Sequence[CdnEndpoint],
    territory: str,
    viewer: str,
    healthy: Callable[[str], bool] = lambda _name: True,
) -> list[CdnEndpoint]:
    """The CDNs to offer, best first (empty when none is enabled and healthy)."""
    usable = [cdn for cdn in cdns if cdn.enabled and healthy(cdn.name)]
    preferred = [cdn for cdn in usable if weight(cdn, territory) > 0]
    last_resort = [cdn for cdn in usable if weight(cdn, territory) <= 0]
    preferred.sort(
        key=lambda cdn: _uniform(viewer, cdn.name) ** (1 / weight(cdn, territory)), reverse=True
    )
    return preferred + last_resort


class CdnHealth:
    """Probes every CDN's ``health_url`` from a background thread. A CDN is healthy until a
    probe fails and healthy again after one succeeds; CDNs without a URL are always healthy
    (on AWS, CloudFront's own availability and the origin failover stand behind them)."""

    def __init__(
        self,
        cdns: Sequence[CdnEndpoint],
        interval_s: float,
        probe: Callable[[str], bool] | None = None,
    ) -> None:
        self._targets = {cdn.name: str(cdn.health_url) for cdn in cdns if cdn.health_url}
        self._interval_s = interval_s
        self._probe = probe or _answers
        self._down: set[str] = set()
        self._lock = threading.Lock()
        self._started = False

    def healthy(self, name: str) -> bool:
        if not self._started:
            self.start()
        return name not in self._down

    def check_now(self) -> None:
        """One round of probes (the background thread runs this every interval)."""
        for name, url in self._targets.items():
            up = self._probe(url)
            with self._lock:
                if up and name in self._down:
                    logger.warning("CDN %s is healthy again", name)
                    self._down.discard(name)
                elif not up and name not in self._down:
                    logger.warning("CDN %s failed its health probe", name)
                    self._down.add(name)

    def start(self) -> None:
        with self._lock:
            if self._started or not self._targets:
                self._started = True
                return
            self._started = True
        threading.Thread(target=self._loop, name="cdn-health", daemon=True).start()

    def _loop(self) -> None:
        stop = threading.Event()
        while True:
            try:
                self.check_now()
            except Exception:  # a probe bug must not kill the loop
                logger.exception("CDN health round failed")
            stop.wait(self._interval_s)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=PROBE_TIMEOUT_S).status_code < 500
    except httpx.HTTPError:
        return False
