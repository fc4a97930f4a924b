"""Process helpers shared by the local supervisor and the media worker."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import signal

PR_SET_PDEATHSIG = 1


def exit_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only).

    Used as ``preexec_fn`` for children (ffmpeg, the emulator, the API) so nothing outlives
    the process that started it, even after a SIGKILL."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(libc_name, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
