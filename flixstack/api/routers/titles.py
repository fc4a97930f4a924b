"""What viewers browse: titles, title pages, rows and search, for their territory and
language (CloudFront-Viewer-Country, Accept-Language).

The handlers are ``async``: they only read the in-memory catalog snapshot (the first
request of a process waits for it to load; later ones never block)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from flixstack.api.deps import CatalogViewDep, TrendingDep, ViewerDep
from flixstack.catalog.models import GENRES, CardPage, Row, TitleCard, TitleDetail, TitleKind
from flixstack.catalog.service import MAX_PAGE

router = APIRouter(tags=["titles"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Genre = Annotated[str | None, Query(description=f"One of: {', '.join(GENRES)}.")]


@router.get("/titles", response_model=CardPage)
async def browse(
    catalog: CatalogViewDep,
    viewer: ViewerDep,
    genre: Genre = None,
    kind: TitleKind | None = None,
    limit: Limit = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CardPage:
    """Titles licensed in the viewer's territory now, newest first, cursor-paginated."""
    return catalog.browse(
        territory=viewer.territory,
        accept_language=viewer.accept_language,
        genre=genre,
        kind=kind,
        limit=limit,
        cursor=cursor,
    )


@router.get("/titles/{title_id}", response_model=TitleDetail)
async def title(
    title_id: Annotated[str, Path(max_length=64)], catalog: CatalogViewDep, viewer: ViewerDep
) -> TitleDetail:
    """A title page (a series with its seasons and episodes); 404 where it is not licensed."""
    return catalog.detail(
        title_id, territory=viewer.territory, accept_language=viewer.accept_language
    )


@router.get("/rows/new", response_model=Row)
async def new_releases(catalog: CatalogViewDep, viewer: ViewerDep, limit: Limit = 20) -> Row:
    return catalog.new_row(
        territory=viewer.territory, accept_language=viewer.accept_language, limit=limit
    )


@router.get("/rows/trending", response_model=Row)
def trending_row(
    catalog: CatalogViewDep, trending: TrendingDep, viewer: ViewerDep, limit: Limit = 20
) -> Row:
    """Trending Now where the viewer is: titles by plays in the territory, each play
    counting half as much every 12 hours (from the player events; refreshed every 30 s)."""
    return catalog.ranked_row(
        "trending",
        "Trending Now",
        trending.ranked(viewer.territory),
        territory=viewer.territory,
        accept_language=viewer.accept_language,
        limit=limit,
    )


@router.get("/rows/genre/{genre}", response_model=Row)
async def genre_row(
    genre: Annotated[str, Path(max_length=32)],
    catalog: CatalogViewDep,
    viewer: ViewerDep,
    limit: Limit = 20,
) -> Row:
    return catalog.genre_row(
        genre, territory=viewer.territory, accept_language=viewer.accept_language, limit=limit
    )


@router.get("/search", response_model=list[TitleCard])
async def search(
    catalog: CatalogViewDep,
    viewer: ViewerDep,
    q: Annotated[
        str, Query(min_length=1, max_length=100, description="As you type; typos forgiven.")
    ],
    limit: Limit = 20,
) -> list[TitleCard]:
    """Titles (in every language), cast and genres: exact, then prefix, then fuzzy matches."""
    return catalog.search(
        q, territory=viewer.territory, accept_language=viewer.accept_language, limit=limit
    )
