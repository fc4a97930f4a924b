"""Process helpers shared by the local supervisor, its children and the media worker."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import signal
import threading
from collections.abc import Callable
from functools import partial

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    # Resolved once, in the parent: the forked child only calls it (no dlopen after fork).
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    with contextlib.suppress(OSError, AttributeError):
        prctl: Callable[[int, int], int] = ctypes.CDLL(libc_name, use_errno=True).prctl
        return prctl
    return None


_PRCTL = _load_prctl()


def exit_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only).

    Used as ``preexec_fn`` for children (ffmpeg, the emulator, the API) so nothing outlives
    the process that started it, even after a SIGKILL. "Parent" is the *thread* that
    started the child: start children from threads that live as long as the child should.
    """
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, sig)


die_with_parent: Callable[[], None] = partial(exit_with_parent, signal.SIGKILL)
"""``preexec_fn`` for workers such as ffmpeg, which have no state worth a clean exit."""


def child_until_stopped() -> threading.Event:
    """What a long-running child of ``flixstack up`` does first: log to stderr, get SIGTERM
    when its parent goes, and return an event that SIGINT or SIGTERM sets (the child's
    loop ends when it is set)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    exit_with_parent(signal.SIGTERM)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop
