from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from flixstack.api.deps import CatalogDep
from flixstack.catalog.models import TitlePage
from flixstack.catalog.service import MAX_PAGE

router = APIRouter(prefix="/titles", tags=["titles"])


@router.get("", response_model=TitlePage)
def browse(
    catalog: CatalogDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TitlePage:
    """Published titles, newest first, with cursor pagination."""
    return catalog.browse(limit=limit, cursor=cursor)
