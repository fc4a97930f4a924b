"""Bitrate ladders: Apple's published fixed ladder, and per-title ladders from a convex hull.

Everything here is pure: sizes, the fixed ladder, the rate-quality convex hull over trial
encodes, and rung selection on it. The trial encodes themselves live in
:mod:`flixstack.media.analysis`.

Sizes follow the picture's *short side* ("720p" is 1280x720 in landscape and 720x1280 in
portrait), keep the source's display aspect ratio, are even, and never exceed the source.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# The H.264 rows of the bit rate table of Apple's HLS Authoring Specification (16:9 column).
FIXED_LADDER_SOURCE: dict[str, str] = {
    "title": "HTTP Live Streaming (HLS) authoring specification for Apple devices",
    "publisher": "Apple Inc.",
    "url": (
        "https://developer.apple.com/documentation/http-live-streaming/"
        "hls-authoring-specification-for-apple-devices"
    ),
    "section": "Video: bit rate table, 16:9 aspect ratio rows, H.264/AVC average bit rates",
    "version": (
        "living document without a version number; table as read on 2026-11-25, identical to "
        "the reproductions dated 2020-10-30 and 2022-11-09"
    ),
}


LadderMode = Literal["per-title", "fixed"]
"""per-title: measured for each source; fixed: Apple's published H.264 ladder."""


@dataclass(frozen=True)
class LadderRow:
    width: int
    height: int
    bitrate_kbps: int
    """Average video bit rate."""


APPLE_HLS_H264_LADDER: tuple[LadderRow, ...] = (
    LadderRow(416, 234, 145),
    LadderRow(640, 360, 365),
    LadderRow(768, 432, 730),
    LadderRow(768, 432, 1100),
    LadderRow(960, 540, 2000),
    LadderRow(1280, 720, 3000),
    LadderRow(1280, 720, 4500),
    LadderRow(1920, 1080, 6000),
    LadderRow(1920, 1080, 7800),
)

# Short sides the per-title analysis tries, below the source's own.
ANALYSIS_SHORT_SIDES: tuple[int, ...] = (240, 360, 480, 720, 1080, 1440, 2160)
# A candidate this close to the source's short side adds nothing: the source size is tried.
_DISTINCT = 0.9


@dataclass(frozen=True)
class Rung:
    """One video rendition to encode: its size and target average bit rate."""

    width: int
    height: int
    bitrate_kbps: int
    expected_vmaf: float | None = None
    """What the per-title analysis predicts for this rung (None for the fixed ladder)."""


@dataclass(frozen=True)
class TrialPoint:
    """One trial encode: a size and CRF, with the bit rate and VMAF it produced."""

    width: int
    height: int
    crf: float
    bitrate_kbps: float
    vmaf: float

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "crf": self.crf,
            "bitrate_kbps": round(self.bitrate_kbps, 1),
            "vmaf": round(self.vmaf, 2),
        }


def even_floor(value: int) -> int:
    return max(2, value - value % 2)


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The even size with ``short_side`` as its short side and the aspect of width x height.

    Never larger than the source (floored to even) in either dimension.
    """
    max_w, max_h = even_floor(width), even_floor(height)
    if width >= height:
        h = min(max_h, even_floor(short_side))
        w = min(max_w, _nearest_even(width * h / height))
    else:
        w = min(max_w, even_floor(short_side))
        h = min(max_h, _nearest_even(height * w / width))
    return w, h


def fixed_ladder(width: int, height: int) -> list[Rung]:
    """Apple's H.264 ladder for a source of display size width x height, lowest first.

    Rows taller (by short side) than the source are dropped, so nothing is upscaled; rows keep
    their published bit rates and take the source's aspect ratio. A source smaller than the
    lowest row gets one rung at its own size, with the lowest row's bit rate scaled by area.
    """
    short = min(width, height)
    rungs = [
        Rung(*scaled_size(width, height, row.height), row.bitrate_kbps)
        for row in APPLE_HLS_H264_LADDER
        if row.height <= short
    ]
    if rungs:
        return rungs
    lowest = APPLE_HLS_H264_LADDER[0]
    w, h = scaled_size(width, height, short)
    area = (w * h) / (lowest.width * lowest.height)
    return [Rung(w, h, max(1, round(lowest.bitrate_kbps * area)))]


REDUNDANT_MARGIN = 1.1
"""A rung must cost this factor less than each kept rung of at least its size above it."""


def redundant(measured: Sequence[tuple[int, float]]) -> list[int]:
    """Indexes of the rungs a player would never want, given each rung's (pixels, measured
    bits per second) in ladder order: those for which a kept rung with at least as many
    pixels costs less than ``REDUNDANT_MARGIN`` times as much. A capped-CRF encoder stops
    short of a rung's target on simple content, so Apple's two 720p rows can come out the
    same, or a 540p rung dearer than the 720p ones; what is left rises in bit rate with
    size. The top rung is always kept.
    """
    kept: list[tuple[int, float]] = []
    dropped = []
    for index in range(len(measured) - 1, -1, -1):
        pixels, bits = measured[index]
        if any(p >= pixels and bits * REDUNDANT_MARGIN > b for p, b in kept):
            dropped.append(index)
        else:
            kept.append((pixels, bits))
    return sorted(dropped)


def analysis_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes the per-title analysis tries: about 240p up to the source size."""
    short = min(width, height)
    sides = [s for s in ANALYSIS_SHORT_SIDES if s <= short * _DISTINCT]
    sizes = [scaled_size(width, height, s) for s in sides]
    sizes.append(scaled_size(width, height, short))
    return sorted(set(sizes), key=lambda size: size[0] * size[1])


def rendition_names(rungs: Sequence[Rung]) -> list[str]:
    """``v<height>`` per rung; rungs sharing a height after the first get ``_<kbps>k``.

    Deterministic: the same ladder always gets the same names.
    """
    seen: set[int] = set()
    names = []
    for rung in rungs:
        name = f"v{rung.height}"
        if rung.height in seen:
            name = f"{name}_{rung.bitrate_kbps}k"
        seen.add(rung.height)
        names.append(name)
    if len(set(names)) != len(names):
        raise ValueError(f"ladder has two rungs of the same size and bit rate: {rungs}")
    return names


# --- per-title: the rate-quality convex hull --------------------------------------------------


def convex_hull(points: Iterable[TrialPoint]) -> list[TrialPoint]:
    """The upper convex hull of ``points`` in (log bit rate, VMAF), up to its best point.

    Every point of the hull is the best quality any size reaches at its bit rate (or a
    straight line between two such points dominates it), and quality rises along the hull.
    Lowest bit rate first.
    """
    best: dict[float, TrialPoint] = {}
    for point in points:
        if point.bitrate_kbps <= 0:
            continue
        x = math.log(point.bitrate_kbps)
        if x not in best or point.vmaf > best[x].vmaf:
            best[x] = point
    hull: list[TrialPoint] = []
    for point in sorted(best.values(), key=lambda p: p.bitrate_kbps):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], point) >= -1e-9:
            hull.pop()
        hull.append(point)
    if not hull:
        return []
    peak = max(range(len(hull)), key=lambda i: hull[i].vmaf)
    return hull[: peak + 1]


def select_rungs(
    points: Sequence[TrialPoint],
    *,
    top_vmaf: float = 95.0,
    step: float = 6.0,
    max_rungs: int = 6,
    min_bitrate_kbps: float = 0.0,
    max_bitrate_kbps: float = math.inf,
    min_ratio: float = 1.25,
) -> list[Rung]:
    """Up to ``max_rungs`` rungs from the trial ``points``, lowest first.

    The top rung aims at ``top_vmaf``, or at the best quality any size reaches within
    ``max_bitrate_kbps``; each rung below aims ``step`` VMAF lower, down to the lowest quality
    tried. A rung is the cheapest size reaching its target on its own rate-quality curve
    (interpolated linearly in log rate between its trial points), at the bit rate where it
    does. Those rungs lie on the upper envelope of the per-size curves, which touches the
    convex hull at each of its vertices (a hull edge between two sizes is not an encode anyone
    can make). No rung is larger than the one above it, rungs within ``min_ratio`` of the bit
    rate of the rung above are skipped, and a rung under ``min_bitrate_kbps`` is raised to it
    and is the last (two-pass rate control starves far below ~100 kb/s even on flat
    content: a 720p cartoon scored VMAF 74 at 55 kb/s and 98 at 100 kb/s).
    """
    if step <= 0 or max_rungs < 1:
        raise ValueError("step must be positive and max_rungs at least 1")
    curves = _curves(points)
    if not curves:
        raise ValueError("no trial point has a positive bit rate")
    best = max(
        (_curve_quality(c, min(max_bitrate_kbps, c[-1].bitrate_kbps)) or -math.inf)
        for c in curves.values()
    )
    if best == -math.inf:  # nothing fits under the cap: the cheapest point is all there is
        cheapest = min((c[0] for c in curves.values()), key=lambda p: p.bitrate_kbps)
        return [Rung(cheapest.width, cheapest.height, round(cheapest.bitrate_kbps), cheapest.vmaf)]
    floor = min(c[0].vmaf for c in curves.values())
    top = min(top_vmaf, best)
    rungs: list[Rung] = []
    for target in (top - i * step for i in range(max_rungs)):
        if rungs and target < floor:
            break
        above = (rungs[-1].width, rungs[-1].height) if rungs else None
        choice = _cheapest(curves, target, max_bitrate_kbps, no_larger_than=above)
        if choice is None:
            continue
        size, rate = choice
        floored = rate < min_bitrate_kbps
        if floored:  # at the floor's bit rate, the best size there wins (not the cheapest)
            rate = min_bitrate_kbps
            size = _best_at(curves, rate, no_larger_than=above) or size
        if rungs and rate * min_ratio > rungs[-1].bitrate_kbps:
            if floored:
                break
            continue
        quality = _quality_at(curves[size], rate) or max(target, curves[size][0].vmaf)
        rungs.append(Rung(size[0], size[1], max(1, round(rate)), round(quality, 2)))
        if floored:  # every rung below would sit on the floor too
            break
    return rungs[::-1]


def rate_for_quality(points: Sequence[TrialPoint], quality: float) -> float | None:
    """The bit rate at which one size's curve reaches ``quality``; None outside the curve."""
    curves = _curves(points)
    if len(curves) != 1:
        raise ValueError("rate_for_quality takes the points of one size")
    curve = next(iter(curves.values()))
    if quality < curve[0].vmaf:
        return None
    return _rate_for(curve, quality)


def _cross(a: TrialPoint, b: TrialPoint, c: TrialPoint) -> float:
    """> 0 when a -> b -> c turns left (b lies under the line a-c) in (log rate, VMAF)."""
    ax, bx, cx = (math.log(p.bitrate_kbps) for p in (a, b, c))
    return (bx - ax) * (c.vmaf - a.vmaf) - (b.vmaf - a.vmaf) * (cx - ax)


def _interpolate(x: float, x0: float, x1: float, y0: float, y1: float) -> float:
    if x1 == x0:
        return max(y0, y1)
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _hull_quality(hull: Sequence[TrialPoint], rate: float) -> float:
    """VMAF along the hull at ``rate`` (linear in log rate between vertices)."""
    if rate <= hull[0].bitrate_kbps:
        return hull[0].vmaf
    for a, b in itertools.pairwise(hull):
        if rate <= b.bitrate_kbps:
            x = math.log(rate)
            return _interpolate(
                x, math.log(a.bitrate_kbps), math.log(b.bitrate_kbps), a.vmaf, b.vmaf
            )
    return hull[-1].vmaf


Curve = list[TrialPoint]


def _curves(points: Iterable[TrialPoint]) -> dict[tuple[int, int], Curve]:
    """Per size, its points by rising bit rate with quality rising too (dominated ones out)."""
    by_size: dict[tuple[int, int], list[TrialPoint]] = defaultdict(list)
    for point in points:
        if point.bitrate_kbps > 0:
            by_size[point.size].append(point)
    curves = {}
    for size, members in by_size.items():
        curve: Curve = []
        for point in sorted(members, key=lambda p: (p.bitrate_kbps, -p.vmaf)):
            if not curve or point.vmaf > curve[-1].vmaf:
                curve.append(point)
        curves[size] = curve
    return curves


def _curve_quality(curve: Curve, rate: float) -> float | None:
    """VMAF of one size at ``rate``, or None outside the bit rates it was tried at."""
    if rate < curve[0].bitrate_kbps * 0.999 or rate > curve[-1].bitrate_kbps * 1.001:
        return None
    return _hull_quality(curve, rate)


def _rate_for(curve: Curve, quality: float) -> float | None:
    """The bit rate at which one size reaches ``quality``; None if it never does."""
    if quality <= curve[0].vmaf:
        return curve[0].bitrate_kbps
    for a, b in itertools.pairwise(curve):
        if quality <= b.vmaf:
            x = _interpolate(
                quality, a.vmaf, b.vmaf, math.log(a.bitrate_kbps), math.log(b.bitrate_kbps)
            )
            return math.exp(x)
    return None


def _quality_at(curve: Curve, rate: float) -> float | None:
    """VMAF of one size at ``rate``: its best beyond its top, None below its cheapest."""
    if rate >= curve[-1].bitrate_kbps:
        return curve[-1].vmaf
    return _curve_quality(curve, rate)


def _best_at(
    curves: dict[tuple[int, int], Curve], rate: float, *, no_larger_than: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The size with the best quality at ``rate`` (larger sizes win ties)."""
    limit = math.inf if no_larger_than is None else no_larger_than[0] * no_larger_than[1]
    scored = [
        (quality, size[0] * size[1], size)
        for size, curve in curves.items()
        if size[0] * size[1] <= limit and (quality := _quality_at(curve, rate)) is not None
    ]
    return max(scored)[2] if scored else None


def _cheapest(
    curves: dict[tuple[int, int], Curve],
    quality: float,
    max_rate: float,
    *,
    no_larger_than: tuple[int, int] | None,
) -> tuple[tuple[int, int], float] | None:
    """The size reaching ``quality`` at the lowest bit rate (larger sizes win ties)."""
    limit = math.inf if no_larger_than is None else no_larger_than[0] * no_larger_than[1]
    options = [
        (rate, -size[0] * size[1], size)
        for size, curve in curves.items()
        if size[0] * size[1] <= limit
        and (rate := _rate_for(curve, quality)) is not None
        and rate <= max_rate * 1.0001
    ]
    if not options:
        return None
    rate, _, size = min(options)
    return size, rate


def _nearest_even(value: float) -> int:
    return max(2, 2 * math.floor(value / 2 + 0.5))
