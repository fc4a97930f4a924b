"""The recommender's training job: from what profiles watched, rated and listed to a new
model version and every profile's candidates.

1. **Signals.** The events lake gives, per profile and title, how far it was played; the
   viewers table gives progress, thumbs and My List. One profile's signals about a title
   merge into one interaction whose weight grows with the share watched (a started title
   counts a quarter, a finished one fully), plus one for a thumbs up and a half for My
   List. A thumbs down removes the interaction and hides the title from the profile.
2. **Models.** The content model over the published catalog; the collaborative model
   (:mod:`flixstack.recommend.model`) over the interactions, with the content vectors as
   side information.
3. **Artifacts.** A new model version (neighbours, content neighbours, popularity) under a
   fresh folder; then each profile's candidates; then the pointer moves, with a condition,
   so API processes load the new version.

Only published titles take part: the catalog snapshot names them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.nearcache import Pointer
from flixstack.recommend import model
from flixstack.recommend.artifacts import NEIGHBOURS, PICKS, Picks, RecModel
from flixstack.recommend.content import ContentModel, content_doc
from flixstack.recommend.signals import Signal, SignalSource

PICKS_CHUNK = 2048
"""Profiles scored at once (a chunk's scores are profiles x titles floats)."""


class CatalogSource(Protocol):
    def snapshot(self) -> CatalogSnapshot: ...


class ModelStore(Protocol):
    def pointer(self) -> Pointer | None: ...
    def write(self, model: RecModel) -> Pointer: ...
    def advance(self, expected: Pointer | None, new: Pointer) -> None: ...


class PicksStore(Protocol):
    def save_picks(self, picks: Sequence[tuple[str, str, Picks]]) -> None:
        """Writes each (account, profile id, picks)."""
        ...


@dataclass(frozen=True)
class TrainingReport:
    version: int
    titles: int
    profiles: int
    interactions: int
    fit_seconds: float
    seconds: float
    prefix: str

    def as_json(self) -> dict[str, float | int | str]:
        return {
            "version": self.version,
            "titles": self.titles,
            "profiles": self.profiles,
            "interactions": self.interactions,
            "fit_seconds": round(self.fit_seconds, 3),
            "seconds": round(self.seconds, 3),
            "prefix": self.prefix,
        }


Stage = Callable[[str, int, int], None]
"""Told (stage, done, total) as training goes: progress bars and logs."""


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class Dataset:
    titles: tuple[str, ...]
    profiles: tuple[tuple[str, str], ...]
    interactions: model.Interactions
    hidden: dict[int, list[int]]
    """Per profile index, the title indices it gave a thumbs down."""


def dataset(signals: Iterable[Signal], titles: Sequence[str]) -> Dataset:
    """The interactions of published titles, one per profile and title."""
    index = {title: i for i, title in enumerate(titles)}
    merged: dict[tuple[str, str, str], Signal] = {}
    for signal in signals:
        if signal.title_id not in index:
            continue
        key = (signal.account, signal.profile_id, signal.title_id)
        known = merged.get(key)
        merged[key] = signal if known is None else known.merged(signal)
    profiles = tuple(sorted({s.profile for s in merged.values()}))
    at = {profile: i for i, profile in enumerate(profiles)}
    users, items, weights, times = [], [], [], []
    hidden: dict[int, list[int]] = {}
    for signal in merged.values():
        user, item = at[signal.profile], index[signal.title_id]
        if signal.thumb < 0:
            hidden.setdefault(user, []).append(item)
        if signal.weight > 0:
            users.append(user)
            items.append(item)
            weights.append(signal.weight)
            times.append(signal.at)
    return Dataset(
        titles=tuple(titles),
        profiles=profiles,
        interactions=model.Interactions(
            users=np.asarray(users, dtype=np.int32),
            items=np.asarray(items, dtype=np.int32),
            weights=np.asarray(weights, dtype=np.float32),
            times=np.asarray(times, dtype=np.float64),
            n_users=len(profiles),
            n_items=len(titles),
        ),
        hidden=hidden,
    )


def best_positive(matrix: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best columns by value, best first, ``-1`` where the value is not
    above zero (no evidence at all is no neighbour)."""
    best = model.top_k(matrix, None, k)
    values = np.take_along_axis(matrix, best, axis=1)
    return np.where(values > 0, best, -1).astype(np.int32)


def popularity(interactions: model.Interactions) -> np.ndarray:
    """Title indices by summed interaction weight, most first; unwatched ones left out."""
    totals = np.bincount(
        interactions.items, weights=interactions.weights, minlength=interactions.n_items
    )
    order = np.argsort(-totals, kind="stable")
    return order[totals[order] > 0].astype(np.int32)


class Trainer:
    def __init__(
        self,
        catalog: CatalogSource,
        sources: Sequence[SignalSource],
        models: ModelStore,
        picks: PicksStore,
        params: model.EaseParams | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._catalog = catalog
        self._sources = sources
        self._models = models
        self._picks = picks
        self._params = params or model.EaseParams()
        self._clock = clock

    def run(self, stage: Stage = _quiet) -> TrainingReport:
        started = time.perf_counter()
        snapshot = self._catalog.snapshot()
        titles = tuple(sorted(snapshot.titles))
        if not titles:
            raise ValueError("no published titles: there is nothing to recommend")
        stage("signals", 0, len(self._sources))
        signals: list[Signal] = []
        for done, source in enumerate(self._sources, start=1):
            signals.extend(source.signals())
            stage("signals", done, len(self._sources))
        data = dataset(signals, titles)

        stage("fit", 0, 1)
        fit_started = time.perf_counter()
        content = ContentModel.build(content_doc(snapshot.titles[t]) for t in titles)
        weights = model.fit(data.interactions, self._params, content.vectors)
        fit_seconds = time.perf_counter() - fit_started
        stage("fit", 1, 1)

        expected = self._models.pointer()
        version = 1 if expected is None else expected.version + 1
        trained = RecModel(
            version=version,
            trained_at=self._clock().astimezone(UTC).isoformat(),
            titles=titles,
            neighbours=best_positive(weights, NEIGHBOURS),
            similar=best_positive(content.similarity(), NEIGHBOURS),
            popular=popularity(data.interactions),
        )
        pointer = self._models.write(trained)
        self._write_picks(data, weights, trained, stage)
        self._models.advance(expected, pointer)
        return TrainingReport(
            version=version,
            titles=len(titles),
            profiles=len(data.profiles),
            interactions=len(data.interactions.users),
            fit_seconds=fit_seconds,
            seconds=time.perf_counter() - started,
            prefix=pointer.prefix,
        )

    def _write_picks(
        self, data: Dataset, weights: np.ndarray, trained: RecModel, stage: Stage
    ) -> None:
        """Every profile's best titles, leaving out those it already has and those it gave
        a thumbs down."""
        x = data.interactions.matrix()
        hidden_rows = [user for user, items in data.hidden.items() for _ in items]
        hidden_cols = [item for items in data.hidden.values() for item in items]
        seen = sp.csr_matrix(
            (np.ones(len(hidden_rows), dtype=np.float32), (hidden_rows, hidden_cols)),
            shape=x.shape,
        ) + (x > 0).astype(np.float32)
        total = len(data.profiles)
        for start in range(0, total, PICKS_CHUNK):
            stop = min(start + PICKS_CHUNK, total)
            scores = np.asarray(x[start:stop] @ weights, dtype=np.float32)
            rows, cols = seen[start:stop].nonzero()
            scores[rows, cols] = -np.inf
            best = model.top_k(scores, None, PICKS)
            values = np.take_along_axis(scores, best, axis=1)
            batch = []
            for row in range(stop - start):
                user = start + row
                account, profile_id = data.profiles[user]
                picks = Picks(
                    titles=[
                        data.titles[i]
                        for i, v in zip(best[row].tolist(), values[row].tolist(), strict=True)
                        if v > 0
                    ],
                    hidden=[data.titles[i] for i in data.hidden.get(user, [])],
                    model_version=trained.version,
                    trained_at=trained.trained_at,
                )
                batch.append((account, profile_id, picks))
            self._picks.save_picks(batch)
            stage("picks", stop, total)
