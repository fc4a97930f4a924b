"""Top-k ranking metrics for held-out evaluation (the recommender's benchmark and tests).

Every metric takes each user's ranked list (best first, the user's training titles already
left out) and the set of titles the user held out:

- ``recall@k``: the share of a user's held-out titles found in the top k (hits / held out);
- ``ndcg@k``: DCG of the top k (gain 1 per hit, discount ``1 / log2(rank + 1)``) over the
  best DCG possible with ``min(k, held out)`` hits;
- ``coverage@k``: the share of the catalog that is in anyone's top k.

Users with nothing held out do not count towards recall or NDCG (they still count for
coverage: their lists are shown too).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass


def _discounts(k: int) -> list[float]:
    return [1.0 / math.log2(rank + 2) for rank in range(k)]


def recall_at(ranked: Sequence[int], held: Collection[int], k: int) -> float:
    if not held:
        raise ValueError("recall needs at least one held-out item")
    return sum(1 for item in ranked[:k] if item in held) / len(held)


def ndcg_at(ranked: Sequence[int], held: Collection[int], k: int) -> float:
    if not held:
        raise ValueError("NDCG needs at least one held-out item")
    discounts = _discounts(k)
    dcg = sum(discounts[rank] for rank, item in enumerate(ranked[:k]) if item in held)
    ideal = sum(discounts[: min(k, len(held))])
    return dcg / ideal


def coverage_at(ranked_lists: Sequence[Sequence[int]], catalog_size: int, k: int) -> float:
    if catalog_size <= 0:
        raise ValueError("coverage needs a catalog")
    shown = {item for ranked in ranked_lists for item in ranked[:k]}
    return len(shown) / catalog_size


@dataclass(frozen=True)
class Scores:
    recall_10: float
    recall_20: float
    ndcg_10: float
    coverage_10: float
    users: int
    """Users with something held out (those recall and NDCG average over)."""

    def as_json(self) -> dict[str, float]:
        return {
            "recall@10": round(self.recall_10, 5),
            "recall@20": round(self.recall_20, 5),
            "ndcg@10": round(self.ndcg_10, 5),
            "coverage@10": round(self.coverage_10, 5),
        }


def evaluate(
    ranked: Mapping[int, Sequence[int]], held: Mapping[int, Collection[int]], catalog_size: int
) -> Scores:
    """Averages over the users with held-out items; ``ranked`` holds every user's top 20
    (or more)."""
    judged = [user for user, items in held.items() if items]
    if not judged:
        raise ValueError("no user has held-out items")
    missing = [user for user in judged if user not in ranked]
    if missing:
        raise ValueError(f"{len(missing)} users with held-out items have no ranking")
    n = len(judged)
    return Scores(
        recall_10=sum(recall_at(ranked[u], held[u], 10) for u in judged) / n,
        recall_20=sum(recall_at(ranked[u], held[u], 20) for u in judged) / n,
        ndcg_10=sum(ndcg_at(ranked[u], held[u], 10) for u in judged) / n,
        coverage_10=coverage_at(list(ranked.values()), catalog_size, 10),
        users=n,
    )
