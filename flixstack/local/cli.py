"""The ``flixstack`` command line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import threading
from dataclasses import asdict
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from botocore.exceptions import BotoCoreError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
from rich.table import Table

from flixstack.auth.identity import Tokens
from flixstack.aws.clients import AwsClients
from flixstack.errors import FlixstackError
from flixstack.local import emulator
from flixstack.local.bootstrap import Bootstrap, Step
from flixstack.local.supervisor import ParentWatch, StartupError, Supervisor
from flixstack.local.users import DEMO_ADMIN, Credentials
from flixstack.media.ladder import LadderMode
from flixstack.process import exit_with_parent
from flixstack.settings import CdnEndpoint, Settings

LADDERS: tuple[LadderMode, ...] = ("per-title", "fixed")
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)  # progress and status
out = Console()  # what the user asked for: URLs, tables

StateDir = Annotated[Path, typer.Option(help="Where logs and local state go.")]


def _bar(label: str, count: ProgressColumn) -> Progress:
    """A one-line progress bar on stderr that goes away when done: label, bar, count
    (done/total or a percentage), what it is doing."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        count,
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    )


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
    with _bar("bootstrap", MofNCompleteColumn()) as progress:
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


def _seed(settings: Settings, titles: int, seed: int) -> None:
    from flixstack.local.seeding import seed_catalog

    with _bar("seed", TextColumn("{task.percentage:>3.0f}%")) as progress:
        task = progress.add_task("", total=1.0)

        def report(what: str, fraction: float) -> None:
            progress.update(task, completed=fraction, description=what)

        result = seed_catalog(
            settings, AwsClients(settings), titles=titles, seed=seed, progress=report
        )
    console.print(
        f"[green]✓[/] catalog seeded: {result.created} titles created, {result.existing} existed, "
        f"{result.demo_assets} demo videos, snapshot v{result.snapshot_version}"
    )


StateDirOption = Annotated[
    Path, typer.Option("--state-dir", help="Where `flixstack up` keeps local state.")
]
UserOption = Annotated[
    str, typer.Option("--user", envvar="FLIXSTACK_USER", help="Username (an email).")
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar="FLIXSTACK_PASSWORD",
        help="Else the one `flixstack up` saved for a demo user (whose platform is then "
        "used even without AWS_ENDPOINT_URL), else prompted.",
    ),
]


def _sign_in(user: str, password: str | None, state_dir: Path) -> Tokens:
    from flixstack.auth.identity import find_pool, sign_in
    from flixstack.local.users import saved

    settings = Settings()
    demo = saved(state_dir, user)
    if demo is not None and settings.endpoint is None:  # a demo user of the local platform
        settings = settings.model_copy(update={"endpoint_url": demo.endpoint, "stage": demo.stage})
    if password is None:
        password = (
            demo.credentials.password
            if demo
            else typer.prompt(f"password for {user}", hide_input=True)
        )
    clients = AwsClients(settings)
    try:
        return sign_in(clients, find_pool(settings, clients), user, password)
    except FlixstackError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(2) from exc


@app.command()
def login(
    user: UserOption,
    password: PasswordOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    state_dir: StateDirOption = Path(".flixstack"),
) -> None:
    """Sign in with a username and password; print the tokens (the access token is what
    the API takes as `Authorization: Bearer ...`)."""
    tokens = _sign_in(user, password, state_dir)
    if as_json:
        out.print_json(json.dumps(asdict(tokens)))
    else:
        out.print(tokens.access_token, soft_wrap=True)
        console.print(f"access token for {user}, valid {tokens.expires_in} s")


@app.command("seed-catalog")
def seed_catalog(
    titles: Annotated[int, typer.Option(min=1, max=100_000, help="How many titles.")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same catalog.")] = 1,
) -> None:
    """Create a realistic synthetic catalog: movies and series in several languages, licence
    windows over 14 territories (past, current, future), real playable demo media."""
    _seed(Settings(), titles, seed)


@app.command()
def lifecycle(
    days_ahead: Annotated[
        float, typer.Option(min=0, help="Apply the rules as if this many days had passed.")
    ] = 0.0,
) -> None:
    """Run the buckets' S3 lifecycle transitions now (emulators store rules but never run them)."""
    from flixstack import spec
    from flixstack.local.lifecycle import sweep

    settings = Settings()
    if settings.endpoint is None:
        console.print(
            "[red]AWS_ENDPOINT_URL is not set[/]: on AWS, S3 runs lifecycle rules itself."
        )
        raise typer.Exit(2)
    clients = AwsClients(settings)
    table = Table("bucket", "objects", "transitioned", "expired", title_justify="left")
    for bucket in spec.BUCKETS:
        report = sweep(clients.s3, settings.naming.bucket(bucket), days_ahead=days_ahead)
        moved = ", ".join(f"{n} to {cls}" for cls, n in sorted(report.transitioned.items()))
        table.add_row(report.bucket, str(report.examined), moved or "-", str(report.expired))
    out.print(table)


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface for the API.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API.", envvar="FLIXSTACK_PORT")] = 8000,
    emulator_port: Annotated[
        int, typer.Option(help="Port of the embedded emulator.")
    ] = emulator.DEFAULT_PORT,
    state_dir: StateDir = Path(".flixstack"),
    seed_titles: Annotated[
        int, typer.Option(min=0, help="Titles to seed into an empty catalog (0: none).")
    ] = 200,
    edge_ports: Annotated[
        str | None,
        typer.Option(help="Ports of the two CDN edges, as A,B (default: the API's +1 and +2)."),
    ] = None,
) -> None:
    """Run the whole platform locally: emulator, resources, a seeded catalog, API, worker,
    event consumer, recommender (retraining every few minutes) and two CDN edges. Ctrl-C
    stops everything."""
    exit_with_parent(signal.SIGTERM)  # if `make` or a shell above us dies, shut down cleanly
    parent = ParentWatch()
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    settings = Settings()
    edges = _edges(host, port, edge_ports)
    for what, taken, option in [
        ("API", port, "--port"),
        *((edge.name, _port_of(edge), "--edge-ports") for edge in edges),
    ]:
        if not _port_free(host, taken):
            console.print(
                f"[red]Port {taken} on {host} ({what}) is in use.[/] Stop what uses it, or pass {option}."
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
        if seed_titles and not _has_catalog(settings):
            _seed(settings, seed_titles, seed=1)
        accounts = _demo_accounts(settings, state_dir)

        api_url = f"http://{host}:{port}"
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint.url,
            "FLIXSTACK_STAGE": settings.stage,
            "FLIXSTACK_CDNS": json.dumps([edge.model_dump(mode="json") for edge in edges]),
            "FLIXSTACK_MEDIA_BASE_URL": _base_url(edges[0]),
            # playlists are served by the edges, so their key URIs must name the API
            "FLIXSTACK_API_BASE_URL": api_url,
        }
        for edge in edges:
            with console.status(f"starting {edge.name} on {_base_url(edge)}"):
                supervisor.start(
                    edge.name,
                    [sys.executable, "-m", "flixstack.local.cli", "edge",
                     "--name", edge.name, "--host", host, "--port", str(_port_of(edge))],
                    env=env,
                    ready=partial(_answers, str(edge.health_url)),
                )  # fmt: skip
        with console.status(f"starting the API on {api_url}"):
            supervisor.start(
                "api",
                [sys.executable, "-m", "uvicorn", "flixstack.local.devserver:create_app",
                 "--factory", "--host", host, "--port", str(port)],
                env=env,
                ready=lambda: _healthy(api_url),
            )  # fmt: skip
        supervisor.start(
            "worker",
            [sys.executable, "-m", "flixstack.media.worker", "poll"],
            env={**env, "FLIXSTACK_PREWARM_IN_WORKER": "true"},  # it warms the edges too
            ready=lambda: True,
        )
        supervisor.start(
            "events",
            [sys.executable, "-m", "flixstack.local.events"],
            env=env,
            ready=lambda: True,
        )
        supervisor.start(
            "recommender",
            [sys.executable, "-m", "flixstack.local.recommender"],
            env=env,
            ready=lambda: True,
        )
        _print_urls(api_url, edges, endpoint, supervisor, accounts, state_dir)
        gone: set[str] = set()
        while not stop.wait(0.5):
            if parent.interrupted():
                break
            for crashed in supervisor.exited():
                if crashed.name in EDGE_NAMES:  # a CDN outage: the platform rides it out
                    if crashed.name not in gone:
                        gone.add(crashed.name)
                        console.print(
                            f"[yellow]{crashed.name} exited[/] ({crashed.process.returncode}); "
                            "players fail over and playback stops offering it; "
                            f"see {crashed.log_path}"
                        )
                    continue
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


def _has_catalog(settings: Settings) -> bool:
    from flixstack import spec
    from flixstack.aws.catalog_store import DynamoCatalogRepository

    clients = AwsClients(settings)
    table = settings.naming.table(spec.CATALOG)
    return DynamoCatalogRepository(table, clients.dynamodb).snapshot_pointer() is not None


def _healthy(url: str) -> bool:
    return _answers(f"{url}/health")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


EDGE_NAMES = ("edge-a", "edge-b")


def _edges(host: str, api_port: int, ports: str | None) -> list[CdnEndpoint]:
    """The local CDN edges: what the API's FLIXSTACK_CDNS lists, in order."""
    if ports is None:
        numbers = [api_port + 1 + n for n in range(len(EDGE_NAMES))]
    else:
        parts = ports.split(",")
        if len(parts) != len(EDGE_NAMES) or not all(p.strip().isdigit() for p in parts):
            console.print(f"[red]--edge-ports takes {len(EDGE_NAMES)} ports, as A,B[/]")
            raise typer.Exit(2)
        numbers = [int(p) for p in parts]
    return [
        CdnEndpoint.model_validate(
            {
                "name": name,
                "base_url": f"http://{host}:{number}",
                "weight": 1,
                "health_url": f"http://{host}:{number}/healthz",
            }
        )
        for name, number in zip(EDGE_NAMES, numbers, strict=True)
    ]


def _base_url(edge: CdnEndpoint) -> str:
    return str(edge.base_url).rstrip("/")


def _port_of(edge: CdnEndpoint) -> int:
    return edge.base_url.port or 80


def _demo_accounts(settings: Settings, state_dir: Path) -> list[Credentials]:
    from flixstack.auth.identity import find_pool
    from flixstack.local.users import demo_accounts

    clients = AwsClients(settings)
    return demo_accounts(clients, find_pool(settings, clients), state_dir, settings.stage)


def _print_urls(
    api_url: str,
    edges: list[CdnEndpoint],
    endpoint: emulator.Endpoint,
    supervisor: Supervisor,
    accounts: list[Credentials],
    state_dir: Path,
) -> None:
    table = Table(title="flixstack is up", show_header=False, title_justify="left")
    table.add_row("API", api_url)
    table.add_row("API docs", f"{api_url}/docs")
    table.add_row("Health", f"{api_url}/health")
    table.add_row("Player", f"{api_url}/player?title=<id>&profile=<id>#token=<access token>")
    table.add_row("Home rows", f"{api_url}/profiles/<id>/home (retrained every few minutes)")
    table.add_row("Web app", f"{api_url}/app/ (sign in with a demo account below)")
    for edge in edges:
        table.add_row(f"CDN {edge.name}", f"{_base_url(edge)}/titles/...")
    table.add_row("AWS endpoint", f"{endpoint.url} ({endpoint.describe})")
    for account in accounts:
        role = "admin" if account.groups else "viewer"
        table.add_row(f"demo {role}", f"{account.username}  password {account.password}")
    table.add_row("credentials", f"{state_dir / 'credentials.json'} (flixstack login --user ...)")
    for child in supervisor.children:
        table.add_row(f"log: {child.name}", str(child.log_path))
    out.print(table)
    out.print("Press Ctrl-C to stop.")


@app.command("edge")
def edge_command(
    name: Annotated[str, typer.Option(help="The edge's name (in X-Cache and /healthz).")],
    port: Annotated[int, typer.Option(help="Port to listen on.")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A page origin allowed to fetch with cookies (repeatable); "
            "local origins (127.0.0.1, localhost) always are."
        ),
    ] = None,
) -> None:
    """Run one local CDN edge: serves the media bucket of AWS_ENDPOINT_URL under /titles/...
    and enforces CloudFront signed cookies, as a distribution would."""
    import uvicorn

    from flixstack.local.edge import create_edge

    settings = Settings()
    try:
        edge_app = create_edge(settings, name, allowed_origins=allow_origin or ())
    except FlixstackError as exc:
        console.print(f"[red]{exc.message}[/] (run `flixstack bootstrap` first?)")
        raise typer.Exit(1) from exc
    uvicorn.run(edge_app, host=host, port=port, log_level="info")


@app.command()
def events() -> None:
    """Run the player-event consumer against the stream at AWS_ENDPOINT_URL: what the Lambda
    event source mapping does on AWS (progress, QoE minutes, trending, the Parquet lake)."""
    from flixstack.local import events as local_events

    local_events.main()


@app.command("lake")
def lake_command(
    sql: Annotated[str, typer.Argument(help="SQL over the table player_events.")],
    as_json: Annotated[bool, typer.Option("--json", help="Rows as JSON lines.")] = False,
) -> None:
    """Query the events data lake (Parquet under s3://<lake>/events/ at AWS_ENDPOINT_URL,
    or on AWS) with DuckDB, e.g. flixstack lake "SELECT type, count(*) FROM player_events
    GROUP BY type"."""
    from flixstack import spec
    from flixstack.aws.lake_store import Lake

    settings = Settings()
    try:
        rows = Lake(AwsClients(settings), settings.naming.bucket(spec.LAKE)).query(sql)
    except Exception as exc:  # DuckDB's errors name the SQL mistake; show them, not a trace
        console.print(f"[red]{type(exc).__name__}:[/] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        for row in rows:
            out.print_json(json.dumps(row, default=str))
        return
    table = Table(*(rows[0].keys() if rows else ["(no rows)"]))
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    out.print(table)


@app.command("cost")
def cost(
    stack: Annotated[str, typer.Option(help="A stack of stacks/ (its Pulumi.<stack>.yaml).")],
    viewers: Annotated[int, typer.Option(min=0, help="Viewers watching each day.")],
    hours_per_day: Annotated[
        float, typer.Option(min=0, max=24, help="Hours each viewer watches a day.")
    ],
    bitrate_mbps: Annotated[
        float, typer.Option(min=0.1, help="Average delivered bit rate, Mb/s.")
    ] = 3.0,
    catalog_hours: Annotated[float, typer.Option(min=0, help="Hours of content stored.")] = 2000,
    new_content_hours: Annotated[
        float, typer.Option(min=0, help="Hours uploaded and transcoded a month.")
    ] = 50,
    plot: Annotated[
        Path | None, typer.Option(help="Where to write the plot (PNG); default beside you.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The estimate as JSON.")] = False,
) -> None:
    """Estimate a stack's monthly AWS bill from its config and the viewers' hours, at the
    list prices recorded (with their dates) in flixstack/cost/prices.toml: CloudFront
    egress by price class, S3 per storage tier, DynamoDB on demand, Lambda, Fargate
    transcoding per content hour, Kinesis; compared with the design's anchor of about
    $0.01 per stream-hour. Prints a table and writes a plot."""
    from dataclasses import asdict as fields_of
    from dataclasses import replace

    from flixstack.cost import prices, report
    from flixstack.cost.model import Usage, estimate
    from flixstack.cost.stack import UnknownStack, read_stack

    try:
        shape = read_stack(stack)
    except UnknownStack as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    price_list = prices.load()
    usage = Usage(
        viewers=viewers,
        hours_per_day=hours_per_day,
        avg_bitrate_mbps=bitrate_mbps,
        catalog_hours=catalog_hours,
        new_content_hours=new_content_hours,
    )
    result = estimate(shape, usage, price_list)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "stack": fields_of(shape),
                    "usage": fields_of(usage),
                    "lines": [fields_of(line) for line in result.lines],
                    "by_service": result.by_service(),
                    "total_per_month": result.total,
                    "per_stream_hour": result.per_stream_hour,
                    "anchor_ratio": result.anchor_ratio,
                    "prices": {name: p.as_of for name, p in price_list.sources().items()},
                }
            )
        )
    else:
        out.print(report.table(result))
        for name, dated in price_list.sources().items():
            console.print(f"[dim]{name} prices: {dated.as_of}[/]")
    path = report.plot(
        result,
        plot or Path(f"flixstack-cost-{stack}.png"),
        lambda n: estimate(shape, replace(usage, viewers=n), price_list),
    )
    console.print(f"[green]✓[/] plot: {path}")


@app.command("train-recs")
def train_recs(
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Train the recommender on what profiles watched, rated and listed (the viewers table
    and the events lake at AWS_ENDPOINT_URL, or on AWS): a new model version and every
    profile's picks, which the API loads within a minute. The scheduled job on AWS."""
    from flixstack.recommend import wiring
    from flixstack.viewers.wiring import viewing

    settings = Settings()
    clients = AwsClients(settings)
    trainer = wiring.trainer(settings, clients, viewing(settings, clients))
    with _bar("train", MofNCompleteColumn()) as progress:
        task = progress.add_task("", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=stage)

        try:
            result = trainer.run(report)
        except (FlixstackError, ValueError, BotoCoreError) as exc:
            where = settings.endpoint or "AWS"
            console.print(f"[red]training failed[/] ({where}): {exc}")
            raise typer.Exit(1) from exc
    if as_json:
        out.print_json(json.dumps(result.as_json()))
        return
    console.print(
        f"[green]✓[/] model v{result.version}: {result.titles} titles, {result.profiles} "
        f"profiles, {result.interactions} interactions; fit {result.fit_seconds:.2f} s, "
        f"{result.seconds:.2f} s in all"
    )


@app.command()
def worker() -> None:
    """Run the transcode worker against the queue at AWS_ENDPOINT_URL (or AWS)."""
    from flixstack.media import worker as media_worker

    raise typer.Exit(media_worker.main(["poll"]))


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The video to upload.")],
    title: Annotated[str, typer.Option(help="Name of the new title.")],
    subtitles: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="A WebVTT or SRT sidecar.")
    ] = None,
    subtitle_language: Annotated[
        str | None, typer.Option(help="Language of --subtitles (else from name.<lang>.srt).")
    ] = None,
    ladder: Annotated[
        str, typer.Option(help="per-title or fixed (Apple's HLS ladder).")
    ] = "per-title",
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = False,
    publish_in: Annotated[
        str | None,
        typer.Option(
            help="With --wait: license the title in these territories (US,GB,...) and publish it."
        ),
    ] = None,
    licence_days: Annotated[int, typer.Option(min=1, help="Length of those licences.")] = 365,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    api: Annotated[
        str, typer.Option(help="Base URL of the API.", envvar="FLIXSTACK_API_URL")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(envvar="FLIXSTACK_TOKEN", help="An admin's access token (else --user)."),
    ] = None,
    user: Annotated[
        str, typer.Option(envvar="FLIXSTACK_USER", help="An admin to sign in as.")
    ] = DEMO_ADMIN,
    password: PasswordOption = None,
    state_dir: StateDirOption = Path(".flixstack"),
) -> None:
    """Upload a video through the API as an admin; with --wait, follow the job to the end."""
    from flixstack.local.ingest import IngestClient, IngestError, IngestRequest, summary

    if ladder not in LADDERS:
        console.print(f"[red]--ladder must be one of {', '.join(LADDERS)}[/]")
        raise typer.Exit(2)
    territories = [t.strip().upper() for t in (publish_in or "").split(",") if t.strip()]
    if territories and not wait:
        console.print("[red]--publish-in needs --wait (the title is published once playable)[/]")
        raise typer.Exit(2)
    client = IngestClient(
        api, console, token=token or _sign_in(user, password, state_dir).access_token
    )
    try:
        job = client.upload(IngestRequest(path, title, ladder, subtitles, subtitle_language))
        if wait:
            job = client.follow(job["id"])
        published = None
        if territories and job["state"] == "PUBLISHED":
            published = client.publish(job["title_id"], territories, licence_days)
    except (IngestError, httpx.HTTPError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    result = summary(job)
    if published is not None:
        result["title_state"] = published["state"]
    if as_json:
        out.print_json(json.dumps(result))
    else:
        table = Table(show_header=False, title=f"{title}: {result['state']}", title_justify="left")
        for key, value in result.items():
            if key != "renditions" and value is not None:
                table.add_row(key, str(value))
        for r in result["renditions"]:
            table.add_row(
                "rendition", f"{r['width']}x{r['height']} @ {r['bandwidth'] / 1000:.0f} kbps"
            )
        out.print(table)
    if result["state"] == "FAILED":
        raise typer.Exit(1)


SAMPLE_KINDS = ("animation", "talking", "sports", "noise")


@app.command("sample-video")
def sample_video(
    out_path: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the MP4.")],
    seconds: Annotated[float, typer.Option(min=0.5, help="Duration.")] = 10.0,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT.")] = "1280x720",
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(SAMPLE_KINDS)}.")] = "talking",
    audio: Annotated[bool, typer.Option(help="Add a tone.")] = True,
) -> None:
    """Generate a synthetic source with ffmpeg's lavfi sources (no downloads)."""
    from flixstack.media import samples

    match = re.fullmatch(r"(\d+)x(\d+)", size)
    if match is None or kind not in SAMPLE_KINDS:
        console.print(f"[red]--size is WIDTHxHEIGHT and --kind one of {', '.join(SAMPLE_KINDS)}[/]")
        raise typer.Exit(2)
    try:
        with console.status(f"generating {seconds:g} s of {kind} at {size}"):
            samples.generate(
                out_path,
                seconds=seconds,
                width=int(match[1]),
                height=int(match[2]),
                kind=kind,  # type: ignore[arg-type]
                audio=audio,
            )
    except ValueError as exc:  # e.g. odd sizes: H.264 needs even ones
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    out.print(str(out_path))


def main() -> None:
    app()


if __name__ == "__main__":  # `python -m flixstack.local.cli`: how `up` starts its edges
    main()
