"""The estimate as a table (rich) and a plot (matplotlib): the month's breakdown by service,
and the cost per stream-hour as the audience grows, against the design's anchor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from flixstack.cost.model import ANCHOR_PER_STREAM_HOUR, Estimate


def _quantity(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.2f}{suffix}"
    return f"{value:,.2f}"


def table(estimate: Estimate) -> Table:
    usage, stack = estimate.usage, estimate.stack
    out = Table(
        title=(
            f"flixstack {stack.name}: {usage.viewers:,} viewers x {usage.hours_per_day:g} h/day"
            f" = {usage.stream_hours:,.0f} stream-hours a month ({', '.join(stack.regions)};"
            f" {stack.price_class})"
        ),
        title_justify="left",
    )
    out.add_column("Service")
    out.add_column("Item")
    out.add_column("Quantity", justify="right")
    out.add_column("$/month", justify="right")
    for line in sorted(estimate.lines, key=lambda line: (line.service, -line.dollars)):
        out.add_row(
            line.service,
            line.item,
            f"{_quantity(line.quantity)} {line.unit}",
            f"{line.dollars:,.2f}",
        )
    out.add_section()
    out.add_row("Total", "", "", f"[b]{estimate.total:,.2f}[/]")
    out.add_row(
        "Per stream-hour", f"the design's anchor: ${ANCHOR_PER_STREAM_HOUR:.2f}", "",
        f"[b]{estimate.per_stream_hour:,.4f}[/] ({estimate.anchor_ratio:,.1f}x)",
    )  # fmt: skip
    return out


def plot(estimate: Estimate, path: Path, rerun: Callable[[int], Estimate]) -> Path:
    """Two panels: this month by service, and $/stream-hour from 1,000 to 10 million
    viewers (``rerun(viewers)`` re-estimates), with the anchor."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # the dev extras bring it (make install)
        raise RuntimeError("the plot needs matplotlib: pip install matplotlib") from exc
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    services = estimate.by_service()
    left.barh(list(services)[::-1], list(services.values())[::-1], color="#e50914")
    left.set_xscale("log")  # the CDN dwarfs the rest: a log scale keeps them readable
    left.set_xlabel("$ per month (log scale)")
    left.set_title(
        f"{estimate.usage.viewers:,} viewers, {estimate.usage.hours_per_day:g} h/day: ${estimate.total:,.0f}"
    )
    for y, value in enumerate(list(services.values())[::-1]):
        left.annotate(
            f"${value:,.0f}", (value, y), xytext=(3, -3), textcoords="offset points", fontsize=8
        )
    audiences = [10**e for e in range(3, 8)]
    audiences = sorted({*audiences, estimate.usage.viewers} - {0})
    per_hour = [rerun(n).per_stream_hour for n in audiences]
    right.plot(audiences, per_hour, marker="o", color="#e50914", label="flixstack at list prices")
    right.axhline(
        ANCHOR_PER_STREAM_HOUR, color="#555", linestyle="--", label="design anchor, $0.01"
    )
    right.scatter([estimate.usage.viewers], [estimate.per_stream_hour], s=90, zorder=3, color="black",
                  label=f"this estimate: ${estimate.per_stream_hour:.4f}")  # fmt: skip
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("viewers")
    right.set_ylabel("$ per stream-hour")
    right.set_title("Cost per stream-hour as the audience grows (CDN volume tiers)")
    right.legend()
    fig.suptitle(
        f"flixstack {estimate.stack.name}: monthly cost estimate ({', '.join(estimate.stack.regions)})"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
