"""The recommender benchmark's per-user 80/20 holdout (``bench.recommend.holdout``)."""

from __future__ import annotations

import random

import pytest

from bench.recommend import held_count, holdout

SEED = 2026


@pytest.fixture(scope="module")
def baskets() -> dict[int, list[int]]:
    """GIVEN 60 users with 1 to 60 positives each, drawn from 300 items."""
    rng = random.Random(11)
    return {user: rng.sample(range(300), user + 1) for user in range(60)}


def test_each_users_train_and_test_are_disjoint_and_cover_the_basket(
    baskets: dict[int, list[int]],
) -> None:
    kept, held = holdout(baskets, SEED)

    assert set(kept) == set(held) == set(baskets)
    for user, items in baskets.items():
        assert not set(kept[user]) & set(held[user]), user
        assert sorted(kept[user] + held[user]) == sorted(items), user
        assert kept[user], f"user {user} has nothing left to train on"


@pytest.mark.parametrize(
    ("positives", "expected"),
    [(1, 0), (2, 1), (3, 1), (4, 1), (5, 1), (7, 1), (8, 2), (12, 2), (13, 3), (23, 5), (60, 12)],
)
def test_a_fifth_is_held_out_rounded_with_one_at_least_from_two_on(
    positives: int, expected: int
) -> None:
    assert held_count(positives) == expected
    kept, held = holdout({0: list(range(100, 100 + positives))}, SEED)
    assert (len(kept[0]), len(held[0])) == (positives - expected, expected)


def test_sizes_follow_the_rule_for_every_user(baskets: dict[int, list[int]]) -> None:
    _, held = holdout(baskets, SEED)

    for user, items in baskets.items():
        assert len(held[user]) == held_count(len(items)), user
    total_held = sum(len(items) for items in held.values())
    total = sum(len(items) for items in baskets.values())
    assert 0.19 <= total_held / total <= 0.21


def test_the_same_seed_gives_the_same_split(baskets: dict[int, list[int]]) -> None:
    assert holdout(baskets, SEED) == holdout(baskets, SEED)


def test_another_seed_gives_another_split(baskets: dict[int, list[int]]) -> None:
    _, held = holdout(baskets, SEED)
    _, other = holdout(baskets, SEED + 1)

    assert held != other
    changed = [user for user in baskets if held[user] != other[user]]
    assert len(changed) > len(baskets) // 2


def test_the_order_the_items_and_users_come_in_does_not_matter(
    baskets: dict[int, list[int]],
) -> None:
    shuffled = {user: list(reversed(baskets[user])) for user in reversed(list(baskets))}

    assert holdout(shuffled, SEED) == holdout(baskets, SEED)


def test_held_out_items_are_drawn_at_random_not_the_first_ones(
    baskets: dict[int, list[int]],
) -> None:
    _, held = holdout(baskets, SEED)

    lowest = [u for u, items in baskets.items() if held[u] == sorted(items)[: len(held[u])]]
    highest = [
        u for u, items in baskets.items() if held[u] and held[u] == sorted(items)[-len(held[u]) :]
    ]
    assert len(lowest) < len(baskets) // 2
    assert len(highest) < len(baskets) // 2


def test_validation_splits_train_the_same_way(baskets: dict[int, list[int]]) -> None:
    train, _ = holdout(baskets, SEED)
    sub_train, validation = holdout(train, 7)

    for user, items in train.items():
        assert sorted(sub_train[user] + validation[user]) == items, user
        assert not set(sub_train[user]) & set(validation[user]), user
        assert len(validation[user]) == held_count(len(items)), user
