"""Factories for catalog unit tests: titles, licence windows, an in-memory snapshot store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flixstack.catalog.models import (
    CastMember,
    Episode,
    Licence,
    LocalizedText,
    Season,
    TitleDocument,
    TitleKind,
    TitleState,
)
from flixstack.catalog.snapshot import CatalogSnapshot, Pointer, fresh_prefix
from flixstack.errors import Conflict, NotFound

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
"""The instant the view tests look at the catalog."""
STAMP = "2027-01-01T00:00:00.000Z"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def window(
    territory: str,
    start: datetime = NOW - timedelta(days=30),
    end: datetime = NOW + timedelta(days=30),
) -> Licence:
    return Licence(territory=territory, start=start, end=end)


def title(
    title_id: str,
    names: Mapping[str, str] | None = None,
    *,
    default_language: str = "en",
    state: TitleState = TitleState.PUBLISHED,
    territories: Sequence[str] = ("US",),
    licences: Sequence[Licence] | None = None,
    genres: Sequence[str] = (),
    kind: TitleKind = TitleKind.MOVIE,
    popularity: float = 1.0,
    age_min: int = 0,
    cast: Sequence[str] = (),
    **extra: Any,
) -> TitleDocument:
    """A title document; ``age_min`` minutes before NOW it was published (0 = newest)."""
    return TitleDocument(
        id=title_id,
        kind=kind,
        state=state,
        default_language=default_language,
        localized={
            lang: LocalizedText(name=name, synopsis=f"About {name}.")
            for lang, name in (names or {default_language: f"Title {title_id}"}).items()
        },
        genres=list(genres),
        cast=[CastMember(name=member) for member in cast],
        licences=list(licences) if licences is not None else [window(t) for t in territories],
        popularity=popularity,
        created_at=STAMP,
        created_by="test",
        updated_at=STAMP,
        updated_by="test",
        published_at=iso(NOW - timedelta(minutes=age_min)),
        **extra,
    )


def series(
    title_id: str,
    episodes_per_season: Mapping[int, int],
    names: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> TitleDocument:
    """A series whose seasons are listed in the order given; episodes named in en and fr."""
    seasons: list[Season] = []
    episodes: dict[str, Episode] = {}
    for number, count in episodes_per_season.items():
        ids = []
        for episode in range(1, count + 1):
            episode_id = f"{title_id}-s{number}e{episode}"
            episodes[episode_id] = Episode(
                id=episode_id,
                season=number,
                number=episode,
                localized={
                    "en": LocalizedText(name=f"Episode {number}.{episode}"),
                    "fr": LocalizedText(name=f"Épisode {number}.{episode}"),
                },
                runtime_min=30,
            )
            ids.append(episode_id)
        seasons.append(
            Season(
                number=number,
                localized={
                    "en": LocalizedText(name=f"Season {number}"),
                    "fr": LocalizedText(name=f"Saison {number}"),
                },
                episodes=ids,
            )
        )
    return title(
        title_id, names, kind=TitleKind.SERIES, seasons=seasons, episodes=episodes, **kwargs
    )


class MemoryStore:
    """A SnapshotStore in memory: artifacts really serialised, the pointer compare-and-set.

    ``interference`` runs (once each, oldest first) inside ``advance`` before the pointer is
    compared: a competing publisher sneaking in between write and advance.
    """

    def __init__(self) -> None:
        self.current: Pointer | None = None
        self.artifacts: dict[str, dict[str, bytes]] = {}
        self.pointer_calls = 0
        self.loads = 0
        self.writes = 0
        self.advances = 0
        self.interference: list[Callable[[], object]] = []

    def pointer(self) -> Pointer | None:
        self.pointer_calls += 1
        return self.current

    def load(self, pointer: Pointer) -> CatalogSnapshot:
        self.loads += 1
        return CatalogSnapshot.from_artifacts(pointer.version, self.artifacts[pointer.prefix])

    def write(self, snapshot: CatalogSnapshot) -> Pointer:
        self.writes += 1
        prefix = fresh_prefix(snapshot.version)
        self.artifacts[prefix] = snapshot.to_artifacts()
        return Pointer(snapshot.version, prefix)

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        self.advances += 1
        if self.interference:
            self.interference.pop(0)()
        if self.current != expected:
            raise Conflict("the snapshot pointer moved", reason="stale_snapshot")
        self.current = new

    def publish(self, snapshot: CatalogSnapshot) -> Pointer:
        """Makes ``snapshot`` current directly (another publisher's doing)."""
        written = self.write(snapshot)
        self.current = written
        return written


class MemoryTitles:
    """A TitleSource over a dict of documents."""

    def __init__(self, docs: Iterable[TitleDocument] = ()) -> None:
        self.docs = {doc.id: doc for doc in docs}

    def put(self, doc: TitleDocument) -> None:
        self.docs[doc.id] = doc

    def get(self, title_id: str) -> TitleDocument:
        try:
            return self.docs[title_id]
        except KeyError:
            raise NotFound(f"no title {title_id}") from None

    def all_in_state(self, state: str, page_size: int = 100) -> Iterator[TitleDocument]:
        return iter([doc for doc in self.docs.values() if doc.state == state])


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
