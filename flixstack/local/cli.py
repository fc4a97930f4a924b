"""The ``flixstack`` command line."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from flixstack.aws.clients import AwsClients
from flixstack.local import emulator
from flixstack.local.bootstrap import Bootstrap, Step
from flixstack.local.supervisor import ParentWatch, StartupError, Supervisor, exit_with_parent
from flixstack.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)  # progress and status
out = Console()  # what the user asked for: URLs, tables

StateDir = Annotated[Path, typer.Option(help="Where logs and local state go.")]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _bootstrap(settings: Settings) -> None:
    clients = AwsClients(settings)
    with Progress(
        TextColumn("[bold]bootstrap"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=Bootstrap.total_steps())

        def report(step: Step) -> None:
            progress.update(task, advance=1, description=f"{step.kind} {step.name}: {step.outcome}")

        boot = Bootstrap(clients, settings.naming, report)
        steps = boot.run()
    created = sum(step.outcome == "created" for step in steps)
    console.print(
        f"[green]✓[/] {len(steps)} resources ready ({created} created, {len(steps) - created} existed)"
    )


@app.command()
def bootstrap() -> None:
    """Create every resource in the spec at AWS_ENDPOINT_URL (idempotent)."""
    settings = Settings()
    if settings.endpoint is None:
        console.print(
            "[red]AWS_ENDPOINT_URL is not set[/]: bootstrap is for emulators; use Pulumi for AWS."
        )
        raise typer.Exit(2)
    _bootstrap(settings)


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface for the API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API.", envvar="FLIXSTACK_PORT")] = 8000,
    emulator_port: Annotated[
        int, typer.Option(help="Port of the embedded emulator.")
    ] = emulator.DEFAULT_PORT,
    state_dir: StateDir = Path(".flixstack"),
) -> None:
    """Run the whole platform locally: emulator, resources, API. Ctrl-C stops everything."""
    exit_with_parent(signal.SIGTERM)  # if `make` or a shell above us dies, shut down cleanly
    parent = ParentWatch()
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    settings = Settings()
    if not _port_free(host, port):
        console.print(
            f"[red]Port {port} on {host} is in use.[/] Stop what uses it, or pass --port."
        )
        raise typer.Exit(1)

    supervisor = Supervisor(state_dir / "logs")
    try:
        endpoint = emulator.choose(settings.endpoint, emulator.DEFAULT_HOST, emulator_port)
        if endpoint.source == "embedded":
            with console.status(f"starting moto server on {endpoint.url}"):
                supervisor.start(
                    "emulator",
                    emulator.moto_command(emulator.DEFAULT_HOST, emulator_port),
                    env=dict(os.environ),
                    ready=lambda: emulator.answers(endpoint.url),
                )
        console.print(f"[green]✓[/] AWS endpoint {endpoint.url} ({endpoint.describe})")
        settings = settings.model_copy(update={"endpoint_url": endpoint.url})
        _bootstrap(settings)

        env = {**os.environ, "AWS_ENDPOINT_URL": endpoint.url, "FLIXSTACK_STAGE": settings.stage}
        api_url = f"http://{host}:{port}"
        with console.status(f"starting the API on {api_url}"):
            supervisor.start(
                "api",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "flixstack.api.app:create_app",
                    "--factory",
                    "--host",
                    host,
                    "--port",
                    str(port),
                ],
                env=env,
                ready=lambda: _healthy(api_url),
            )
        _print_urls(api_url, endpoint, supervisor)
        while not stop.wait(0.5):
            if parent.interrupted():
                break
            crashed = supervisor.first_exited()
            if crashed is not None:
                console.print(
                    f"[red]{crashed.name} exited[/] ({crashed.process.returncode}); see {crashed.log_path}"
                )
                raise typer.Exit(1)
    except StartupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    finally:
        with console.status("stopping"):
            supervisor.stop_all()
        console.print("stopped")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _print_urls(api_url: str, endpoint: emulator.Endpoint, supervisor: Supervisor) -> None:
    table = Table(title="flixstack is up", show_header=False, title_justify="left")
    table.add_row("API", api_url)
    table.add_row("API docs", f"{api_url}/docs")
    table.add_row("Health", f"{api_url}/health")
    table.add_row("AWS endpoint", f"{endpoint.url} ({endpoint.describe})")
    for child in supervisor.children:
        table.add_row(f"log: {child.name}", str(child.log_path))
    out.print(table)
    out.print("Press Ctrl-C to stop.")


def main() -> None:
    app()
