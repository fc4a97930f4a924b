"""In-memory model and picks stores: the recommender's unit tests and benchmark run the
training job and the home page without AWS (the same protocols the AWS adapters fill)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from flixstack.errors import Conflict
from flixstack.nearcache import Pointer
from flixstack.recommend.artifacts import Picks, RecModel


class MemoryModels:
    """Model versions by folder, and the pointer (moved only from the version expected)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.current: Pointer | None = None
        self._lock = threading.Lock()

    def pointer(self) -> Pointer | None:
        return self.current

    def load(self, pointer: Pointer) -> RecModel:
        return RecModel.from_bytes(self.files[pointer.prefix])

    def write(self, model: RecModel) -> Pointer:
        prefix = f"recommend/v{model.version:09d}-{len(self.files)}/"
        self.files[prefix] = model.to_bytes()
        return Pointer(model.version, prefix)

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        with self._lock:
            if self.current != expected:
                raise Conflict("the model pointer moved", reason="busy")
            self.current = new


class MemoryPicks:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], Picks] = {}

    def picks(self, account: str, profile_id: str) -> Picks | None:
        return self.saved.get((account, profile_id))

    def save_picks(self, picks: Sequence[tuple[str, str, Picks]]) -> None:
        for account, profile_id, found in picks:
            self.saved[(account, profile_id)] = found
