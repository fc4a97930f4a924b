"""The benchmark's definition of per-title saving, on hand-made ladders."""

from __future__ import annotations

import pytest

from bench.transcode import bitrate_at, saving_at_equal_top_quality


def rung(kbps: float, vmaf: float) -> dict[str, float]:
    return {"kbps": kbps, "vmaf": vmaf}


FIXED = [rung(145, 60), rung(730, 80), rung(2000, 90), rung(4500, 96)]


def test_bitrate_is_interpolated_in_log_rate_between_rungs() -> None:
    assert bitrate_at(FIXED, 90) == pytest.approx(2000)
    assert bitrate_at(FIXED, 85) == pytest.approx((730 * 2000) ** 0.5)  # halfway in log rate


def test_a_quality_below_the_cheapest_rung_costs_that_rung() -> None:
    assert bitrate_at(FIXED, 40) == 145


def test_a_dip_in_quality_is_flattened_to_the_best_so_far() -> None:
    # the 200 kb/s rung counts as 70 (what 100 kb/s already gave), so 75 lies halfway
    assert bitrate_at([rung(100, 70), rung(200, 65), rung(400, 80)], 75) == pytest.approx(
        (200 * 400) ** 0.5
    )


def test_saving_is_compared_at_the_lower_top_quality() -> None:
    per_title = [rung(300, 70), rung(900, 85), rung(1800, 95)]
    quality, fixed_kbps, title_kbps, saving = saving_at_equal_top_quality(FIXED, per_title)
    assert quality == 95  # the per-title top; the fixed ladder reaches 96
    assert title_kbps == pytest.approx(1800)
    assert 2000 < fixed_kbps < 4500
    assert saving == pytest.approx(100 * (1 - 1800 / fixed_kbps))


def test_a_ladder_that_needs_more_bits_has_a_negative_saving() -> None:
    costly = [rung(900, 60), rung(3000, 80), rung(9000, 96)]
    *_, saving = saving_at_equal_top_quality(FIXED, costly)
    assert saving < 0
