"""Catalog use cases. The service talks to a repository protocol, never to boto3."""

from __future__ import annotations

from typing import Any, Protocol

from flixstack.catalog.models import TitleKind, TitlePage, TitleState, TitleSummary

Item = dict[str, Any]

MAX_PAGE = 100


class CatalogRepository(Protocol):
    def list_by_state(
        self, state: str, *, limit: int, cursor: str | None = None, newest_first: bool = True
    ) -> tuple[list[Item], str | None]: ...


class CatalogService:
    def __init__(self, repository: CatalogRepository) -> None:
        self._repository = repository

    def browse(self, *, limit: int, cursor: str | None = None) -> TitlePage:
        """Published titles, newest first, one page at a time."""
        items, next_cursor = self._repository.list_by_state(
            TitleState.PUBLISHED, limit=min(limit, MAX_PAGE), cursor=cursor
        )
        return TitlePage(items=[_summary(item) for item in items], next_cursor=next_cursor)


def _summary(item: Item) -> TitleSummary:
    return TitleSummary(
        id=item["id"],
        kind=TitleKind(item.get("kind", TitleKind.MOVIE)),
        name=str(item.get("name") or item["id"]),
        release_year=item.get("release_year"),
        genres=list(item.get("genres", [])),
        maturity_rating=item.get("maturity_rating"),
    )
