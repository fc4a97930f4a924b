"""What training leaves behind: a versioned model the API holds in memory, and per profile
a list of candidates.

``RecModel`` is one file (``model.npz``, numeric arrays only: loading it never unpickles)
under ``recommend/v<version>-<id>/`` of the artifacts bucket. It holds, per title, its
neighbours from the collaborative model (the "Because you watched" rows) and from the
content model (for titles and profiles with no viewing yet), and the titles by
popularity. ``Picks`` are a profile's top candidates, stored with the profile's other
items so the home page reads them with one request.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

MODEL_FILE = "model.npz"
NEIGHBOURS = 30
"""Neighbours kept per title (a row shows 20 at most, after filtering)."""
PICKS = 100
"""Candidates kept per profile."""


@dataclass(frozen=True)
class RecModel:
    version: int
    trained_at: str
    titles: tuple[str, ...]
    neighbours: np.ndarray
    """int32, one row per title: its best collaborative neighbours' indices, -1 padded."""
    similar: np.ndarray
    """int32, one row per title: its nearest titles by content, -1 padded."""
    popular: np.ndarray
    """int32 title indices, most watched first (titles nobody watched are left out)."""
    index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.index.update({title: i for i, title in enumerate(self.titles)})

    def _ids(self, rows: np.ndarray) -> list[str]:
        return [self.titles[i] for i in rows.tolist() if i >= 0]

    def neighbours_of(self, title_id: str) -> list[str]:
        at = self.index.get(title_id)
        return [] if at is None else self._ids(self.neighbours[at])

    def similar_to(self, title_id: str) -> list[str]:
        at = self.index.get(title_id)
        return [] if at is None else self._ids(self.similar[at])

    def most_popular(self) -> list[str]:
        return self._ids(self.popular)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            version=np.int64(self.version),
            trained_at=np.str_(self.trained_at),
            titles=np.array(self.titles, dtype=np.str_),
            neighbours=self.neighbours.astype(np.int32),
            similar=self.similar.astype(np.int32),
            popular=self.popular.astype(np.int32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RecModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            loaded: dict[str, Any] = {name: arrays[name] for name in arrays.files}
        return cls(
            version=int(loaded["version"]),
            trained_at=str(loaded["trained_at"]),
            titles=tuple(str(t) for t in loaded["titles"].tolist()),
            neighbours=loaded["neighbours"],
            similar=loaded["similar"],
            popular=loaded["popular"],
        )


class Picks(BaseModel):
    """A profile's candidates from one training run, best first."""

    titles: list[str] = Field(max_length=PICKS)
    hidden: list[str] = Field(
        default_factory=list, description="Titles the profile gave a thumbs down."
    )
    model_version: int
    trained_at: str
