"""The collaborative model's pieces: same-sitting co-occurrence, EASE, content vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flixstack.recommend import model
from flixstack.recommend.content import ContentDoc, ContentModel


def interactions(rows: list[tuple[int, int, float, float]], n_items: int) -> model.Interactions:
    """(user, item, weight, time) rows."""
    users, items, weights, times = zip(*rows, strict=True)
    return model.Interactions(
        users=np.asarray(users, dtype=np.int32),
        items=np.asarray(items, dtype=np.int32),
        weights=np.asarray(weights, dtype=np.float32),
        times=np.asarray(times, dtype=np.float64),
        n_users=max(users) + 1,
        n_items=n_items,
    )


def test_same_sitting_pairs_weigh_by_their_gap() -> None:
    # GIVEN user 0 watched 0 and 1 five minutes apart and 2 hours later; user 1 watched 2
    # and 3 at the same moment, listed between user 0's rows
    seen = interactions(
        [
            (0, 0, 2.0, 0.0),
            (1, 2, 1.0, 50.0),
            (0, 1, 0.5, 300.0),
            (1, 3, 1.0, 50.0),
            (0, 2, 1.0, 1e4),
        ],
        n_items=4,
    )
    g = model.session_gram(seen, session_s=300.0).toarray()
    assert g[0, 1] == pytest.approx(2.0 * 0.5 * math.exp(-1)) == pytest.approx(g[1, 0])
    assert g[0, 2] == 0.0  # beyond the cutoff
    assert g[2, 3] == pytest.approx(1.0)  # another user's pair, no gap
    assert g[1, 3] == 0.0  # never pairs across users
    assert np.diag(g) == pytest.approx([4.0, 0.25, 2.0, 1.0])


def clusters() -> model.Interactions:
    """Users 0-11 each watch two of items 0-2; users 12-23 two of items 3-5; one user
    crosses over once."""
    pairs = [(0, 1), (1, 2), (0, 2)]
    rows = [(u, i, 1.0, 0.0) for u in range(12) for i in pairs[u % 3]]
    rows += [(u, i + 3, 1.0, 0.0) for u in range(12, 24) for i in pairs[u % 3]]
    rows += [(24, 0, 1.0, 0.0), (24, 3, 1.0, 0.0)]
    return interactions(rows, n_items=6)


def test_ease_learns_which_titles_go_together() -> None:
    weights = model.fit(clusters(), model.EaseParams(l2=1.0, session_weight=0, content_weight=0))
    assert np.diag(weights) == pytest.approx(np.zeros(6))
    best = model.top_k(weights, None, 2)
    assert set(best[0].tolist()) == {1, 2}
    assert set(best[4].tolist()) == {3, 5}
    # a profile that watched 0 is recommended 1 and 2 first
    profile = np.zeros((1, 6), dtype=np.float32)
    profile[0, 0] = 1
    scores = profile @ weights
    assert set(model.top_k(scores, None, 2)[0].tolist()) == {1, 2}


def test_content_gives_a_title_nobody_watched_neighbours() -> None:
    # item 6 has no viewers; its content matches items 3-5
    seen = clusters()
    seen = model.Interactions(seen.users, seen.items, seen.weights, seen.times, seen.n_users, 7)
    docs = [ContentDoc(str(i), genres=["comedy"]) for i in range(3)]
    docs += [ContentDoc(str(i), genres=["horror"]) for i in range(3, 7)]
    vectors = ContentModel.build(docs).vectors
    plain = model.fit(seen, model.EaseParams(l2=1.0, session_weight=0, content_weight=0))
    assert not plain[6].any()
    hybrid = model.fit(seen, model.EaseParams(l2=1.0, session_weight=0, content_weight=2), vectors)
    assert set(model.top_k(hybrid, None, 3)[6].tolist()) == {3, 4, 5}


def test_top_k_skips_excluded_columns() -> None:
    import scipy.sparse as sp

    scores = np.array([[0.9, 0.8, 0.1, 0.5]], dtype=np.float32)
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert model.top_k(scores, exclude, 2).tolist() == [[1, 3]]
    assert model.top_k(scores, None, 10).tolist() == [[0, 1, 3, 2]]


def test_content_similarity_follows_shared_terms() -> None:
    built = ContentModel.build(
        [
            ContentDoc(
                "a", genres=["horror"], people=["Ana Lima"], synopsis="a haunted lighthouse"
            ),
            ContentDoc("b", genres=["horror"], people=["Ana Lima"], synopsis="haunted woods"),
            ContentDoc("c", genres=["horror"], synopsis="a wedding"),
            ContentDoc("d", genres=["comedy"], synopsis="a wedding"),
            ContentDoc("e"),
        ]
    )
    similar = built.similarity()
    assert similar[0, 1] > similar[0, 2] > similar[0, 3]
    assert similar[0, 0] == 0.0
    assert not similar[4].any()  # a title with no terms is like nothing
    lengths = np.sqrt(np.asarray(built.vectors.multiply(built.vectors).sum(axis=1)).ravel())
    assert lengths[:4] == pytest.approx(np.ones(4), abs=1e-6)
