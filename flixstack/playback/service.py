"""Playback use cases: authorise a play (entitlement, ranked CDNs, signed access, the
key's URI, where to resume, what comes next) and hand out an asset's content key under
the same entitlement.

The catalog comes from the in-memory snapshot; the profile, the account and the
profile's progress in the title are three reads that run together, so one round trip to
the table is the whole cost of a decision.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from flixstack import spec
from flixstack.catalog.models import Asset
from flixstack.errors import ServiceUnavailable
from flixstack.playback import cdn, entitlement
from flixstack.playback.entitlement import Entitlement, Target
from flixstack.playback.models import CdnOffer, PlaybackGrant, SignedAccess
from flixstack.settings import CdnEndpoint
from flixstack.viewers.models import Account, Profile, Progress, stamp
from flixstack.viewers.service import CatalogSource, episode_ref

T = TypeVar("T")

_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="playback-reads")


class ViewerReads(Protocol):
    def progress(self, account: str, profile_id: str, title_id: str) -> Progress | None: ...


class AccountReads(Protocol):
    def read_as(self, account: str, profile_id: str, read: Callable[[], T]) -> tuple[Profile, T]:
        """The account's profile (NotFound for another account's) and what ``read`` reads
        for it, checked against the profiles the process read last (see ViewerService)."""
        ...

    def recent_account(self, account: str) -> Account: ...


class ContentKeys(Protocol):
    def key(self, asset_version: str) -> bytes: ...


Sign = Callable[[str, datetime], dict[str, str]]
"""Signed cookies for a policy resource, valid until the given instant."""


@dataclass(frozen=True)
class Delivery:
    """How this deployment delivers media."""

    cdns: tuple[CdnEndpoint, ...]
    healthy: Callable[[str], bool]
    sign: Sign
    resource: Callable[[str, str], str]
    """The signed policy's resource for (title id, asset version)."""
    key_base_url: str
    cookie_domain: str | None
    margin_s: int
    max_s: int


class PlaybackService:
    def __init__(
        self,
        catalog: CatalogSource,
        viewers: ViewerReads,
        accounts: AccountReads,
        keys: ContentKeys,
        delivery: Delivery,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._catalog = catalog
        self._viewers = viewers
        self._accounts = accounts
        self._keys = keys
        self._delivery = delivery
        self._clock = clock

    def _entitle(
        self, account: str, profile_id: str, target: Target, territory: str
    ) -> tuple[Profile, Entitlement]:
        """Reads the account and the progress beside the profile's ownership check; they
        count only once the profile is found in the caller's own account."""

        def account_and_progress() -> tuple[Account, Progress | None]:
            account_read = _READS.submit(self._accounts.recent_account, account)
            progress = self._viewers.progress(account, profile_id, target.doc.id)
            return account_read.result(), progress

        profile, (account_state, progress) = self._accounts.read_as(
            account, profile_id, account_and_progress
        )
        decided = entitlement.entitle(
            self._catalog.snapshot(),
            target,
            profile=profile,
            account=account_state,
            progress=progress,
            territory=territory,
            now=self._clock().astimezone(UTC),
        )
        return profile, decided

    def authorize(
        self,
        account: str,
        profile_id: str,
        target_id: str,
        *,
        territory: str,
        accept_language: str | None,
    ) -> PlaybackGrant:
        target = entitlement.resolve(self._catalog.snapshot(), target_id)
        _, granted = self._entitle(account, profile_id, target, territory)
        asset = granted.asset
        delivery = self._delivery
        ranked = cdn.rank(delivery.cdns, territory, viewer=profile_id, healthy=delivery.healthy)
        if not ranked:
            raise ServiceUnavailable("no CDN is healthy", reason="no_cdn")
        now = self._clock().astimezone(UTC)
        lifetime = min(asset.duration_s + delivery.margin_s, delivery.max_s)
        expires = (now + timedelta(seconds=lifetime)).replace(microsecond=0)
        title_dir, version = _folder(asset)
        resource = delivery.resource(title_dir, version)
        protected = asset.protection != "none"
        return PlaybackGrant(
            title_id=granted.doc.id,
            episode_id=granted.episode.id if granted.episode else None,
            asset_version=asset.version,
            cdns=[
                CdnOffer(
                    name=offer.name,
                    hls_url=_url(offer, asset.master_playlist),
                    dash_url=_url(offer, asset.dash_manifest) if asset.dash_manifest else None,
                )
                for offer in ranked
            ],
            access=SignedAccess(
                cookies=delivery.sign(resource, expires),
                path="/" + spec.asset_prefix(title_dir, version),
                domain=delivery.cookie_domain,
                expires_at=stamp(expires),
                resource=resource,
            ),
            protection=asset.protection,
            key_uri=(
                delivery.key_base_url.rstrip("/") + spec.content_key_path(asset.version)
                if protected
                else None
            ),
            licence_uri=(
                delivery.key_base_url.rstrip("/") + spec.clearkey_licence_path(asset.version)
                if protected and asset.dash_manifest
                else None
            ),
            resume_position_s=granted.resume_position_s,
            duration_s=asset.duration_s,
            next_episode=episode_ref(granted.doc, granted.next_episode, accept_language),
            renditions=asset.renditions,
            subtitle_languages=asset.subtitle_languages,
            thumbnails_vtt_path=asset.thumbnails_vtt,
            territory=territory,
        )

    def key(self, account: str, profile_id: str, asset_version: str, *, territory: str) -> bytes:
        """The asset's AES-128 key, for a profile that may play it here and now."""
        target = entitlement.resolve_asset(self._catalog.snapshot(), asset_version)
        self._entitle(account, profile_id, target, territory)
        return self._keys.key(asset_version)


def _folder(asset: Asset) -> tuple[str, str]:
    """The (title folder, version folder) the asset's files live in: its own title's, or
    the one a seeded demo asset is shared from (``titles/<folder>/<version>/...``)."""
    try:
        return spec.asset_folder(asset.master_playlist)
    except ValueError as exc:
        raise ServiceUnavailable(f"asset {asset.version}: {exc}", reason="bad_asset") from exc


def _url(offer: CdnEndpoint, key: str) -> str:
    return f"{str(offer.base_url).rstrip('/')}/{key}"
