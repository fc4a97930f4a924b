"""The ranking metrics against cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from flixstack.recommend.metrics import coverage_at, evaluate, ndcg_at, recall_at

LOG3 = math.log2(3)


def test_recall_counts_hits_over_everything_held_out() -> None:
    # held out 2 and 5; the top 3 finds 2 only, the top 5 both
    assert recall_at([1, 2, 3, 4, 5], {2, 5}, 3) == pytest.approx(1 / 2)
    assert recall_at([1, 2, 3, 4, 5], {2, 5}, 5) == pytest.approx(1.0)
    assert recall_at([1, 2, 3], {7}, 3) == 0.0


def test_ndcg_discounts_by_rank_and_normalises_by_the_best_possible() -> None:
    # a hit at rank 2: 1/log2(3); the best two hits would score 1 + 1/log2(3)
    assert ndcg_at([1, 2, 3], {2, 5}, 3) == pytest.approx((1 / LOG3) / (1 + 1 / LOG3))
    # hits at ranks 2 and 5
    dcg = 1 / LOG3 + 1 / math.log2(6)
    assert ndcg_at([1, 2, 3, 4, 5], {2, 5}, 5) == pytest.approx(dcg / (1 + 1 / LOG3))
    # the ideal ranking scores 1, and the ideal caps at k hits
    assert ndcg_at([5, 2, 9], {2, 5}, 3) == pytest.approx(1.0)
    assert ndcg_at([1, 2], {1, 2, 3, 4}, 2) == pytest.approx(1.0)


def test_coverage_is_the_share_of_the_catalog_anyone_sees() -> None:
    lists = [[1, 2], [2, 3]]
    assert coverage_at(lists, 10, 2) == pytest.approx(3 / 10)
    assert coverage_at(lists, 10, 1) == pytest.approx(2 / 10)


def test_evaluate_averages_over_users_with_something_held_out() -> None:
    ranked = {0: list(range(20)), 1: list(range(20, 40)), 2: list(range(40, 60))}
    held = {0: {0}, 1: {39, 99}, 2: set()}  # user 2 counts for coverage only
    scores = evaluate(ranked, held, catalog_size=100)
    assert scores.users == 2
    assert scores.recall_10 == pytest.approx((1 + 0) / 2)
    assert scores.recall_20 == pytest.approx((1 + 0.5) / 2)
    assert scores.ndcg_10 == pytest.approx((1 + 0) / 2)
    assert scores.coverage_10 == pytest.approx(30 / 100)
    assert scores.as_json()["ndcg@10"] == pytest.approx(0.5)


def test_evaluate_refuses_a_user_it_cannot_judge() -> None:
    with pytest.raises(ValueError, match="no ranking"):
        evaluate({0: [1]}, {0: {1}, 1: {2}}, 10)
    with pytest.raises(ValueError, match="held-out"):
        recall_at([1], set(), 1)
