"""Token-bucket rate limits, per account and per source IP.

Each key (``account:<sub>``, ``ip:<address>``) has a bucket of ``burst`` tokens refilled
at ``rate_per_s``; a request takes one token, or is refused with the time until one is
back (sent as ``Retry-After``). Buckets live in the process: each API process (each
Lambda instance) limits its own share, and API Gateway's stage throttling bounds the
whole stage. The bucket table is bounded (least recently used keys are forgotten, which
only ever lets a forgotten key start full again).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flixstack.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Takes a token for ``key``: 0.0 if one was there, else seconds until one is."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
                if len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate_per_s)
                bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate_per_s

    def check(self, key: str, what: str) -> None:
        wait = self.take(key)
        if wait > 0:
            raise TooManyRequests(
                f"too many requests from this {what}; retry in {math.ceil(wait)} s",
                retry_after_s=wait,
            )
