"""Ladders: Apple's fixed one, the convex hull, and rung selection, on hand-made points."""

from __future__ import annotations

import itertools
import math

import pytest

from flixstack.media.analysis import preset_rate_factor, sample_windows
from flixstack.media.ladder import (
    APPLE_HLS_H264_LADDER,
    FIXED_LADDER_SOURCE,
    Rung,
    TrialPoint,
    analysis_sizes,
    convex_hull,
    fixed_ladder,
    redundant,
    rendition_names,
    scaled_size,
    select_rungs,
)

P240, P360, P540, P720, P1080 = (426, 240), (640, 360), (960, 540), (1280, 720), (1920, 1080)


def point(size: tuple[int, int], kbps: float, vmaf: float, crf: float = 23) -> TrialPoint:
    return TrialPoint(size[0], size[1], crf, kbps, vmaf)


# A plausible title: every size saturates at its own ceiling; big sizes cost more to start.
TYPICAL = [
    point(P240, 150, 55),
    point(P240, 300, 68),
    point(P240, 600, 74),
    point(P240, 1200, 76),
    point(P540, 500, 60),
    point(P540, 900, 78),
    point(P540, 1700, 86),
    point(P540, 3200, 89),
    point(P1080, 1500, 72),
    point(P1080, 2500, 88),
    point(P1080, 4500, 95.5),
    point(P1080, 8000, 98),
]


# --- the fixed ladder ---------------------------------------------------------------------


def test_fixed_ladder_for_1080p_is_apples_table() -> None:
    rungs = fixed_ladder(1920, 1080)
    assert [(r.width, r.height, r.bitrate_kbps) for r in rungs] == [
        (row.width, row.height, row.bitrate_kbps) for row in APPLE_HLS_H264_LADDER
    ]
    assert [r.bitrate_kbps for r in rungs] == [145, 365, 730, 1100, 2000, 3000, 4500, 6000, 7800]


def test_fixed_ladder_is_capped_at_the_source_height() -> None:
    rungs = fixed_ladder(1280, 720)
    assert rungs[-1] == Rung(1280, 720, 4500)
    assert len(rungs) == 7
    assert all(r.height <= 720 for r in rungs)


def test_fixed_ladder_keeps_a_4_3_aspect_and_never_upscales() -> None:
    rungs = fixed_ladder(640, 480)
    assert [(r.width, r.height) for r in rungs] == [(312, 234), (480, 360), (576, 432), (576, 432)]


def test_fixed_ladder_for_portrait_uses_the_short_side() -> None:
    rungs = fixed_ladder(1080, 1920)
    assert (rungs[0].width, rungs[0].height) == (234, 416)
    assert (rungs[-1].width, rungs[-1].height) == (1080, 1920)


def test_a_source_below_the_lowest_row_gets_one_rung_at_its_own_size() -> None:
    assert fixed_ladder(320, 180) == [Rung(320, 180, 86)]  # 145 kb/s scaled by area


def test_the_fixed_ladder_names_its_source() -> None:
    assert FIXED_LADDER_SOURCE["url"].startswith("https://developer.apple.com/")
    assert "HLS" in FIXED_LADDER_SOURCE["title"]
    assert FIXED_LADDER_SOURCE["version"]


@pytest.mark.parametrize(
    ("width", "height", "short"),
    [(641, 361, 240), (641, 361, 361), (363, 203, 203), (203, 363, 203), (1919, 817, 720)],
)
def test_scaled_sizes_are_even_and_within_the_source(width: int, height: int, short: int) -> None:
    w, h = scaled_size(width, height, short)
    assert w % 2 == 0
    assert h % 2 == 0
    assert w <= width
    assert h <= height
    assert abs(w / h - width / height) < 0.02


def test_analysis_sizes_run_from_240p_to_the_source() -> None:
    assert analysis_sizes(1920, 1080) == [P240, P360, (854, 480), P720, P1080]
    assert analysis_sizes(640, 360) == [P240, P360]
    assert analysis_sizes(320, 180) == [(320, 180)]


def test_rungs_sharing_a_height_get_distinct_names() -> None:
    assert rendition_names(fixed_ladder(1280, 720)) == [
        "v234",
        "v360",
        "v432",
        "v432_1100k",
        "v540",
        "v720",
        "v720_4500k",
    ]


# --- the convex hull -------------------------------------------------------------------------


def test_hull_drops_a_dominated_point() -> None:
    cheap_good = point(P540, 1000, 80)
    costly_bad = point(P240, 1200, 70)
    hull = convex_hull([point(P240, 300, 60), cheap_good, costly_bad, point(P1080, 4000, 95)])
    assert costly_bad not in hull
    assert cheap_good in hull


def test_hull_drops_a_point_under_the_chord_of_its_neighbours() -> None:
    low, high = point(P240, 100, 50), point(P1080, 10000, 90)
    sagging = point(P540, 1000, 65)  # the chord gives 70 at 1000 kb/s in log rate
    assert convex_hull([low, sagging, high]) == [low, high]


def test_hull_drops_a_collinear_middle_point() -> None:
    low, high = point(P240, 100, 50), point(P1080, 10000, 90)
    assert convex_hull([low, point(P540, 1000, 70), high]) == [low, high]


def test_hull_stops_at_its_best_quality() -> None:
    best = point(P1080, 4000, 96)
    hull = convex_hull([point(P240, 300, 60), best, point(P1080, 9000, 95.8)])
    assert hull[-1] == best


def test_hull_rises_in_both_rate_and_quality_and_is_concave() -> None:
    hull = convex_hull(TYPICAL)
    rates = [p.bitrate_kbps for p in hull]
    quality = [p.vmaf for p in hull]
    assert rates == sorted(rates)
    assert quality == sorted(quality)
    slopes = [
        (b.vmaf - a.vmaf) / math.log(b.bitrate_kbps / a.bitrate_kbps)
        for a, b in itertools.pairwise(hull)
    ]
    assert slopes == sorted(slopes, reverse=True)
    assert {p.size for p in hull} == {P240, P540, P1080}


# --- rung selection --------------------------------------------------------------------------


def test_top_rung_aims_at_vmaf_95_at_the_full_size() -> None:
    top = select_rungs(TYPICAL)[-1]
    assert (top.width, top.height) == P1080
    assert top.expected_vmaf == pytest.approx(95.0)
    assert 2500 < top.bitrate_kbps < 4500


def test_rungs_are_one_step_apart_and_rise_in_rate_and_size() -> None:
    rungs = select_rungs(TYPICAL, step=6)
    quality = [r.expected_vmaf or 0 for r in rungs]
    assert all(b - a == pytest.approx(6, abs=0.01) for a, b in itertools.pairwise(quality))
    assert [r.bitrate_kbps for r in rungs] == sorted(r.bitrate_kbps for r in rungs)
    areas = [r.width * r.height for r in rungs]
    assert areas == sorted(areas)
    assert (rungs[0].width, rungs[0].height) == P240


def test_low_targets_go_to_smaller_sizes() -> None:
    rungs = select_rungs(TYPICAL)
    assert {(r.width, r.height) for r in rungs} == {P240, P540, P1080}


def test_at_most_max_rungs() -> None:
    assert len(select_rungs(TYPICAL, step=2, max_rungs=6, min_ratio=1.0)) == 6
    assert len(select_rungs(TYPICAL, max_rungs=2)) == 2


def test_a_bitrate_cap_lowers_the_top_rung() -> None:
    top = select_rungs(TYPICAL, max_bitrate_kbps=2000)[-1]
    # At 2000 kb/s 540p (86.8, between 86 @ 1700 and 89 @ 3200) beats 1080p (81).
    assert (top.width, top.height, top.bitrate_kbps) == (*P540, 2000)
    assert top.expected_vmaf == pytest.approx(86.77, abs=0.01)


def test_easy_content_needs_few_bits_and_fewer_rungs() -> None:
    easy = [
        point(P240, 40, 80),
        point(P240, 80, 86),
        point(P1080, 150, 90),
        point(P1080, 300, 96),
        point(P1080, 600, 98),
    ]
    rungs = select_rungs(easy)
    assert rungs[-1].bitrate_kbps < 300
    assert len(rungs) == 3  # 95, 89, 83: 77 is below the lowest quality tried


def test_rungs_under_the_minimum_bitrate_are_raised_to_it_and_end_the_ladder() -> None:
    free = select_rungs(TYPICAL)
    assert free[0].bitrate_kbps < 300 < free[1].bitrate_kbps
    floored = select_rungs(TYPICAL, min_bitrate_kbps=300)
    assert floored[0].bitrate_kbps == 300
    assert floored[1:] == free[1:]
    # raised to 400 it would crowd the 424 kb/s rung above it: it is dropped instead
    assert select_rungs(TYPICAL, min_bitrate_kbps=400) == free[1:]


def test_even_the_top_rung_is_raised_to_the_minimum_bitrate() -> None:
    [rung] = select_rungs([point(P720, 40, 96), point(P720, 80, 98)], min_bitrate_kbps=100)
    assert rung.bitrate_kbps == 100


def test_a_floored_rung_takes_the_best_size_at_the_floor_not_the_cheapest() -> None:
    trivial = [point(P240, 20, 95.5), point(P240, 60, 96), point(P720, 40, 96), point(P720, 80, 98)]
    [rung] = select_rungs(trivial, min_bitrate_kbps=100)
    assert (rung.width, rung.height, rung.bitrate_kbps) == (*P720, 100)
    assert rung.expected_vmaf == 98


def test_rungs_too_close_in_bitrate_are_skipped() -> None:
    rungs = select_rungs(TYPICAL, step=1, max_rungs=6, min_ratio=1.25)
    rates = [r.bitrate_kbps for r in rungs]
    assert all(b >= 1.25 * a for a, b in itertools.pairwise(rates))


def test_one_size_only() -> None:
    rungs = select_rungs([point(P360, 200, 60), point(P360, 400, 75), point(P360, 800, 88)])
    assert {(r.width, r.height) for r in rungs} == {P360}
    assert rungs[-1].expected_vmaf == pytest.approx(88)


def test_no_points_is_an_error() -> None:
    with pytest.raises(ValueError, match="positive"):
        select_rungs([point(P360, 0, 60)])


# --- analysis windows ---------------------------------------------------------------------------


def test_a_short_source_is_analysed_whole() -> None:
    assert sample_windows(8.0, samples=3, sample_s=2.0) == [(0.0, 8.0)]


def test_windows_spread_over_a_long_source() -> None:
    windows = sample_windows(600.0, samples=3, sample_s=2.0)
    assert len(windows) == 3
    assert all(length == 2.0 for _, length in windows)
    starts = [start for start, _ in windows]
    assert starts == sorted(starts)
    assert starts[0] > 60
    assert starts[-1] + 2.0 <= 600


def test_preset_factor_compares_at_equal_quality() -> None:
    trials = [point(P1080, 1000, 80, crf=29), point(P1080, 2000, 90, crf=23)]
    # the final preset reached VMAF 90 with 1500 kb/s where the trial preset needed 2000
    assert preset_rate_factor(trials, P1080, 23, 1500, 90) == pytest.approx(0.75)
    # above the trial curve: compared at the same CRF instead
    assert preset_rate_factor(trials, P1080, 23, 1800, 97) == pytest.approx(0.9)
    # and never beyond the clamp
    assert preset_rate_factor(trials, P1080, 23, 100, 90) == 0.4


@pytest.mark.parametrize(
    ("measured", "dropped"),
    [
        # Apple's two 720p rows on flat animation: the same bits; a 540p dearer than both
        ([(234 * 416, 90e3), (360 * 640, 150e3), (540 * 960, 427e3), (720 * 1280, 263e3),
          (720 * 1280, 264e3)], [2, 3]),
        # a proper ladder keeps every rung
        ([(1, 100.0), (2, 200.0), (4, 400.0)], []),
        # within the margin of the next rung up: pointless
        ([(1, 100.0), (2, 105.0)], [0]),
        # just past the margin: kept
        ([(1, 100.0), (2, 111.0)], []),
        # the top rung stays, however dear
        ([(4, 1e9)], []),
        # a smaller rung is only compared with larger ones
        ([(4, 100.0), (1, 100.0)], []),
    ],
)  # fmt: skip
def test_redundant_rungs(measured: list[tuple[int, float]], dropped: list[int]) -> None:
    assert redundant(measured) == dropped
