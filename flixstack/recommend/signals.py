"""What training learns from: per profile and title, how far it was played, its thumb
and whether it is on My List, each source's view merged into one weighted interaction.

No numerical libraries here: the API's adapters import this module too (the training job
alone needs scipy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

STARTED_WEIGHT = 0.25
"""What playing the first seconds of a title is worth; the rest grows with the share
watched, to 1 for a finished title."""
THUMB_UP_WEIGHT = 1.0
LISTED_WEIGHT = 0.5


@dataclass(frozen=True)
class Signal:
    """What one profile did with one title, from one source."""

    account: str
    profile_id: str
    title_id: str
    at: float
    """Seconds since the epoch of the latest of these signals."""
    played: bool = False
    """It was played at all (even if how far is not known)."""
    watched: float = 0.0
    """The share of the title played, 0 to 1."""
    thumb: int = 0
    """1 thumbs up, -1 thumbs down, 0 neither."""
    listed: bool = False

    @property
    def profile(self) -> tuple[str, str]:
        return (self.account, self.profile_id)

    def merged(self, other: Signal) -> Signal:
        return replace(
            self,
            at=max(self.at, other.at),
            played=self.played or other.played,
            watched=max(self.watched, other.watched),
            thumb=self.thumb or other.thumb,
            listed=self.listed or other.listed,
        )

    @property
    def weight(self) -> float:
        if self.thumb < 0:
            return 0.0
        played = STARTED_WEIGHT + (1 - STARTED_WEIGHT) * min(self.watched, 1.0)
        return (
            (played if self.played or self.watched > 0 else 0.0)
            + (THUMB_UP_WEIGHT if self.thumb > 0 else 0.0)
            + (LISTED_WEIGHT if self.listed else 0.0)
        )


def instant(text: str) -> float:
    """Seconds since the epoch of an ISO-8601 UTC instant (``Z`` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()


class SignalSource(Protocol):
    def signals(self) -> Iterable[Signal]: ...
