"""QoE arithmetic: sketch percentiles against exact ones, Mux's scores, merging sums."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from flixstack.events import qoe


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_sketch_quantiles_are_within_the_relative_accuracy_of_the_exact_ones(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(math.log(600), 0.8) for _ in range(5000)]
    aggregate = qoe.Aggregate()
    for value in values:
        aggregate.add_startup(value)
    exact = float(np.quantile(values, q, method="inverted_cdf"))  # nearest rank
    estimate = qoe.quantile(aggregate.sketch, q)
    assert estimate is not None
    assert abs(estimate - exact) <= qoe.RELATIVE_ACCURACY * exact


def test_sketches_merge_to_the_sketch_of_all_values() -> None:
    first, second, both = qoe.Aggregate(), qoe.Aggregate(), qoe.Aggregate()
    for n, value in enumerate([120.0, 340.0, 980.0, 2200.0, 15.0, 50_000.0]):
        (first if n % 2 else second).add_startup(value)
        both.add_startup(value)
    merged = qoe.merged([first, second])
    assert merged.sketch == both.sketch
    assert merged.plays == 6
    assert merged.startup_ms == pytest.approx(both.startup_ms)


def test_p95_of_few_plays_is_the_worst_of_them() -> None:
    few = qoe.Aggregate()
    for value in (206.0, 273.0, 600.0):
        few.add_startup(value)
    summary = few.summary()
    assert summary.startup_p50_ms == pytest.approx(273, rel=qoe.RELATIVE_ACCURACY)
    assert summary.startup_p95_ms == pytest.approx(600, rel=qoe.RELATIVE_ACCURACY)


def test_a_single_value_is_its_own_percentile_and_empty_has_none() -> None:
    one = qoe.Aggregate()
    one.add_startup(748.0)
    p50 = one.summary().startup_p50_ms
    assert p50 is not None
    assert abs(p50 - 748.0) <= 748.0 * qoe.RELATIVE_ACCURACY
    empty = qoe.Aggregate().summary()
    assert empty.startup_p95_ms is None
    assert empty.rebuffer_ratio is None


@pytest.mark.parametrize(
    ("startup_ms", "score"), [(400, 95.2), (2000, 80.0), (8000, 50.0), (20_000, 28.6)]
)
def test_startup_score_is_muxs(startup_ms: float, score: float) -> None:
    assert qoe.startup_score(startup_ms) == pytest.approx(score, abs=0.1)


def test_smoothness_score_is_the_mean_of_muxs_count_and_share_curves() -> None:
    assert qoe.smoothness_score(0, 0.0) == 100.0
    # one rebuffer of 5 s in a 5-minute view: 89.4 by count, 84.6 by share
    assert qoe.smoothness_score(1, 5 / 300) == pytest.approx((89.44 + 84.65) / 2, abs=0.05)
    assert qoe.smoothness_score(4, 0.05) < qoe.smoothness_score(1, 0.05)
    assert qoe.smoothness_score(1, 0.10) < qoe.smoothness_score(1, 0.01)


def test_summary_ratios() -> None:
    a = qoe.Aggregate(
        views=4, watch_ms=9000, stall_ms=1000, bitrate_ms=2_000_000 * 9000, failed_views=1
    )
    s = a.summary()
    assert s.rebuffer_ratio == pytest.approx(0.1)
    assert s.average_bitrate_bps == pytest.approx(2_000_000)
    assert s.error_rate == pytest.approx(0.25)


def test_add_adds_every_sum() -> None:
    ones = qoe.Aggregate(**{name: 1 for name in qoe.SUM_FIELDS}, sketch={3: 1})
    total = qoe.Aggregate()
    total.add(ones)
    total.add(ones)
    assert total.sums() == {name: 2 for name in qoe.SUM_FIELDS}
    assert total.sketch == {3: 2}
