"""The embedded emulator's entry point: moto's server with a garbage-collector policy for a
long-lived in-memory store.

moto keeps every item, object and message as Python objects. CPython's full (generation 2)
collection walks all of them: with a seeded catalog (about 1.3 million objects) one pass
took 0.5-0.6 s on an idle core here and stalled every request for as long, 1.3-1.4 s
under load. Whatever survives a full collection is the emulator's store, so it is frozen
(``gc.freeze``) right after: later full collections walk only what arrived since. Frozen
objects are still freed by reference counting; only garbage cycles among them stay
until the process exits, a fair price for an emulator that lives one session.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from moto.server import main as moto_main


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """A ``gc.callbacks`` hook: after a full collection, the survivors leave the young
    generations' bookkeeping for good."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def main(argv: list[str] | None = None) -> None:
    gc.callbacks.append(freeze_survivors)
    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
