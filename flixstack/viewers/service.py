"""Viewer use cases: an account's profiles, and per profile its progress, continue
watching, history, My List and ratings. Every profile-scoped call first finds the profile
in the caller's account, so another account's profile is simply not found.

Titles come from the catalog snapshot the API already holds in memory (published titles,
filtered here by the viewer's territory now and the profile's maturity level): no table
reads for the catalog on these paths. The service talks to a repository protocol, never
to boto3."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from pydantic import ValidationError

from flixstack.catalog import availability
from flixstack.catalog.models import Episode, TitleCard, TitleDocument
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.clock import now_iso
from flixstack.errors import Conflict, Forbidden, InvalidInput, NotFound
from flixstack.viewers import rules
from flixstack.viewers.models import (
    MAX_PROFILES,
    Account,
    AccountStatusPut,
    ContinueItem,
    ContinueWatching,
    EpisodeRef,
    Heartbeat,
    HeartbeatBatch,
    HistoryEntry,
    HistoryItem,
    HistoryPage,
    ListEntry,
    MyList,
    MyListItem,
    Profile,
    ProfileCreate,
    ProfilePatch,
    Progress,
    ProgressReport,
    ProgressView,
    Rating,
    RatingPut,
    Rejection,
)
from flixstack.viewers.rules import Outcome

T = TypeVar("T")
_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="viewer-reads")
"""Reads that run beside a profile's ownership check (see ``read_as``)."""
_SIDE_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="viewer-side-reads")
"""Reads that run beside another read of ``_READS`` (a pool of their own, so a read never
waits on a queue its own pool's busy threads are blocking)."""

PROFILE_CACHE_S = 2.0
"""How long a process answers the read-only list routes (continue watching, history, My
List) and playback from the profiles it last read for an account, instead of reading them
again: the ownership check then costs nothing, and those routes one table read less.
Playback checks the account's status the same way. A
profile changed through this process is read afresh at once; one changed elsewhere (on
another device's API instance) shows here within this many seconds. Writes always read
the profile itself."""

ATTEMPTS = 8
"""Optimistic retries of one write before giving up with 409 busy (each retry means
another writer made progress in between)."""


class ViewerRepository(Protocol):
    def account(self, account: str) -> Account: ...
    def save_account(self, account: str, state: Account) -> None: ...
    def profiles(self, account: str) -> list[Profile]: ...
    def profile(self, account: str, profile_id: str) -> Profile: ...
    def create_profile(self, account: str, profile: Profile) -> None: ...
    def update_profile(self, account: str, profile: Profile, expected_version: int) -> None: ...
    def delete_profile(self, account: str, profile: Profile) -> None: ...
    def purge(self, account: str, profile_id: str) -> int: ...
    def progress(self, account: str, profile_id: str, title_id: str) -> Progress | None: ...
    def all_progress(self, account: str, profile_id: str) -> list[Progress]: ...
    def save_progress(
        self, account: str, profile_id: str, progress: Progress, expected_version: int | None
    ) -> None: ...
    def record_session(self, account: str, profile_id: str, entry: HistoryEntry) -> bool: ...
    def history(
        self, account: str, profile_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[HistoryEntry], str | None]: ...
    def my_list(self, account: str, profile_id: str) -> list[ListEntry]: ...
    def add_to_list(self, account: str, profile: Profile, title_id: str, added_at: str) -> bool: ...
    def remove_from_list(self, account: str, profile_id: str, title_id: str) -> None: ...
    def ratings(self, account: str, profile_id: str) -> list[Rating]: ...
    def rate(self, account: str, profile_id: str, rating: Rating) -> None: ...
    def unrate(self, account: str, profile_id: str, title_id: str) -> None: ...


class CatalogSource(Protocol):
    """The published catalog (``CatalogCache``)."""

    def snapshot(self) -> CatalogSnapshot: ...


class CardMaker(Protocol):
    """Title cards in the viewer's language (``CatalogView``)."""

    def card(self, doc: TitleDocument, accept_language: str | None) -> TitleCard: ...


Finder = Callable[[str], TitleDocument | None]


class ViewerService:
    def __init__(
        self,
        repository: ViewerRepository,
        catalog: CatalogSource,
        cards: CardMaker,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        self._repository = repository
        self._catalog = catalog
        self._cards = cards
        self._clock = clock
        self._new_id = new_id
        self._known: RecentCache[dict[str, Profile]] = RecentCache(PROFILE_CACHE_S)
        self._accounts: RecentCache[Account] = RecentCache(PROFILE_CACHE_S)

    # --- the account ---------------------------------------------------------------------------
    def account(self, account: str) -> Account:
        return self._repository.account(account)

    def recent_account(self, account: str) -> Account:
        """The account as this process read it at most PROFILE_CACHE_S seconds ago (a
        status change made here shows at once, one made elsewhere within that time)."""
        known = self._accounts.get(account)
        if known is None:
            known = self._repository.account(account)
            self._accounts.put(account, known)
        return known

    def set_account_status(self, account: str, body: AccountStatusPut, actor: str) -> Account:
        """An admin suspends or reactivates an account (suspended: no playback, no keys)."""
        for _ in range(ATTEMPTS):
            current = self._repository.account(account)
            updated = Account(
                status=body.status,
                reason=body.reason,
                updated_at=now_iso(),
                updated_by=actor,
                version=current.version + 1,
            )
            try:
                self._repository.save_account(account, updated)
            except Conflict:
                continue
            finally:
                self._accounts.forget(account)
            return updated
        raise Conflict(f"account {account} kept changing; retry", reason="busy")

    # --- profiles --------------------------------------------------------------------------------
    def profiles(self, account: str) -> list[Profile]:
        return self._repository.profiles(account)

    def profile(self, account: str, profile_id: str) -> Profile:
        """The account's profile; NotFound for an unknown one and for another account's."""
        return self._repository.profile(account, profile_id)

    def read_as(self, account: str, profile_id: str, read: Callable[[], T]) -> tuple[Profile, T]:
        """The profile and what ``read`` reads for it (a read-only route). With the
        account's profiles recently read, the check is in memory and ``read`` runs alone;
        else both reads start together (``read`` is keyed by the caller's own account, so
        it never sees another account's items) and the result counts only if the profile
        is the account's."""
        known = (self._known.get(account) or {}).get(profile_id)
        if known is not None:
            return known, read()
        pending = _READS.submit(read)
        try:
            profiles = self._repository.profiles(account)
        except BaseException:
            pending.cancel()
            raise
        self._known.put(account, {p.id: p for p in profiles})
        profile = next((p for p in profiles if p.id == profile_id), None)
        if profile is None:
            pending.cancel()
            raise NotFound(f"no profile {profile_id}")
        return profile, pending.result()

    def create_profile(self, account: str, body: ProfileCreate) -> Profile:
        """A new profile in the account's first free slot; 409 profile_limit when all
        ``MAX_PROFILES`` are taken (concurrent creates race for slots, never past them)."""
        maturity = rules.settle_maturity(
            kids=body.kids, requested=body.maturity_level, was_kids=None, current=None
        )
        now = now_iso()
        profile_id = self._new_id()
        for _ in range(MAX_PROFILES + 1):
            taken = {p.slot for p in self._repository.profiles(account)}
            free = [slot for slot in range(1, MAX_PROFILES + 1) if slot not in taken]
            if not free:
                raise Conflict(
                    f"an account has at most {MAX_PROFILES} profiles", reason="profile_limit"
                )
            profile = Profile(
                **body.model_dump(exclude={"maturity_level"}),
                id=profile_id,
                slot=free[0],
                maturity_level=maturity,
                created_at=now,
                updated_at=now,
            )
            try:
                self._repository.create_profile(account, profile)
                self._known.forget(account)
            except Conflict:
                continue  # another create took that slot first: look again
            return profile
        raise Conflict("the account's profiles kept changing; retry", reason="busy")

    def edit_profile(self, account: str, profile_id: str, patch: ProfilePatch) -> Profile:
        """Changes some fields. With ``version`` the edit applies only to that version (409
        stale_version otherwise); without, it applies to the latest."""
        changes = patch.model_dump(exclude_unset=True, exclude_none=True, exclude={"version"})
        for _ in range(ATTEMPTS):
            current = self._repository.profile(account, profile_id)
            if patch.version is not None and patch.version != current.version:
                raise _stale(current)
            kids = bool(changes.get("kids", current.kids))
            maturity = rules.settle_maturity(
                kids=kids,
                requested=patch.maturity_level,
                was_kids=current.kids,
                current=current.maturity_level,
            )
            try:
                updated = Profile.model_validate(
                    {
                        **current.model_dump(),
                        **changes,
                        "maturity_level": maturity,
                        "updated_at": now_iso(),
                        "version": current.version + 1,
                    }
                )
            except ValidationError as exc:
                raise InvalidInput(str(exc.errors()[0]["msg"]), reason="invalid_profile") from exc
            try:
                self._repository.update_profile(account, updated, current.version)
                self._known.forget(account)
            except Conflict:
                if patch.version is not None:
                    raise _stale(current) from None
                continue  # edited (or deleted) in between: read again
            return updated
        raise Conflict(f"profile {profile_id} kept changing; retry", reason="busy")

    def delete_profile(self, account: str, profile_id: str) -> None:
        """Frees the profile's slot, then deletes everything it owned."""
        profile = self._repository.profile(account, profile_id)
        self._repository.delete_profile(account, profile)
        self._known.forget(account)
        self._repository.purge(account, profile.id)

    # --- progress --------------------------------------------------------------------------------
    def record(
        self, account: str, profile_id: str, batch: HeartbeatBatch, *, territory: str
    ) -> ProgressReport:
        """Applies a batch of heartbeats. Each one that names a title the profile cannot
        watch here (or an episode the title lacks) is rejected with a reason, and the rest
        still count: a batch a device kept offline is never refused whole."""
        profile = self.profile(account, profile_id)
        find = self._finder(territory)
        now = self._clock()
        report = ProgressReport()
        by_title: dict[str, list[Heartbeat]] = {}
        for heartbeat in batch.heartbeats:
            reason = rules.check(find(heartbeat.title_id), heartbeat, profile.maturity_level, now)
            if reason is None:
                by_title.setdefault(heartbeat.title_id, []).append(heartbeat)
            else:
                report.rejected.append(
                    Rejection(
                        event_id=heartbeat.event_id, title_id=heartbeat.title_id, reason=reason
                    )
                )
        for title_id, heartbeats in by_title.items():
            outcomes = self._apply(account, profile.id, title_id, heartbeats)
            report.applied += outcomes.count(Outcome.APPLIED)
            report.stale += outcomes.count(Outcome.STALE)
            report.duplicates += outcomes.count(Outcome.DUPLICATE)
        return report

    def _apply(
        self, account: str, profile_id: str, title_id: str, heartbeats: Sequence[Heartbeat]
    ) -> list[Outcome]:
        """Merges one title's heartbeats into its progress: read, merge, write if the stored
        progress is still the version read (and older), else read again. Then the viewing
        sessions touched get their history entries (written latest-wins, so a retry or a
        race between two writers of one session keeps the later state)."""
        for _ in range(ATTEMPTS):
            stored = self._repository.progress(account, profile_id, title_id)
            merged = rules.merge(stored, heartbeats, now_iso())
            if merged.progress is None or not merged.changed:
                return merged.outcomes
            try:
                self._repository.save_progress(
                    account, profile_id, merged.progress, stored.version if stored else None
                )
            except Conflict:
                continue  # another device wrote this title in between: merge again
            for session in merged.sessions:
                self._repository.record_session(account, profile_id, session)
            return merged.outcomes
        raise Conflict(f"progress of {title_id} kept changing; send again", reason="busy")

    def progress(self, account: str, profile_id: str, title_id: str) -> ProgressView:
        """Where a profile is in a title (whichever device played it last)."""
        profile = self.profile(account, profile_id)
        stored = self._repository.progress(account, profile.id, title_id)
        if stored is None:
            raise NotFound(f"no progress in title {title_id}")
        return ProgressView(
            title_id=stored.title_id,
            episode_id=stored.episode_id,
            position_s=stored.position_s,
            duration_s=stored.duration_s,
            percent=rules.percent(stored.position_s, stored.duration_s),
            finished=rules.finished(stored.position_s, stored.duration_s),
            device=stored.device,
            watched_at=stored.client_ts,
        )

    def continue_watching(
        self,
        account: str,
        profile_id: str,
        *,
        territory: str,
        accept_language: str | None,
        limit: int,
    ) -> ContinueWatching:
        """Titles in progress, most recently watched first. Finished movies drop out; a
        finished episode gives way to the next one (from 0), a finished last episode drops
        the series; titles not available here or above the profile's maturity are left out."""
        profile, progresses = self.read_as(
            account, profile_id, lambda: self._repository.all_progress(account, profile_id)
        )
        return ContinueWatching(
            items=self.continue_items(
                profile,
                progresses,
                territory=territory,
                accept_language=accept_language,
                limit=limit,
            )
        )

    def watching(
        self, account: str, profile_id: str, also: Callable[[], T]
    ) -> tuple[Profile, list[Progress], T]:
        """The profile, its progress in every title, and what ``also`` reads for it, all
        read at once (as ``read_as`` reads)."""

        def read() -> tuple[list[Progress], T]:
            pending = _SIDE_READS.submit(also)
            return self._repository.all_progress(account, profile_id), pending.result()

        profile, (progresses, extra) = self.read_as(account, profile_id, read)
        return profile, progresses, extra

    def continue_items(
        self,
        profile: Profile,
        progresses: Sequence[Progress],
        *,
        territory: str,
        accept_language: str | None,
        limit: int,
    ) -> list[ContinueItem]:
        """Continue watching from a profile's progress (see ``continue_watching``)."""
        find = self._finder(territory, profile.maturity_level)
        items: list[ContinueItem] = []
        for progress in sorted(progresses, key=rules.order, reverse=True):
            doc = find(progress.title_id)
            if doc is None:
                continue
            resume = rules.resume_point(doc, progress)
            if resume is None:
                continue
            items.append(
                ContinueItem(
                    title=self._cards.card(doc, accept_language),
                    episode=episode_ref(doc, resume.episode, accept_language),
                    position_s=resume.position_s,
                    duration_s=resume.duration_s,
                    percent=rules.percent(resume.position_s, resume.duration_s or 0.0),
                    up_next=resume.up_next,
                    updated_at=progress.client_ts,
                )
            )
            if len(items) == limit:
                break
        return items

    def history(
        self,
        account: str,
        profile_id: str,
        *,
        territory: str,
        accept_language: str | None,
        limit: int,
        cursor: str | None,
    ) -> HistoryPage:
        """Viewing sessions, newest first. Every session is listed; its card is None when
        the title is no longer available here (or is above the profile's maturity)."""
        profile, (entries, next_cursor) = self.read_as(
            account,
            profile_id,
            lambda: self._repository.history(account, profile_id, limit=limit, cursor=cursor),
        )
        find = self._finder(territory, profile.maturity_level)
        items = []
        for entry in entries:
            doc = find(entry.title_id)
            episode = doc.episodes.get(entry.episode_id) if doc and entry.episode_id else None
            items.append(
                HistoryItem(
                    **entry.model_dump(),
                    percent=rules.percent(entry.position_s, entry.duration_s),
                    title=self._cards.card(doc, accept_language) if doc else None,
                    episode=episode_ref(doc, episode, accept_language) if doc else None,
                )
            )
        return HistoryPage(items=items, next_cursor=next_cursor)

    # --- My List -----------------------------------------------------------------------------------
    def my_list(
        self, account: str, profile_id: str, *, territory: str, accept_language: str | None
    ) -> MyList:
        """Listed titles in the order they were added, those this profile can watch here."""
        profile, entries = self.read_as(
            account, profile_id, lambda: self._repository.my_list(account, profile_id)
        )
        find = self._finder(territory, profile.maturity_level)
        items = []
        for entry in entries:
            doc = find(entry.title_id)
            if doc is not None:
                items.append(
                    MyListItem(
                        title=self._cards.card(doc, accept_language), added_at=entry.added_at
                    )
                )
        return MyList(items=items)

    def add_to_list(
        self,
        account: str,
        profile_id: str,
        title_id: str,
        *,
        territory: str,
        accept_language: str | None,
    ) -> MyList:
        """Adds a title at the end; adding a listed title again changes nothing. 404 for a
        title not available here, 403 maturity_restricted for one above the profile's level."""
        profile = self.profile(account, profile_id)
        self._watchable(profile, title_id, territory)
        self._repository.add_to_list(account, profile, title_id, now_iso())
        return self.my_list(
            account, profile.id, territory=territory, accept_language=accept_language
        )

    def remove_from_list(self, account: str, profile_id: str, title_id: str) -> None:
        """Takes a title off the list (a title not on it is fine)."""
        profile = self.profile(account, profile_id)
        self._repository.remove_from_list(account, profile.id, title_id)

    # --- ratings -------------------------------------------------------------------------------------
    def ratings(self, account: str, profile_id: str) -> list[Rating]:
        """The profile's thumbs, most recent first."""
        profile = self.profile(account, profile_id)
        found = self._repository.ratings(account, profile.id)
        return sorted(found, key=lambda r: (r.rated_at, r.title_id), reverse=True)

    def rate(
        self, account: str, profile_id: str, title_id: str, body: RatingPut, *, territory: str
    ) -> Rating:
        """Thumbs up or down (the same checks as My List), or clear (always allowed)."""
        profile = self.profile(account, profile_id)
        now = now_iso()
        if body.rating == "clear":
            self._repository.unrate(account, profile.id, title_id)
            return Rating(title_id=title_id, rating=None, rated_at=now)
        self._watchable(profile, title_id, territory)
        rating = Rating(title_id=title_id, rating=body.rating, rated_at=now)
        self._repository.rate(account, profile.id, rating)
        return rating

    # --- the catalog, as this viewer sees it -------------------------------------------------------
    def _finder(self, territory: str, maturity_level: int | None = None) -> Finder:
        """Looks titles up in the current snapshot: None unless licensed here now (and, with
        a maturity level, suitable for it)."""
        snapshot = self._catalog.snapshot()
        now = self._clock().astimezone(UTC)

        def find(title_id: str) -> TitleDocument | None:
            doc = snapshot.titles.get(title_id)
            if doc is None or not snapshot.licensed(title_id, territory, now):
                return None
            if maturity_level is not None and not rules.suitable(doc, maturity_level):
                return None
            return doc

        return find

    def _watchable(self, profile: Profile, title_id: str, territory: str) -> TitleDocument:
        doc = self._finder(territory)(title_id)
        if doc is None:
            raise NotFound(f"no title {title_id}")
        if not rules.suitable(doc, profile.maturity_level):
            raise Forbidden(
                f"title {title_id} is rated {doc.maturity_rating}, above this profile's "
                f"maturity level {profile.maturity_level}",
                reason="maturity_restricted",
            )
        return doc


def _stale(current: Profile) -> Conflict:
    return Conflict(
        f"profile {current.id} is at version {current.version}: reload and retry",
        reason="stale_version",
    )


def episode_ref(
    doc: TitleDocument, episode: Episode | None, accept_language: str | None
) -> EpisodeRef | None:
    if episode is None:
        return None
    language, text = availability.pick(episode.localized, accept_language, doc.default_language)
    return EpisodeRef(
        id=episode.id,
        season=episode.season,
        number=episode.number,
        language=language,
        name=text.name,
    )


V = TypeVar("V")


class RecentCache(Generic[V]):
    """What this process last read per account, for ``ttl_s`` seconds (see PROFILE_CACHE_S)."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float] = time.monotonic, size: int = 100_000
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._size = size
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, account: str) -> V | None:
        """The value if it is fresh here (None means "read it")."""
        with self._lock:
            entry = self._entries.get(account)
        if entry is None or self._clock() > entry[0]:
            return None
        return entry[1]

    def put(self, account: str, value: V) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()  # bounded; a full cache simply starts over
            self._entries[account] = (self._clock() + self._ttl_s, value)

    def forget(self, account: str) -> None:
        with self._lock:
            self._entries.pop(account, None)
