"""May this profile play this title, episode or asset here and now? One decision for
``POST /playback`` and ``GET /keys``: a key is never easier to get than the playback.

Every check reads data the caller already holds (the catalog snapshot, the profile, the
account and the profile's progress), so the decision is pure and testable as a matrix.
Refusals carry a stable ``reason``: 404 for what this viewer may not know exists
(``unknown_title``, ``not_available_here`` like the catalog's own 404s, ``no_media``),
403 for what they may know but not do (``account_inactive``, ``maturity_restricted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flixstack.catalog.models import Asset, Episode, TitleDocument, TitleKind
from flixstack.catalog.snapshot import CatalogSnapshot
from flixstack.errors import Forbidden, NotFound
from flixstack.viewers import rules
from flixstack.viewers.models import Account, Profile, Progress


@dataclass(frozen=True)
class Target:
    """What a playback or key request names, resolved against the snapshot."""

    doc: TitleDocument
    episode_id: str | None
    """The episode asked for; None for a movie, or a series (which episode is decided
    from the profile's progress)."""


def resolve(snapshot: CatalogSnapshot, target_id: str) -> Target:
    """A published title or episode by id; NotFound (unknown_title) otherwise."""
    doc = snapshot.titles.get(target_id)
    if doc is not None:
        return Target(doc, None)
    title_id = snapshot.episode_titles.get(target_id)
    if title_id is not None:
        return Target(snapshot.titles[title_id], target_id)
    raise NotFound(f"no title or episode {target_id}", reason="unknown_title")


def resolve_asset(snapshot: CatalogSnapshot, asset_version: str) -> Target:
    """The published title or episode whose current asset this is."""
    owner = snapshot.assets.get(asset_version)
    if owner is None:
        raise NotFound(f"no published asset {asset_version}", reason="unknown_asset")
    title_id, episode_id = owner
    return Target(snapshot.titles[title_id], episode_id)


@dataclass(frozen=True)
class Entitlement:
    doc: TitleDocument
    episode: Episode | None
    asset: Asset
    resume_position_s: float
    next_episode: Episode | None


def entitle(
    snapshot: CatalogSnapshot,
    target: Target,
    *,
    profile: Profile,
    account: Account,
    progress: Progress | None,
    territory: str,
    now: datetime,
) -> Entitlement:
    """The asset to play and where to start, or the first check that fails."""
    doc = target.doc
    if not account.active:
        raise Forbidden(f"the account is {account.status}", reason="account_inactive")
    if not snapshot.licensed(doc.id, territory, now):
        raise NotFound(
            f"title {doc.id} is not available in {territory}", reason="not_available_here"
        )
    if not rules.suitable(doc, profile.maturity_level):
        raise Forbidden(
            f"title {doc.id} is rated {doc.maturity_rating}, above this profile's "
            f"maturity level {profile.maturity_level}",
            reason="maturity_restricted",
        )
    if doc.kind is TitleKind.MOVIE:
        if doc.asset is None:
            raise NotFound(f"title {doc.id} has no media yet", reason="no_media")
        resume = rules.resume_point(doc, progress) if progress is not None else None
        return Entitlement(doc, None, doc.asset, resume.position_s if resume else 0.0, None)
    episode = _episode(doc, target.episode_id, progress)
    if episode.asset is None:
        raise NotFound(f"episode {episode.id} has no media yet", reason="no_media")
    position = 0.0
    continuing = progress is not None and progress.episode_id == episode.id
    if continuing and progress and not rules.finished(progress.position_s, progress.duration_s):
        position = progress.position_s
    return Entitlement(doc, episode, episode.asset, position, rules.next_episode(doc, episode.id))


def _episode(doc: TitleDocument, episode_id: str | None, progress: Progress | None) -> Episode:
    """The episode named, else the one the profile continues with, else the first one
    with media (else the first one, to be refused for lack of media)."""
    if episode_id is not None:
        return doc.episodes[episode_id]
    if progress is not None:
        resume = rules.resume_point(doc, progress)
        if resume is not None and resume.episode is not None:
            return resume.episode
    ordered = doc.ordered_episodes()
    if not ordered:
        raise NotFound(f"series {doc.id} has no episodes", reason="no_media")
    return next((e for e in ordered if e.asset is not None), ordered[0])
