"""Playback: authorise a play of a title or an episode, and serve content keys.

The caller is a profile of the signed-in account, named by the ``X-Profile-Id`` header
(another account's profile is the same 404 as an unknown one). Both routes apply one
entitlement: the title is published and licensed in the viewer's territory now, the
profile's maturity level allows it, and the account is active. Refusals carry a
``reason`` (see ``flixstack.playback.entitlement``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import ValidationError

from flixstack import spec
from flixstack.api.deps import PlaybackDep, PrincipalDep, RawBodyDep, ViewerDep
from flixstack.errors import InvalidInput, NotFound
from flixstack.playback.models import ClearKeyLicence, ClearKeyRequest, JsonWebKey, PlaybackGrant
from flixstack.viewers.models import ID_PATTERN

router = APIRouter(tags=["playback"])

PROFILE_HEADER = "X-Profile-Id"
ProfileHeader = Annotated[str, Header(alias=PROFILE_HEADER, pattern=ID_PATTERN)]
TargetId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post("/playback/{target_id}", response_model=PlaybackGrant)
def authorize(
    target_id: TargetId,
    profile_id: ProfileHeader,
    request: Request,
    response: Response,
    playback: PlaybackDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> PlaybackGrant:
    """Play a movie, an episode, or a series (where the profile left off). The answer
    ranks the CDNs, carries CloudFront signed cookies for this asset (also set with
    ``Set-Cookie``), the AES-128 key URI, the resume position and the next episode."""
    grant = playback.authorize(
        principal.subject,
        profile_id,
        target_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
    )
    expires = datetime.fromisoformat(grant.access.expires_at)
    for name, value in grant.access.cookies.items():
        response.set_cookie(
            name,
            value,
            expires=expires,
            path=grant.access.path,
            domain=grant.access.domain,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
    response.headers["Cache-Control"] = "private, no-store"
    return grant


@router.get(
    "/keys/{asset_version}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "16 bytes"}},
)
def content_key(
    asset_version: TargetId,
    profile_id: ProfileHeader,
    playback: PlaybackDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> Response:
    """The asset's AES-128 key (16 raw bytes, as HLS players expect), under the same
    entitlement as playback."""
    key = playback.key(principal.subject, profile_id, asset_version, territory=viewer.territory)
    return Response(
        content=key,
        media_type="application/octet-stream",
        headers={"Cache-Control": "private, no-store"},
    )


@router.post(
    spec.clearkey_licence_path("{asset_version}"),
    response_model=ClearKeyLicence,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ClearKeyRequest.model_json_schema()}},
        }
    },
)
def clearkey_licence(
    asset_version: TargetId,
    licence_request: RawBodyDep,
    profile_id: ProfileHeader,
    response: Response,
    playback: PlaybackDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> ClearKeyLicence:
    """A W3C ClearKey licence for the asset's DASH (CENC) media, under the same
    entitlement as playback. The body is the CDM's licence request as the browser gives
    it (``{"kids": [...], "type": "temporary"}``, any content type); the answer is the JSON
    Web Key set for the key ids the asset holds."""
    key = playback.key(principal.subject, profile_id, asset_version, territory=viewer.territory)
    try:
        wanted = ClearKeyRequest.model_validate_json(licence_request)
    except ValidationError as exc:
        raise InvalidInput(
            f"not a ClearKey licence request: {exc.errors()[0]['msg']}",
            reason="bad_licence_request",
        ) from exc
    kid = spec.content_key_id(asset_version)
    if kid not in {_unbase64url(k) for k in wanted.kids}:
        raise NotFound(
            f"asset {asset_version} holds none of the requested key ids", reason="unknown_key_id"
        )
    response.headers["Cache-Control"] = "private, no-store"
    return ClearKeyLicence(keys=[JsonWebKey(kid=_base64url(kid), k=_base64url(key))])


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unbase64url(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
