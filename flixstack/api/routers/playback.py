"""Playback: authorise a play of a title or an episode, and serve content keys.

The caller is a profile of the signed-in account, named by the ``X-Profile-Id`` header
(another account's profile is the same 404 as an unknown one). Both routes apply one
entitlement: the title is published and licensed in the viewer's territory now, the
profile's maturity level allows it, and the account is active. Refusals carry a
``reason`` (see ``flixstack.playback.entitlement``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from flixstack.api.deps import PlaybackDep, PrincipalDep, ViewerDep
from flixstack.playback.models import PlaybackGrant
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
