"""The content-based model: titles as TF-IDF vectors of their genres, people, era and
synopsis words, compared by cosine similarity.

It needs no viewing at all, so it serves what collaborative filtering cannot: a title
nobody has watched yet has content neighbours, and a profile with a few titles and no
trained candidates gets picks from what those titles are like. The same vectors are the
side information of the collaborative model (:mod:`flixstack.recommend.model`), which is
how a new title also reaches the "Because you watched" rows.

Each field's terms are weighted by IDF (rare terms say more: a shared director more than a
shared "drama"), then by the field's weight, and each title's vector is scaled to length 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

from flixstack.catalog import text
from flixstack.catalog.models import TitleDocument

FIELD_WEIGHTS: dict[str, float] = {"genre": 2.0, "person": 1.0, "era": 0.5, "word": 0.5}
"""How much each field counts (after IDF): genres dominate, words only nudge."""
MIN_WORD = 4
"""Synopsis words shorter than this are skipped (articles, pronouns, "the", "und")."""
MAX_WORD_SHARE = 0.3
"""Synopsis words in more than this share of titles are skipped (they say nothing)."""


@dataclass(frozen=True)
class ContentDoc:
    """What the content model knows of a title."""

    id: str
    genres: Sequence[str] = ()
    people: Sequence[str] = ()
    year: int | None = None
    synopsis: str = ""

    def terms(self) -> list[str]:
        found = [f"genre:{g}" for g in self.genres]
        found += [f"person:{text.fold(p)}" for p in self.people]
        if self.year is not None:
            found.append(f"era:{self.year // 10}")
        found += [f"word:{w}" for w in text.tokens(self.synopsis) if len(w) >= MIN_WORD]
        return list(dict.fromkeys(found))


def content_doc(doc: TitleDocument) -> ContentDoc:
    """A catalog title's content: its genres, cast and crew, era, and its synopsis in its
    default language."""
    synopsis = doc.localized[doc.default_language].synopsis
    return ContentDoc(
        id=doc.id,
        genres=doc.genres,
        people=[member.name for member in doc.cast],
        year=doc.release_year,
        synopsis=synopsis,
    )


@dataclass(frozen=True)
class ContentModel:
    ids: tuple[str, ...]
    vectors: sp.csr_matrix
    """One row per title (``ids`` order), L2-normalized; all zero for a title with no
    terms."""

    @classmethod
    def build(cls, docs: Iterable[ContentDoc]) -> ContentModel:
        docs = list(docs)
        terms = [doc.terms() for doc in docs]
        counts: dict[str, int] = {}
        for found in terms:
            for term in found:
                counts[term] = counts.get(term, 0) + 1
        n = max(len(docs), 1)
        vocabulary = {
            term: index
            for index, term in enumerate(
                t
                for t, c in sorted(counts.items())
                if not (t.startswith("word:") and c > MAX_WORD_SHARE * n and n >= 10)
            )
        }
        weight = {
            term: FIELD_WEIGHTS[term.split(":", 1)[0]] * (1.0 + math.log((1 + n) / (1 + c)))
            for term, c in counts.items()
            if term in vocabulary
        }
        rows, cols, values = [], [], []
        for row, found in enumerate(terms):
            for term in found:
                if term in vocabulary:
                    rows.append(row)
                    cols.append(vocabulary[term])
                    values.append(weight[term])
        matrix = sp.csr_matrix(
            (np.asarray(values, dtype=np.float32), (rows, cols)),
            shape=(len(docs), max(len(vocabulary), 1)),
        )
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        scale = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0))
        return cls(ids=tuple(doc.id for doc in docs), vectors=sp.csr_matrix(scale @ matrix))

    def similarity(self) -> np.ndarray:
        """Cosine similarity between every two titles (dense, ``len(ids)`` square; zero on
        the diagonal)."""
        similar = np.asarray((self.vectors @ self.vectors.T).todense(), dtype=np.float32)
        np.fill_diagonal(similar, 0.0)
        return similar
