"""Starts and stops the child processes of ``flixstack up``.

Children run in their own sessions (a terminal Ctrl-C reaches only us, and we stop them in
order) and are asked by the kernel to exit if we die (``PR_SET_PDEATHSIG``), so nothing
outlives ``flixstack up``, even after a SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flixstack.process import exit_with_parent


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    @property
    def running(self) -> bool:
        return self.process.poll() is None


class StartupError(RuntimeError):
    pass


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        ready: Callable[[], bool],
        timeout: float = 60.0,
    ) -> Child:
        """Starts ``argv`` and waits until ``ready()``; its output goes to ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=exit_with_parent,  # runs in the child before exec
        )
        child = Child(name, process, log_path, log)
        self.children.append(child)
        deadline = time.monotonic() + timeout
        while not ready():
            if not child.running:
                raise StartupError(f"{name} exited with {process.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise StartupError(f"{name} was not ready after {timeout:.0f}s; see {log_path}")
            time.sleep(0.1)
        return child

    def exited(self) -> list[Child]:
        """The children no longer running, in start order."""
        return [c for c in self.children if not c.running]

    def stop_all(self, grace: float = 10.0) -> None:
        """SIGTERM in reverse start order, then SIGKILL whatever outlives ``grace`` seconds."""
        for child in reversed(self.children):
            if child.running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
            try:
                child.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            child.log.close()
        self.children.clear()


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_INTERRUPT_MASK = sum(1 << (int(sig) - 1) for sig in _INTERRUPTS)
_WATCHED_PARENTS = ("make", "gmake")


def _caught_signals(pid: int) -> int | None:
    """The parent's mask of caught signals (``SigCgt`` in /proc), or None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        return None
    return None


class ParentWatch:
    """Notices when ``make up`` was interrupted without us.

    A terminal's Ctrl-C reaches the whole process group, us included. But SIGINT sent to
    make's pid alone makes GNU make reset the signal to its default and wait for its
    children, forever. The reset shows in /proc as a caught signal that is no longer
    caught; we treat that (or our parent exiting) as our own interrupt.
    """

    def __init__(self) -> None:
        self.parent = os.getppid()
        try:
            comm = Path(f"/proc/{self.parent}/comm").read_text().strip()
        except OSError:
            comm = ""
        self.baseline = _caught_signals(self.parent) if comm in _WATCHED_PARENTS else None

    def interrupted(self) -> bool:
        if os.getppid() != self.parent:
            return True
        if self.baseline is None:
            return False
        now = _caught_signals(self.parent)
        return now is not None and bool(self.baseline & ~now & _INTERRUPT_MASK)
