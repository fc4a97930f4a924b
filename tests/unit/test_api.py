"""The API with an in-memory repository standing in for DynamoDB (no network)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from flixstack.api.app import create_app
from flixstack.api.errors import status_for
from flixstack.catalog.service import CatalogService
from flixstack.errors import Conflict, FlixstackError, InvalidInput, NotFound
from flixstack.settings import Settings

UNREACHABLE = Settings(endpoint_url="http://127.0.0.1:9")


class ListRepository:
    """Pages over a list the way the DynamoDB repository pages over the index."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def list_by_state(
        self, state: str, *, limit: int, cursor: str | None = None, newest_first: bool = True
    ) -> tuple[list[dict[str, Any]], str | None]:
        if cursor == "bad":
            raise InvalidInput("cursor is not one this API issued", reason="bad_cursor")
        start = int(cursor or 0)
        page = [i for i in self.items if i["state"] == state][start : start + limit]
        following = start + limit
        return page, str(following) if following < len(self.items) else None


def client_with(items: list[dict[str, Any]]) -> TestClient:
    app = create_app(UNREACHABLE)
    app.state.services = replace(app.state.services, catalog=CatalogService(ListRepository(items)))
    return TestClient(app)


def test_browse_pages_through_published_titles() -> None:
    items = [
        {"id": f"t{i}", "state": "published", "name": f"Title {i}", "kind": "movie"}
        for i in range(5)
    ]
    client = client_with(items)
    first = client.get("/titles", params={"limit": 2}).json()
    assert [t["id"] for t in first["items"]] == ["t0", "t1"]
    second = client.get("/titles", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["id"] for t in second["items"]] == ["t2", "t3"]


def test_bad_input_gets_4xx_with_a_reason() -> None:
    client = client_with([])
    response = client.get("/titles", params={"cursor": "bad"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "cursor is not one this API issued",
        "reason": "bad_cursor",
    }
    assert client.get("/titles", params={"limit": 0}).status_code == 422
    assert client.get("/titles", params={"limit": 101}).status_code == 422


def test_operation_ids_are_unique_and_readable() -> None:
    schema = create_app(UNREACHABLE).openapi()
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert "titles-browse" in ids
    assert "health-health" in ids


def test_domain_errors_map_by_class_hierarchy() -> None:
    class StaleVersion(Conflict):
        pass

    assert status_for(NotFound("x")) == 404
    assert status_for(StaleVersion("x")) == 409
    assert status_for(FlixstackError("x")) == 500
