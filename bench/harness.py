"""What the benchmarks share (and the browser tests: chromium's path and flags): free ports,
readiness probes, percentiles and child logs."""

from __future__ import annotations

import os
import socket
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.models import TitleDocument
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.catalog.snapshot import CatalogSnapshot, Pointer
from flixstack.local.supervisor import Supervisor
from flixstack.settings import Settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
"""Debian's chromium (``make browser`` installs it); Playwright drives it, never downloads one."""
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on the loopback interface right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def answers(url: str) -> bool:
    """True when ``url`` answers 200 (a readiness probe for a child process)."""
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def percentile(values: Sequence[float], p: int) -> float:
    """The ``p``-th percentile (inclusive method) of ``values``."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def print_logs(console: Console, supervisor: Supervisor, lines: int = 30) -> None:
    """The last lines of every child's log (before a scratch directory takes them away)."""
    for child in supervisor.children:
        tail = child.log_path.read_text(errors="replace").splitlines()[-lines:]
        console.print(f"[red]last lines of the {child.name} log:[/]")
        console.print("\n".join(tail) or "(empty)", markup=False, highlight=False)


def bars(console: Console, width: int) -> Progress:
    """The benchmarks' progress bars: a description ``width`` wide, a bar, n/m, elapsed."""
    return Progress(
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without flixstack's settings and endpoint (a child the
    benchmark starts gets its own), plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FLIXSTACK_") and key != "AWS_ENDPOINT_URL"
    }
    return {**env, **extra}


def uvicorn_command(target: str, port: int) -> list[str]:
    """An app factory served as ``flixstack up`` serves the API: one worker, no access log."""
    return [
        sys.executable, "-m", "uvicorn", target, "--factory", "--app-dir", str(ROOT),
        "--host", HOST, "--port", str(port), "--workers", "1", "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip


def write_catalog(
    settings: Settings, clients: AwsClients, titles: Sequence[TitleDocument], bars: Progress
) -> None:
    """Writes titles with the catalog repository and publishes one snapshot (no media)."""
    naming = settings.naming
    repository = DynamoCatalogRepository(naming.table(spec.CATALOG), clients.dynamodb)
    task = bars.add_task("platform: catalog titles", total=len(titles))
    for doc in titles:
        repository.create(doc)
        bars.advance(task)
    snapshots = S3SnapshotStore(repository, artifacts(settings, clients))
    CatalogPublisher(repository, snapshots).rebuild()


def save_figure(figure: Figure, path: Path, dpi: int = 100) -> str:
    """Writes a benchmark's plot (closing the figure) and answers its path from the repo
    root, as the result JSON records it."""
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return str(path.relative_to(path.parents[1]))


class FixedSnapshots:
    """A snapshot store that always has this one snapshot (nothing newer ever appears)."""

    def __init__(self, snapshot: CatalogSnapshot) -> None:
        self._snapshot = snapshot

    def pointer(self) -> Pointer | None:
        return Pointer(self._snapshot.version, "bench/")

    def load(self, pointer: Pointer) -> CatalogSnapshot:
        return self._snapshot

    def write(self, snapshot: CatalogSnapshot) -> Pointer:
        raise NotImplementedError

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        raise NotImplementedError
