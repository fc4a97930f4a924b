"""The API over real HTTP (uvicorn) and through the Lambda handler, against the emulator."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from flixstack import spec
from flixstack.api.app import create_app
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.models import Licence, LocalizedText, TitleDocument, TitleState
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.settings import Settings, get_settings
from tests.conftest import EVENTS

pytestmark = pytest.mark.integration


def seed_published(settings: Settings, clients: AwsClients, count: int) -> list[str]:
    """``count`` published titles (licensed in the default territory), oldest first, plus a
    draft; then the snapshot viewers read."""
    repository = DynamoCatalogRepository(settings.naming.table(spec.CATALOG), clients.dynamodb)
    ids = [f"title-{i:03d}" for i in range(count)]
    licence = Licence(
        territory=settings.default_territory,
        start=datetime(2020, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
    )
    for i, title_id in enumerate([*ids, "draft-1"]):
        stamp = f"2026-01-{i + 1:02d}T00:00:00.000Z"
        repository.create(
            TitleDocument(
                id=title_id,
                state=TitleState.DRAFT if title_id == "draft-1" else TitleState.PUBLISHED,
                localized={"en": LocalizedText(name=f"Title {i}")},
                genres=["drama"],
                release_year=2000 + i,
                licences=[licence],
                created_at=stamp,
                created_by="test",
                updated_at=stamp,
                updated_by="test",
                published_at=stamp,
            )
        )
    snapshots = S3SnapshotStore(repository, artifacts(settings, clients))
    CatalogPublisher(repository, snapshots).rebuild()
    return ids


def test_health_over_http_names_the_endpoint_and_every_resource(
    served: str, bootstrapped: Settings
) -> None:
    response = httpx.get(f"{served}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["endpoint"] == bootstrapped.endpoint
    assert body["all_present"] is True
    names = {r["name"] for r in body["resources"]}
    assert bootstrapped.naming.table(spec.CATALOG) in names
    assert bootstrapped.naming.queue(spec.TRANSCODE_DLQ) in names
    assert len(body["resources"]) == spec.resource_count()


def test_health_reports_missing_resources_with_503(settings: Settings) -> None:
    # GIVEN a stage that was never bootstrapped
    from fastapi.testclient import TestClient

    response = TestClient(create_app(settings)).get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert not any(r["present"] for r in response.json()["resources"])


def test_titles_over_http_read_through_the_repository(served: str, bootstrapped: Settings) -> None:
    ids = seed_published(bootstrapped, AwsClients(bootstrapped), 5)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{served}/titles", params=params).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # newest first, drafts invisible, every published title once
    assert seen == list(reversed(ids))


def _lambda_context() -> Any:
    class Context:
        function_name = "flixstack-test-api"
        function_version = "$LATEST"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:flixstack-test-api"
        aws_request_id = "0c4f3e8a-1d2b-4c5d-9e6f-7a8b9c0d1e2f"
        log_group_name = "/aws/lambda/flixstack-test-api"
        log_stream_name = "2026/11/25/[$LATEST]abc"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 29_000

    return Context()


@pytest.fixture
def lambda_handler(bootstrapped: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL", str(bootstrapped.endpoint))
    monkeypatch.setenv("FLIXSTACK_STAGE", bootstrapped.stage)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "flixstack")
    get_settings.cache_clear()
    import functions.api

    yield importlib.reload(functions.api).handler
    get_settings.cache_clear()


def test_lambda_handler_serves_an_api_gateway_http_event(
    lambda_handler: Any, bootstrapped: Settings
) -> None:
    seed_published(bootstrapped, AwsClients(bootstrapped), 3)
    event = json.loads((EVENTS / "apigw_http_get_titles.json").read_text())
    response = lambda_handler(event, _lambda_context())
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    body = json.loads(response["body"])
    assert [t["id"] for t in body["items"]] == ["title-002", "title-001"]
    assert body["next_cursor"]


def test_lambda_handler_health(lambda_handler: Any, bootstrapped: Settings) -> None:
    event = json.loads((EVENTS / "apigw_http_get_health.json").read_text())
    response = lambda_handler(event, _lambda_context())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["stage"] == bootstrapped.stage
