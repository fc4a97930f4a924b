"""Running the bundled ffmpeg: progress from ``-progress pipe:1``, errors as EncodeFailed.

The executable is the static build that ``imageio-ffmpeg`` ships (libx264, libvmaf, the hls
muxer). There is no ffprobe in it; :mod:`flixstack.media.probe` reads sources with PyAV.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from flixstack.media.errors import EncodeFailed
from flixstack.process import die_with_parent

OnFraction = Callable[[float], None]
"""Receives how much of one ffmpeg run is done, 0..1."""

_STDERR_LINES = 30


@lru_cache(maxsize=1)
def executable() -> str:
    """Path of the bundled ffmpeg binary."""
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def command(args: Sequence[str]) -> list[str]:
    """The full command line for ``args``: quiet, no stdin, overwrite, progress on stdout."""
    return [
        executable(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-nostats",
        *args,
    ]


@dataclass(frozen=True)
class Job:
    """One ffmpeg run: its arguments, what it does (for errors) and how long its output is."""

    args: Sequence[str]
    what: str
    duration_s: float | None = None
    cwd: Path | None = None
    """Working directory, so file names inside filter options need no escaping."""


def run(
    job: Job, *, progress: OnFraction | None = None, cancel: threading.Event | None = None
) -> None:
    """Runs ffmpeg to completion; raises EncodeFailed on a non-zero exit.

    ``progress`` gets ``out_time / duration_s`` (when the duration is known) every time ffmpeg
    reports, about twice a second, and 1.0 at the end. Setting ``cancel`` stops the run at its
    next report with :class:`Cancelled`. The process never outlives this call.
    """
    process = subprocess.Popen(
        command(job.args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        cwd=job.cwd,
        preexec_fn=die_with_parent,  # a SIGKILLed worker leaves no ffmpeg behind
    )
    assert process.stdout is not None
    assert process.stderr is not None
    tail: deque[str] = deque(maxlen=_STDERR_LINES)
    reader = threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True)
    reader.start()
    cancelled = False
    try:
        for line in process.stdout:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if progress is not None:
                done = _fraction(line, job.duration_s)
                if done is not None:
                    progress(done)
    except BaseException:
        process.kill()
        raise
    finally:
        if cancelled:
            process.kill()
        code = process.wait()
        reader.join(timeout=5)
        process.stdout.close()
        process.stderr.close()
    if cancelled:
        raise Cancelled(f"{job.what}: cancelled")
    if code != 0:
        raise EncodeFailed(f"{job.what}: ffmpeg exited with {code}", stderr=" | ".join(tail))


class Cancelled(EncodeFailed):
    """A run stopped because a sibling run in :func:`run_all` failed first."""


def run_all(jobs: Sequence[Job], *, workers: int, progress: OnFraction | None = None) -> None:
    """Runs ``jobs`` with at most ``workers`` at a time; progress is their mean fraction.

    The first failure cancels the others and is raised; so does an interruption.
    """
    if not jobs:
        return
    done = [0.0] * len(jobs)
    lock = threading.Lock()
    cancel = threading.Event()

    def report(index: int) -> OnFraction:
        def update(fraction: float) -> None:
            with lock:
                done[index] = fraction
                mean = sum(done) / len(done)
            if progress is not None:
                progress(mean)

        return update

    def one(index: int) -> None:
        try:
            run(jobs[index], progress=report(index), cancel=cancel)
        except BaseException:
            cancel.set()
            raise

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, i) for i in range(len(jobs))]
        try:
            errors = [f.exception() for f in futures]
        except BaseException:  # interrupted while waiting: stop every run at its next report
            cancel.set()
            for future in futures:
                future.cancel()
            raise
    failures = [e for e in errors if e is not None]
    first = next((e for e in failures if not isinstance(e, Cancelled)), None)
    if first is not None:
        raise first
    if failures:
        raise failures[0]


def _drain(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        line = line.strip()
        if line:
            tail.append(line)


def _fraction(line: str, duration_s: float | None) -> float | None:
    key, _, value = line.strip().partition("=")
    if key == "progress" and value == "end":
        return 1.0
    if key != "out_time_us" or not duration_s or duration_s <= 0:
        return None
    try:
        microseconds = int(value)
    except ValueError:  # "N/A" before the first packet
        return None
    return min(1.0, max(0.0, microseconds / 1e6 / duration_s))
