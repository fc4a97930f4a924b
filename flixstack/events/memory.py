"""In-process stand-ins for the consumer's stores: what the consumer's unit tests and the
in-process benchmark run it against (measuring the consumer itself, not a database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flixstack.events import qoe
from flixstack.events.consumer import DeadLetter, TrendKey
from flixstack.events.sessions import QoeKey, Session
from flixstack.viewers.models import HeartbeatBatch, ProgressReport


@dataclass
class MemoryAnalyticsStore:
    stored: dict[str, Session] = field(default_factory=dict)
    minutes: dict[QoeKey, qoe.Aggregate] = field(default_factory=dict)
    counters: dict[TrendKey, float] = field(default_factory=dict)

    def sessions(self, session_ids: Sequence[str]) -> dict[str, Session]:
        """Copies, as a store's reads are: the consumer's changes reach the store only
        when it saves them (then it hands its objects over and keeps no hold of them)."""
        return {sid: self.stored[sid].clone() for sid in session_ids if sid in self.stored}

    def save_sessions(self, sessions: Sequence[Session], expires_at: int) -> list[str]:
        for session in sessions:
            session.version += 1
            self.stored[session.session_id] = session
        return []

    def add_qoe(self, sums: Mapping[QoeKey, qoe.Aggregate]) -> None:
        for key, aggregate in sums.items():
            self.minutes.setdefault(key, qoe.Aggregate()).add(aggregate)

    def add_trending(self, counters: Mapping[TrendKey, float]) -> None:
        for key, weight in counters.items():
            self.counters[key] = self.counters.get(key, 0.0) + weight


@dataclass
class MemoryProgress:
    """Records what the consumer asks progress to apply (``keep``: every call, for tests;
    else only how many heartbeats, so that a long benchmark holds no growing heap)."""

    keep: bool = True
    calls: list[tuple[str, str, str, HeartbeatBatch]] = field(default_factory=list)
    heartbeats: int = 0

    def record(
        self, account: str, profile_id: str, batch: HeartbeatBatch, *, territory: str
    ) -> ProgressReport:
        self.heartbeats += len(batch.heartbeats)
        if self.keep:
            self.calls.append((account, profile_id, territory, batch))
        return ProgressReport(applied=len(batch.heartbeats))


@dataclass
class MemoryDeadLetters:
    letters: list[DeadLetter] = field(default_factory=list)

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters += letters


@dataclass
class MemoryLake:
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def write(self, rows: Sequence[dict[str, Any]], name: str) -> None:
        self.files[name] = list(rows)
