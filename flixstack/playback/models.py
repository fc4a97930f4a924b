"""What the playback API answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from flixstack.catalog.models import Protection, RenditionSummary
from flixstack.viewers.models import EpisodeRef


class CdnOffer(BaseModel):
    """One CDN's URLs for the asset; the list is in the order to try them."""

    name: str
    hls_url: str
    dash_url: str | None = Field(
        description="The MPD (CENC-protected when the HLS is AES-128); None for an asset "
        "packaged before DASH protection existed."
    )


class SignedAccess(BaseModel):
    """CloudFront signed cookies (custom policy) for the asset's path on every CDN. The API
    also sets them with ``Set-Cookie``; a client on another domain sets them itself."""

    cookies: dict[str, str]
    path: str = Field(description="Cookie path: the asset's folder.")
    domain: str | None = Field(description="Cookie domain (None: the host that answered).")
    expires_at: str
    resource: str = Field(description="The policy's resource: the asset on any CDN host.")


class PlaybackGrant(BaseModel):
    title_id: str
    episode_id: str | None
    asset_version: str
    cdns: list[CdnOffer] = Field(description="Best first; fail over down the list.")
    access: SignedAccess
    protection: Protection
    key_uri: str | None = Field(description="The AES-128 key's URL (the HLS playlists name it).")
    licence_uri: str | None = Field(
        description="The W3C ClearKey licence URL for the DASH manifest's CENC key (POST the "
        "CDM's licence request with the same bearer token and X-Profile-Id)."
    )
    resume_position_s: float = Field(description="Where to start: 0 unless watching resumes.")
    duration_s: float
    next_episode: EpisodeRef | None
    renditions: list[RenditionSummary]
    subtitle_languages: list[str]
    thumbnails_vtt_path: str
    territory: str


class ClearKeyRequest(BaseModel):
    """A ClearKey CDM's licence request (W3C Encrypted Media Extensions, section 9.1.3)."""

    kids: list[str] = Field(min_length=1, max_length=64, description="base64url key ids")
    type: Literal["temporary"] = "temporary"


class JsonWebKey(BaseModel):
    kty: Literal["oct"] = "oct"
    kid: str = Field(description="base64url key id")
    k: str = Field(description="base64url key")


class ClearKeyLicence(BaseModel):
    """A JSON Web Key set, as a ClearKey CDM takes it."""

    keys: list[JsonWebKey]
    type: Literal["temporary"] = "temporary"
