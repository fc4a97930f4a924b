"""Catalog use cases. The service talks to a repository protocol, never to boto3."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from flixstack.catalog.models import (
    Title,
    TitleCreate,
    TitleKind,
    TitlePage,
    TitleState,
    TitleSummary,
)
from flixstack.clock import now_iso

Item = dict[str, Any]

MAX_PAGE = 100


class CatalogRepository(Protocol):
    def put_title(self, title_id: str, state: str, sort_key: str, attributes: Item) -> None: ...

    def get_title(self, title_id: str) -> Item: ...

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

    def create(self, request: TitleCreate, actor: str) -> Title:
        """A new draft title."""
        title_id = uuid.uuid4().hex[:16]
        now = now_iso()
        self._repository.put_title(
            title_id,
            TitleState.DRAFT,
            sort_key=now,
            attributes={
                **request.model_dump(mode="json"),
                "sort_date": now,
                "created_at": now,
                "updated_at": now,
                "created_by": actor,
                "updated_by": actor,
            },
        )
        return self.get(title_id)

    def get(self, title_id: str) -> Title:
        """A title in any state (the admin view)."""
        return Title.model_validate(self._repository.get_title(title_id))


def _summary(item: Item) -> TitleSummary:
    return TitleSummary(
        id=item["id"],
        kind=TitleKind(item.get("kind", TitleKind.MOVIE)),
        name=str(item.get("name") or item["id"]),
        release_year=item.get("release_year"),
        genres=list(item.get("genres", [])),
        maturity_rating=item.get("maturity_rating"),
    )
