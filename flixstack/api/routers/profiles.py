"""Profiles of the signed-in account, and per profile: viewing progress (heartbeats from
players), continue watching, viewing history, My List and ratings.

The account is the caller's Cognito user. Every ``/profiles/{profile_id}`` route looks the
profile up in that account first: an unknown profile and another account's profile are
the same 404. Titles are the catalog as the viewer's territory sees it now
(CloudFront-Viewer-Country), in their language (Accept-Language)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from flixstack.api.deps import HomeDep, PrincipalDep, ViewerDep, ViewersDep
from flixstack.recommend.home import HomePage
from flixstack.viewers.models import (
    ID_PATTERN,
    ContinueWatching,
    HeartbeatBatch,
    HistoryPage,
    MyList,
    Profile,
    ProfileCreate,
    ProfilePatch,
    ProgressReport,
    ProgressView,
    Rating,
    RatingPut,
)

router = APIRouter(prefix="/profiles", tags=["profiles"])


ProfileId = Annotated[str, Path(pattern=ID_PATTERN)]
TitleId = Annotated[str, Path(pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("", response_model=list[Profile])
def list_profiles(viewers: ViewersDep, principal: PrincipalDep) -> list[Profile]:
    """The account's profiles, in picker order."""
    return viewers.profiles(principal.subject)


@router.post("", response_model=Profile, status_code=status.HTTP_201_CREATED)
def create_profile(body: ProfileCreate, viewers: ViewersDep, principal: PrincipalDep) -> Profile:
    """Add a profile (409 profile_limit beyond 5). A kids profile gets maturity level 7
    unless one is chosen, and never more than 12 (400 kids_maturity)."""
    return viewers.create_profile(principal.subject, body)


@router.get("/{profile_id}", response_model=Profile)
def get_profile(profile_id: ProfileId, viewers: ViewersDep, principal: PrincipalDep) -> Profile:
    return viewers.profile(principal.subject, profile_id)


@router.patch("/{profile_id}", response_model=Profile)
def edit_profile(
    profile_id: ProfileId, body: ProfilePatch, viewers: ViewersDep, principal: PrincipalDep
) -> Profile:
    """Change some fields; send ``version`` to apply only to the version read (else 409)."""
    return viewers.edit_profile(principal.subject, profile_id, body)


@router.delete("/{profile_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_profile(profile_id: ProfileId, viewers: ViewersDep, principal: PrincipalDep) -> Response:
    """Delete a profile with its progress, history, My List and ratings."""
    viewers.delete_profile(principal.subject, profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{profile_id}/progress", response_model=ProgressReport)
def record_progress(
    profile_id: ProfileId,
    body: HeartbeatBatch,
    viewers: ViewersDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> ProgressReport:
    """Record 1-100 player heartbeats. Per title the heartbeat with the latest client time
    wins (ties: the greater event id), whichever device sent it; a replayed event id changes
    nothing. Heartbeats for a title not available here, too mature for the profile, or an
    episode the title lacks are rejected one by one (``rejected``, with a reason): the rest
    of the batch still counts."""
    return viewers.record(principal.subject, profile_id, body, territory=viewer.territory)


@router.get("/{profile_id}/progress/{title_id}", response_model=ProgressView)
def get_progress(
    profile_id: ProfileId, title_id: TitleId, viewers: ViewersDep, principal: PrincipalDep
) -> ProgressView:
    """Where to resume a title (404 if the profile never played it)."""
    return viewers.progress(principal.subject, profile_id, title_id)


@router.get("/{profile_id}/home", response_model=HomePage)
def home(
    profile_id: ProfileId, home: HomeDep, principal: PrincipalDep, viewer: ViewerDep
) -> HomePage:
    """The profile's home rows: Continue Watching, Top Picks, Because you watched, Trending
    Now, Popular (profiles new to the recommender), New Releases and genre rows. A title
    appears once on the page; every row keeps only titles licensed here, suitable for the
    profile, not finished and not given a thumbs down."""
    return home.home(
        principal.subject,
        profile_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
    )


@router.get("/{profile_id}/continue-watching", response_model=ContinueWatching)
def continue_watching(
    profile_id: ProfileId,
    viewers: ViewersDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
    limit: Limit = 20,
) -> ContinueWatching:
    """Most recently watched first; titles watched to 95% drop out, a finished episode gives
    way to the next one."""
    return viewers.continue_watching(
        principal.subject,
        profile_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
        limit=limit,
    )


@router.get("/{profile_id}/history", response_model=HistoryPage)
def history(
    profile_id: ProfileId,
    viewers: ViewersDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
    limit: Limit = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HistoryPage:
    """Viewing sessions (a title or episode watched without a 30-minute gap), newest first."""
    return viewers.history(
        principal.subject,
        profile_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{profile_id}/my-list", response_model=MyList)
def my_list(
    profile_id: ProfileId, viewers: ViewersDep, principal: PrincipalDep, viewer: ViewerDep
) -> MyList:
    """Listed titles in the order they were added (those available here)."""
    return viewers.my_list(
        principal.subject,
        profile_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
    )


@router.put("/{profile_id}/my-list/{title_id}", response_model=MyList)
def add_to_my_list(
    profile_id: ProfileId,
    title_id: TitleId,
    viewers: ViewersDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> MyList:
    """Add a title at the end of the list (again: no change). 404 for a title not available
    here; 403 maturity_restricted for one above the profile's maturity level."""
    return viewers.add_to_list(
        principal.subject,
        profile_id,
        title_id,
        territory=viewer.territory,
        accept_language=viewer.accept_language,
    )


@router.delete("/{profile_id}/my-list/{title_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_from_my_list(
    profile_id: ProfileId, title_id: TitleId, viewers: ViewersDep, principal: PrincipalDep
) -> Response:
    viewers.remove_from_list(principal.subject, profile_id, title_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{profile_id}/ratings", response_model=list[Rating])
def ratings(profile_id: ProfileId, viewers: ViewersDep, principal: PrincipalDep) -> list[Rating]:
    """The profile's thumbs, most recent first."""
    return viewers.ratings(principal.subject, profile_id)


@router.put("/{profile_id}/ratings/{title_id}", response_model=Rating)
def rate(
    profile_id: ProfileId,
    title_id: TitleId,
    body: RatingPut,
    viewers: ViewersDep,
    principal: PrincipalDep,
    viewer: ViewerDep,
) -> Rating:
    """Thumbs up or down (checked like My List), or ``clear`` to remove the rating."""
    return viewers.rate(principal.subject, profile_id, title_id, body, territory=viewer.territory)
