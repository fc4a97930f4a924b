"""Catalog use cases: what admins do to titles (``CatalogAdmin``) and what viewers see of
them (``CatalogView``). Services talk to repository protocols, never to boto3."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from flixstack import cursors
from flixstack.catalog import availability
from flixstack.catalog.models import (
    GENRES,
    AdminTitlePage,
    Asset,
    CardPage,
    Episode,
    EpisodeCreate,
    EpisodeView,
    LicencesPut,
    LifecycleAction,
    LocalizedText,
    MetadataPatch,
    Row,
    Season,
    SeasonCreate,
    SeasonView,
    TitleCard,
    TitleCreate,
    TitleDetail,
    TitleDocument,
    TitleKind,
    TitleState,
)
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.catalog.snapshot import CatalogCache, CatalogSnapshot
from flixstack.clock import now_iso
from flixstack.errors import Conflict, InvalidInput, NotFound, PreconditionRequired

MAX_PAGE = 100
Item = dict[str, Any]

# Admin lifecycle actions: the states each may start from, and where it goes.
TRANSITIONS: dict[LifecycleAction, tuple[frozenset[TitleState], TitleState]] = {
    LifecycleAction.PUBLISH: (frozenset({TitleState.READY}), TitleState.PUBLISHED),
    LifecycleAction.UNPUBLISH: (frozenset({TitleState.PUBLISHED}), TitleState.READY),
    LifecycleAction.ARCHIVE: (
        frozenset({TitleState.PUBLISHED, TitleState.READY}),
        TitleState.ARCHIVED,
    ),
    LifecycleAction.RESTORE: (frozenset({TitleState.ARCHIVED}), TitleState.PUBLISHED),
}
PROCESSING_FROM = frozenset({TitleState.DRAFT})
READY_FROM = frozenset({TitleState.DRAFT, TitleState.PROCESSING})
PROCESSING_ONLY = frozenset({TitleState.PROCESSING})

logger = Logger(service="catalog", child=True)


class TitleRepository(Protocol):
    def create(self, doc: TitleDocument) -> None: ...
    def get(self, title_id: str) -> TitleDocument: ...
    def save(
        self, doc: TitleDocument, expected_version: int, actor: str, change: str, fields: list[str]
    ) -> None: ...
    def list_by_state(
        self, state: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[TitleDocument], str | None]: ...
    def list_by_genre(
        self, genre: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[TitleDocument], str | None]: ...
    def audit(self, title_id: str, limit: int = ...) -> list[Item]: ...


class MediaTiering(Protocol):
    def archive(self, doc: TitleDocument) -> int: ...
    def restore(self, doc: TitleDocument) -> int: ...


def next_version(doc: TitleDocument, actor: str, **changes: Any) -> TitleDocument:
    """The document after ``changes``, validated, one version on, stamped."""
    data = {
        **doc.model_dump(),
        **changes,
        "version": doc.version + 1,
        "updated_at": now_iso(),
        "updated_by": actor,
    }
    try:
        return TitleDocument.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_first_error(exc), reason="invalid_title") from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def with_asset(
    doc: TitleDocument, asset: Asset, episode_id: str | None, actor: str
) -> TitleDocument:
    """The title with a newly packaged asset (of the movie, or of one episode); a title
    that had none becomes ready."""
    state = TitleState.READY if doc.state in READY_FROM else doc.state
    if episode_id is None:
        return next_version(doc, actor, asset=asset, state=state)
    if episode_id not in doc.episodes:
        raise NotFound(f"title {doc.id} has no episode {episode_id}")
    episodes = {
        **doc.episodes,
        episode_id: doc.episodes[episode_id].model_copy(update={"asset": asset}),
    }
    return next_version(doc, actor, episodes=episodes, state=state)


class CatalogAdmin:
    def __init__(
        self,
        repository: TitleRepository,
        publisher: CatalogPublisher,
        tiering: MediaTiering | None = None,
        on_visible: Callable[[TitleDocument], object] | None = None,
    ) -> None:
        """``on_visible`` hears of every title a lifecycle action made visible to viewers
        (publish, restore): CDN pre-warming listens there. A failing listener is logged;
        the action has happened."""
        self._repository = repository
        self._publisher = publisher
        self._tiering = tiering
        self._on_visible = on_visible

    def create(self, request: TitleCreate, actor: str) -> TitleDocument:
        now = now_iso()
        doc = TitleDocument(
            **request.model_dump(),
            id=uuid.uuid4().hex[:16],
            created_at=now,
            created_by=actor,
            updated_at=now,
            updated_by=actor,
        )
        self._repository.create(doc)
        return doc

    def get(self, title_id: str) -> TitleDocument:
        return self._repository.get(title_id)

    def list_titles(
        self, *, state: TitleState | None, genre: str | None, limit: int, cursor: str | None
    ) -> AdminTitlePage:
        if genre is not None:
            items, next_cursor = self._repository.list_by_genre(
                genre, limit=min(limit, MAX_PAGE), cursor=cursor
            )
            if state is not None:
                items = [t for t in items if t.state is state]
        else:
            items, next_cursor = self._repository.list_by_state(
                state or TitleState.PUBLISHED, limit=min(limit, MAX_PAGE), cursor=cursor
            )
        return AdminTitlePage(items=items, next_cursor=next_cursor)

    def audit(self, title_id: str) -> list[Item]:
        self._repository.get(title_id)
        return self._repository.audit(title_id)

    # --- versioned edits -------------------------------------------------------------------
    def _edit(
        self,
        title_id: str,
        expected: int | None,
        actor: str,
        change: str,
        mutate: Callable[[TitleDocument], TitleDocument],
    ) -> TitleDocument:
        if expected is None:
            raise PreconditionRequired(
                "send the version you read, as If-Match or a version field",
                reason="version_required",
            )
        current = self._repository.get(title_id)
        if current.version != expected:
            raise Conflict(
                f"title {title_id} is at version {current.version}, not {expected}: reload and retry",
                reason="stale_version",
            )
        updated = mutate(current)
        fields = sorted(
            k
            for k, v in updated.model_dump().items()
            if k not in ("version", "updated_at", "updated_by") and current.model_dump().get(k) != v
        )
        self._repository.save(updated, expected, actor, change, fields)
        if TitleState.PUBLISHED in (current.state, updated.state):
            self._publisher.refresh([title_id])
        return updated

    def edit(
        self, title_id: str, patch: MetadataPatch, if_match: int | None, actor: str
    ) -> TitleDocument:
        def mutate(doc: TitleDocument) -> TitleDocument:
            changes = patch.model_dump(exclude_unset=True, exclude={"version", "localized"})
            if patch.localized is not None:
                localized = dict(doc.localized)
                for language, text in patch.localized.items():
                    if text is None:
                        localized.pop(language, None)
                    else:
                        localized[language] = text
                changes["localized"] = localized
            return next_version(doc, actor, **changes)

        return self._edit(title_id, if_match or patch.version, actor, "metadata", mutate)

    def set_licences(
        self, title_id: str, body: LicencesPut, if_match: int | None, actor: str
    ) -> TitleDocument:
        def mutate(doc: TitleDocument) -> TitleDocument:
            if doc.state is TitleState.PUBLISHED and not body.licences:
                raise Conflict(
                    "a published title needs at least one licence window", reason="no_licence"
                )
            return next_version(doc, actor, licences=body.licences)

        return self._edit(title_id, if_match or body.version, actor, "licences", mutate)

    def add_season(
        self, title_id: str, body: SeasonCreate, if_match: int | None, actor: str
    ) -> TitleDocument:
        def mutate(doc: TitleDocument) -> TitleDocument:
            if doc.kind is not TitleKind.SERIES:
                raise Conflict(
                    f"title {title_id} is a movie: it has no seasons", reason="not_a_series"
                )
            if any(s.number == body.number for s in doc.seasons):
                raise Conflict(f"season {body.number} exists", reason="season_exists")
            season = Season(number=body.number, localized=body.localized)
            return next_version(
                doc, actor, seasons=sorted([*doc.seasons, season], key=lambda s: s.number)
            )

        return self._edit(title_id, if_match or body.version, actor, "season", mutate)

    def add_episode(
        self, title_id: str, season: int, body: EpisodeCreate, if_match: int | None, actor: str
    ) -> TitleDocument:
        def mutate(doc: TitleDocument) -> TitleDocument:
            target = next((s for s in doc.seasons if s.number == season), None)
            if target is None:
                raise NotFound(f"title {title_id} has no season {season}")
            numbers = {doc.episodes[e].number for e in target.episodes}
            if body.number in numbers:
                raise Conflict(
                    f"season {season} has an episode {body.number}", reason="episode_exists"
                )
            episode = Episode(
                id=f"{title_id}-s{season}e{body.number}",
                season=season,
                number=body.number,
                localized=body.localized,
                runtime_min=body.runtime_min,
            )
            ordered = sorted(
                [*target.episodes, episode.id],
                key=lambda e: (doc.episodes.get(e) or episode).number,
            )
            seasons = [
                s.model_copy(update={"episodes": ordered}) if s.number == season else s
                for s in doc.seasons
            ]
            return next_version(
                doc, actor, seasons=seasons, episodes={**doc.episodes, episode.id: episode}
            )

        return self._edit(title_id, if_match or body.version, actor, "episode", mutate)

    def act(
        self, title_id: str, action: LifecycleAction, if_match: int | None, actor: str
    ) -> TitleDocument:
        sources, target = TRANSITIONS[action]

        def mutate(doc: TitleDocument) -> TitleDocument:
            if doc.state not in sources:
                allowed = ", ".join(sorted(s.value for s in sources))
                raise Conflict(
                    f"cannot {action.value} a {doc.state.value} title (only {allowed})",
                    reason="invalid_transition",
                )
            if target is TitleState.PUBLISHED:
                if not doc.playable:
                    raise Conflict(
                        "a title needs a playable asset to be published", reason="not_playable"
                    )
                if not doc.licences:
                    raise Conflict(
                        "a title needs a licence window to be published", reason="no_licence"
                    )
            published_at = (
                now_iso()
                if target is TitleState.PUBLISHED and doc.published_at is None
                else doc.published_at
            )
            return next_version(doc, actor, state=target, published_at=published_at)

        updated = self._edit(title_id, if_match, actor, action.value, mutate)
        if self._tiering is not None and action is LifecycleAction.ARCHIVE:
            self._tiering.archive(updated)
        if self._tiering is not None and action is LifecycleAction.RESTORE:
            self._tiering.restore(updated)
        if self._on_visible is not None and updated.state is TitleState.PUBLISHED:
            try:
                self._on_visible(updated)
            except Exception:
                logger.exception("on_visible failed", extra={"title_id": title_id})
        return updated

    def advance(
        self, title_id: str, sources: frozenset[TitleState], target: TitleState, actor: str
    ) -> bool:
        """A system move (an upload made the title processing): no version from a client,
        so it re-reads and retries on a concurrent edit. False if the state did not fit."""
        for _ in range(5):
            doc = self._repository.get(title_id)
            if doc.state not in sources:
                return False
            try:
                self._repository.save(
                    next_version(doc, actor, state=target),
                    doc.version,
                    actor,
                    target.value,
                    ["state"],
                )
            except Conflict:
                continue
            return True
        raise Conflict(f"title {title_id} kept changing", reason="busy")


# --- what viewers see ------------------------------------------------------------------------
class CatalogView:
    """Browse, title pages, rows and search, served from the near-cached snapshot and
    filtered by the viewer's territory (licence windows, now) and language."""

    def __init__(
        self,
        cache: CatalogCache,
        media_base_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._cache = cache
        self._media = media_base_url.rstrip("/")
        self._clock = clock

    def _visible(self, snapshot: CatalogSnapshot, territory: str) -> Callable[[str], bool]:
        now = self._clock().astimezone(UTC)
        return lambda title_id: snapshot.licensed(title_id, territory, now)

    def _candidates(
        self, snapshot: CatalogSnapshot, territory: str, start: int = 0
    ) -> Iterator[tuple[int, TitleDocument]]:
        visible = self._visible(snapshot, territory)
        ordered = snapshot.by_territory.get(territory, ())
        for position in range(start, len(ordered)):
            if visible(ordered[position]):
                yield position, snapshot.titles[ordered[position]]

    def _url(self, key: str | None) -> str | None:
        if key is None:
            return None
        return key if key.startswith(("http://", "https://")) else f"{self._media}/{key}"

    def card(self, doc: TitleDocument, accept_language: str | None) -> TitleCard:
        language = availability.negotiate(accept_language, doc.localized, doc.default_language)
        return self._card(doc, language)

    def _card(self, doc: TitleDocument, language: str) -> TitleCard:
        text = doc.localized[language]
        poster = doc.artwork.poster or (doc.asset.poster if doc.asset else None)
        if poster is None:
            poster = next((e.asset.poster for e in doc.ordered_episodes() if e.asset), None)
        return TitleCard(
            id=doc.id,
            kind=doc.kind,
            language=language,
            name=text.name,
            synopsis=text.synopsis,
            genres=doc.genres,
            maturity_rating=doc.maturity_rating,
            release_year=doc.release_year,
            poster_url=self._url(poster),
        )

    def _cached_card(
        self, snapshot: CatalogSnapshot, doc: TitleDocument, accept_language: str | None
    ) -> TitleCard:
        """The card, made once per snapshot, title and language (cards are immutable)."""
        language = availability.negotiate(accept_language, doc.localized, doc.default_language)
        key = ("card", self._media, doc.id, language)
        card = snapshot.memo.get(key)
        if card is None:
            card = snapshot.memo[key] = self._card(doc, language)
        return card

    def cards(
        self, snapshot: CatalogSnapshot, title_ids: Iterable[str], accept_language: str | None
    ) -> list[TitleCard]:
        """The cards of these titles of ``snapshot``, in this order."""
        return [
            self._cached_card(snapshot, snapshot.titles[title_id], accept_language)
            for title_id in title_ids
        ]

    def browse(
        self,
        *,
        territory: str,
        accept_language: str | None,
        genre: str | None,
        kind: TitleKind | None,
        limit: int,
        cursor: str | None,
    ) -> CardPage:
        if genre is not None and genre not in GENRES:
            raise InvalidInput(
                f"no genre {genre}; genres are {', '.join(GENRES)}", reason="unknown_genre"
            )
        snapshot = self._cache.snapshot()
        start = _resume(cursor, snapshot.by_territory.get(territory, ()))
        items: list[TitleCard] = []
        last = None
        for position, doc in self._candidates(snapshot, territory, start):
            if (genre is None or genre in doc.genres) and (kind is None or doc.kind is kind):
                if len(items) == limit:
                    return CardPage(items=items, next_cursor=_cursor(last))
                items.append(self._cached_card(snapshot, doc, accept_language))
                last = (position, doc.id)
        return CardPage(items=items, next_cursor=None)

    def detail(self, title_id: str, *, territory: str, accept_language: str | None) -> TitleDetail:
        snapshot = self._cache.snapshot()
        if not self._visible(snapshot, territory)(title_id):
            raise NotFound(f"no title {title_id}")  # unlicensed titles do not exist here
        doc = snapshot.titles[title_id]
        card = self.card(doc, accept_language)
        subtitles = sorted(
            {
                lang
                for a in [doc.asset, *(e.asset for e in doc.episodes.values())]
                if a
                for lang in a.subtitle_languages
            }
        )
        seasons = [
            SeasonView(
                number=season.number,
                name=_text(season.localized, accept_language, doc.default_language),
                episodes=[
                    self._episode(doc.episodes[e], accept_language, doc.default_language)
                    for e in season.episodes
                ],
            )
            for season in sorted(doc.seasons, key=lambda s: s.number)
        ]
        return TitleDetail(
            **card.model_dump(),
            cast=doc.cast,
            runtime_min=doc.runtime_min,
            playable=doc.playable,
            available_languages=sorted(doc.localized),
            subtitle_languages=subtitles,
            seasons=seasons,
        )

    @staticmethod
    def _episode(episode: Episode, accept_language: str | None, default: str) -> EpisodeView:
        language, text = availability.pick(episode.localized, accept_language, default)
        return EpisodeView(
            id=episode.id,
            season=episode.season,
            number=episode.number,
            language=language,
            name=text.name,
            synopsis=text.synopsis,
            runtime_min=episode.runtime_min,
            playable=episode.asset is not None,
        )

    def new_row(self, *, territory: str, accept_language: str | None, limit: int) -> Row:
        page = self.browse(
            territory=territory,
            accept_language=accept_language,
            genre=None,
            kind=None,
            limit=limit,
            cursor=None,
        )
        return Row(id="new", title="New Releases", items=page.items)

    def genre_row(
        self, genre: str, *, territory: str, accept_language: str | None, limit: int
    ) -> Row:
        if genre not in GENRES:
            raise NotFound(f"no genre {genre}; genres are {', '.join(GENRES)}")
        page = self.browse(
            territory=territory,
            accept_language=accept_language,
            genre=genre,
            kind=None,
            limit=limit,
            cursor=None,
        )
        return Row(id=f"genre:{genre}", title=genre.replace("-", " ").title(), items=page.items)

    def ranked_row(
        self,
        row_id: str,
        title: str,
        ranked: Iterable[str],
        *,
        territory: str,
        accept_language: str | None,
        limit: int,
    ) -> Row:
        """A row of these titles in this order, keeping those licensed in the territory
        now (a ranking made elsewhere, such as trending, may name others)."""
        snapshot = self._cache.snapshot()
        visible = self._visible(snapshot, territory)
        kept = [t for t in ranked if t in snapshot.titles and visible(t)][:limit]
        return Row(id=row_id, title=title, items=self.cards(snapshot, kept, accept_language))

    def search(
        self, query: str, *, territory: str, accept_language: str | None, limit: int
    ) -> list[TitleCard]:
        snapshot = self._cache.snapshot()
        hits = snapshot.search.search(query, limit=limit, allow=self._visible(snapshot, territory))
        return [
            self._cached_card(snapshot, snapshot.titles[hit.title_id], accept_language)
            for hit in hits
        ]


def _text(
    localized: dict[str, LocalizedText], accept_language: str | None, default: str
) -> str | None:
    if not localized:
        return None
    return availability.pick(localized, accept_language, default)[1].name


def _cursor(last: tuple[int, str] | None) -> str | None:
    return None if last is None else cursors.encode({"p": last[0], "id": last[1]})


def _resume(cursor: str | None, ordered: tuple[str, ...]) -> int:
    """Where a page starts: after the last title of the previous page, even if the
    snapshot changed in between (then found by id; else by position)."""
    if cursor is None:
        return 0
    data = cursors.decode(cursor)
    position, title_id = data.get("p"), data.get("id")
    if not isinstance(position, int) or not isinstance(title_id, str) or position < 0:
        raise InvalidInput("cursor is not one this API issued", reason="bad_cursor")
    if position < len(ordered) and ordered[position] == title_id:
        return position + 1
    try:
        return ordered.index(title_id) + 1
    except ValueError:  # it left: the titles after it moved up one place
        return position
