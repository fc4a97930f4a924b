"""The embedded emulator's entry point: moto's server with a garbage-collector policy for a
long-lived in-memory store.

moto keeps every item, object and message as Python objects. CPython's full (generation 2)
collection walks all of them: with a seeded catalog (about 1.3 million objects) one pass
took 0.5-0.6 s on an idle core here and stalled every request for as long, 1.3-1.4 s
under load. Whatever survives a full collection is the emulator's store, so it is frozen
(``gc.freeze``) right after: later full collections walk only what arrived since. Frozen
objects are still freed by reference counting; only garbage cycles among them stay
until the process exits, a fair price for an emulator that lives one session.

moto's Kinesis shard numbers a new record as the highest number so far plus one, and says
itself that this is not safe for concurrency: its server answers requests on threads, so
two PutRecords calls at once gave two records one number, and the second replaced the
first. Measured here: 8 API threads putting 6,000 events lost 18-23 of them. Kinesis never
does that, so the emulator's shards take records (and are read) one call at a time.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from moto.kinesis.models import Shard
from moto.server import main as moto_main

F = TypeVar("F", bound=Callable[..., Any])
_SHARDS = threading.Lock()


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A ``gc.callbacks`` hook: after a full collection, the survivors leave the young
    generations' bookkeeping for good."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def one_at_a_time(method: F) -> F:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _SHARDS:
            return method(*args, **kwargs)

    return locked  # type: ignore[return-value]


def serialize_kinesis_shards() -> None:
    """Every shard's put and read under one lock (see the module's doc)."""
    for name in ("put_record", "get_records"):
        setattr(Shard, name, one_at_a_time(getattr(Shard, name)))


def main(argv: list[str] | None = None) -> None:
    gc.callbacks.append(freeze_survivors)
    serialize_kinesis_shards()
    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
