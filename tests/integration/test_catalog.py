"""The catalog through the API on the emulator: the admin flow, what viewers see where and
when, optimistic locking under concurrency, the snapshot near-cache, archive and restore."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from flixstack import spec
from flixstack.api.app import create_app
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.queues import Queue
from flixstack.catalog.models import Asset
from flixstack.catalog.service import with_asset
from flixstack.local import lifecycle
from flixstack.local.bootstrap import LOCAL_LIFECYCLE
from flixstack.settings import Settings
from tests.integration.conftest import subject

pytestmark = pytest.mark.integration


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window(territory: str, start: datetime, end: datetime) -> dict[str, str]:
    return {"territory": territory, "start": iso(start), "end": iso(end)}


@pytest.fixture
def api(bootstrapped: Settings, admin_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(bootstrapped), headers=admin_headers) as client:
        yield client


def give_asset(
    settings: Settings, clients: AwsClients, title_id: str, version: str = "v1"
) -> Asset:
    """What the transcoder leaves behind: media objects, and the title's asset pointer
    written by the same code path the worker publishes with."""
    prefix = spec.asset_prefix(title_id, version)
    bucket = settings.naming.bucket(spec.MEDIA)
    for name in ("hls/master.m3u8", "hls/v0/seg_00001.m4s", "thumbs/poster.jpg"):
        clients.s3.put_object(Bucket=bucket, Key=prefix + name, Body=b"media")
    asset = Asset(
        version=version,
        master_playlist=prefix + "hls/master.m3u8",
        dash_manifest=prefix + "dash/manifest.mpd",
        poster=prefix + "thumbs/poster.jpg",
        thumbnails_vtt=prefix + "thumbs/thumbnails.vtt",
        duration_s=10.0,
        renditions=[],
        subtitle_languages=[],
        has_audio=True,
        published_at=iso(datetime.now(UTC)),
    )
    repository = DynamoCatalogRepository(settings.naming.table(spec.CATALOG), clients.dynamodb)
    doc = repository.get(title_id)
    repository.save(
        with_asset(doc, asset, None, "transcoder:test"),
        doc.version,
        "transcoder:test",
        "asset",
        ["asset"],
    )
    return asset


def new_title(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "default_language": "en",
        "localized": {
            "en": {"name": "The Silent River", "synopsis": "A river that says nothing."},
            "fr": {"name": "La Rivière Silencieuse", "synopsis": "Une rivière qui ne dit rien."},
            "es": {"name": "El Río Silencioso"},
        },
        "genres": ["drama"],
        "cast": [{"name": "Zoë Álvarez", "role": "actor"}],
        "release_year": 2024,
        **fields,
    }
    response = api.post("/admin/titles", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(api: TestClient, title_id: str, action: str, version: int) -> httpx.Response:
    return api.post(f"/admin/titles/{title_id}/{action}", headers={"If-Match": f'"{version}"'})


def licence_now(api: TestClient, title_id: str, version: int, territory: str) -> None:
    """One window in ``territory`` open from yesterday to next week."""
    now = datetime.now(UTC)
    opened = window(territory, now - timedelta(days=1), now + timedelta(days=7))
    response = api.put(
        f"/admin/titles/{title_id}/licences", json={"version": version, "licences": [opened]}
    )
    assert response.status_code == 200, response.text


def published_movie(
    api: TestClient, settings: Settings, clients: AwsClients, territory: str
) -> str:
    """A new movie with media, licensed in ``territory`` now, published (at version 4)."""
    title_id = str(new_title(api)["id"])
    give_asset(settings, clients, title_id)
    licence_now(api, title_id, 2, territory)
    assert act(api, title_id, "publish", 3).status_code == 200
    return title_id


def viewer(country: str, language: str = "en") -> dict[str, str]:
    return {"CloudFront-Viewer-Country": country, "Accept-Language": language}


def test_an_admin_flow_makes_a_title_visible_by_territory_and_time(
    api: TestClient, bootstrapped: Settings, clients: AwsClients, admin_token: str
) -> None:
    now = datetime.now(UTC)
    title = new_title(api)
    title_id = title["id"]
    assert title["state"] == "draft"

    # publishing needs a playable asset and a licence window, and only from ready
    assert act(api, title_id, "publish", 1).json()["reason"] == "invalid_transition"
    give_asset(bootstrapped, clients, title_id)
    current = api.get(f"/admin/titles/{title_id}").json()
    assert (current["state"], current["version"]) == ("ready", 2)
    refused = act(api, title_id, "publish", 2)
    assert (refused.status_code, refused.json()["reason"]) == (409, "no_licence")

    licences = [
        window("FR", now - timedelta(days=1), now + timedelta(seconds=4)),  # ends soon
        window("US", now + timedelta(days=30), now + timedelta(days=60)),  # not yet
        window("DE", now - timedelta(days=1), now + timedelta(days=365)),
    ]
    put = api.put(f"/admin/titles/{title_id}/licences", json={"version": 2, "licences": licences})
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == '"3"'
    assert api.get(f"/titles/{title_id}", headers=viewer("FR")).status_code == 404  # not published
    published = act(api, title_id, "publish", 3)
    assert published.status_code == 200, published.text

    # visible where a window is open now, in the viewer's language; invisible elsewhere
    fr = api.get(f"/titles/{title_id}", headers=viewer("FR", "fr-FR,fr;q=0.9"))
    assert fr.status_code == 200
    assert (fr.json()["name"], fr.json()["language"]) == ("La Rivière Silencieuse", "fr")
    de = api.get(f"/titles/{title_id}", headers=viewer("DE", "de"))
    assert (de.json()["name"], de.json()["language"]) == ("The Silent River", "en")  # fallback
    assert api.get(f"/titles/{title_id}", headers=viewer("US")).status_code == 404
    assert api.get(f"/titles/{title_id}", headers=viewer("JP")).status_code == 404
    for country, expected in (("FR", [title_id]), ("US", [])):
        browsed = api.get("/titles", headers=viewer(country)).json()["items"]
        assert [t["id"] for t in browsed if t["id"] == title_id] == expected
        found = api.get("/search", params={"q": "riviere silencieuze"}, headers=viewer(country))
        assert [t["id"] for t in found.json()] == expected
        row = api.get("/rows/genre/drama", headers=viewer(country)).json()["items"]
        assert [t["id"] for t in row] == expected

    # time: the French window closes and the title disappears there, with no edit at all
    time.sleep(max(0.0, (now + timedelta(seconds=4.2) - datetime.now(UTC)).total_seconds()))
    assert api.get(f"/titles/{title_id}", headers=viewer("FR")).status_code == 404
    assert api.get("/search", params={"q": "silent river"}, headers=viewer("FR")).json() == []
    assert api.get(f"/titles/{title_id}", headers=viewer("DE")).status_code == 200

    # the audit trail says who changed what
    audit = api.get(f"/admin/titles/{title_id}/audit").json()
    assert [(a["change"], a["actor"]) for a in audit][:3] == [
        ("publish", subject(admin_token)),
        ("licences", subject(admin_token)),
        ("asset", "transcoder:test"),
    ]
    assert audit[1]["fields"] == ["licences"]


def test_unpublishing_hides_a_title_everywhere(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    title_id = published_movie(api, bootstrapped, clients, "GB")
    assert api.get(f"/titles/{title_id}", headers=viewer("GB")).status_code == 200
    assert act(api, title_id, "unpublish", 4).json()["state"] == "ready"
    assert api.get(f"/titles/{title_id}", headers=viewer("GB")).status_code == 404
    assert api.get("/search", params={"q": "silent"}, headers=viewer("GB")).json() == []


def test_edits_need_the_version_and_a_stale_one_gets_409(api: TestClient) -> None:
    title_id = new_title(api)["id"]
    missing = api.patch(f"/admin/titles/{title_id}", json={"genres": ["comedy"]})
    assert (missing.status_code, missing.json()["reason"]) == (428, "version_required")
    first = api.patch(
        f"/admin/titles/{title_id}", json={"genres": ["comedy"]}, headers={"If-Match": '"1"'}
    )
    assert first.status_code == 200
    assert (first.json()["version"], first.headers["ETag"]) == (2, '"2"')
    stale = api.patch(f"/admin/titles/{title_id}", json={"version": 1, "release_year": 1999})
    assert (stale.status_code, stale.json()["reason"]) == (409, "stale_version")
    bad = api.patch(
        f"/admin/titles/{title_id}", json={"genres": ["jazz"]}, headers={"If-Match": "2"}
    )
    assert (bad.status_code, bad.json()["reason"]) == (400, "invalid_title")
    assert "unknown genres ['jazz']" in bad.json()["detail"]
    assert api.get(f"/admin/titles/{title_id}").json()["genres"] == ["comedy"]


def test_two_concurrent_edits_give_exactly_one_409(
    served: str, admin_headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=served, headers=admin_headers) as client:
        title = client.post("/admin/titles", json={"name": "Contested"}).json()
        for round_ in range(3):
            version = client.get(f"/admin/titles/{title['id']}").json()["version"]
            barrier = threading.Barrier(2)
            statuses: list[int] = []

            def edit(
                year: int,
                version: int = version,
                barrier: threading.Barrier = barrier,
                statuses: list[int] = statuses,
            ) -> None:
                barrier.wait()
                response = client.patch(
                    f"/admin/titles/{title['id']}",
                    json={"release_year": year},
                    headers={"If-Match": f'"{version}"'},
                )
                statuses.append(response.status_code)

            threads = [
                threading.Thread(target=edit, args=(2000 + round_ * 2 + n,)) for n in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert sorted(statuses) == [200, 409], statuses
            after = client.get(f"/admin/titles/{title['id']}").json()
            assert after["version"] == version + 1


def test_a_series_has_seasons_and_episodes(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    series = new_title(api, kind="series")
    title_id = series["id"]
    season = api.post(
        f"/admin/titles/{title_id}/seasons",
        json={"version": 1, "number": 1, "localized": {"en": {"name": "Season One"}}},
    )
    assert season.status_code == 201, season.text
    for number, version in ((2, 2), (1, 3)):
        episode = api.post(
            f"/admin/titles/{title_id}/seasons/1/episodes",
            json={
                "version": version,
                "number": number,
                "localized": {"en": {"name": f"Part {number}"}, "fr": {"name": f"Partie {number}"}},
            },
        )
        assert episode.status_code == 201, episode.text
    duplicate = api.post(
        f"/admin/titles/{title_id}/seasons/1/episodes",
        json={"version": 4, "number": 1, "localized": {"en": {"name": "Again"}}},
    )
    assert (duplicate.status_code, duplicate.json()["reason"]) == (409, "episode_exists")
    movie = new_title(api)
    not_series = api.post(f"/admin/titles/{movie['id']}/seasons", json={"version": 1, "number": 1})
    assert not_series.json()["reason"] == "not_a_series"

    # an episode gets media: the series is playable and can be published
    repository = DynamoCatalogRepository(bootstrapped.naming.table(spec.CATALOG), clients.dynamodb)
    doc = repository.get(title_id)
    asset = give_asset(bootstrapped, clients, movie["id"], "ep")  # any packaged asset
    repository.save(
        with_asset(doc, asset, f"{title_id}-s1e1", "transcoder:test"),
        doc.version,
        "t",
        "asset",
        ["asset"],
    )
    licence_now(api, title_id, 5, "CA")
    assert act(api, title_id, "publish", 6).status_code == 200
    detail = api.get(f"/titles/{title_id}", headers=viewer("CA", "fr")).json()
    assert detail["kind"] == "series"
    assert [(s["number"], s["name"]) for s in detail["seasons"]] == [(1, "Season One")]
    episodes = detail["seasons"][0]["episodes"]
    assert [(e["number"], e["name"], e["playable"]) for e in episodes] == [
        (1, "Partie 1", True),
        (2, "Partie 2", False),
    ]
    kinds = api.get("/titles", params={"kind": "series"}, headers=viewer("CA")).json()["items"]
    assert title_id in [t["id"] for t in kinds]
    movies = api.get("/titles", params={"kind": "movie"}, headers=viewer("CA")).json()["items"]
    assert title_id not in [t["id"] for t in movies]


def test_another_api_process_sees_a_publish_after_its_near_cache_reloads(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    other = TestClient(create_app(bootstrapped.model_copy(update={"catalog_refresh_s": 0.2})))
    assert other.get("/titles", headers=viewer("SE")).json()["items"] == []
    title_id = published_movie(api, bootstrapped, clients, "SE")
    deadline = time.monotonic() + 10
    while not other.get("/titles", headers=viewer("SE")).json()["items"]:
        assert time.monotonic() < deadline, "the other process never loaded the new snapshot"
        time.sleep(0.1)
    assert (
        other.get("/search", params={"q": "silnt"}, headers=viewer("SE")).json()[0]["id"]
        == title_id
    )
    pointer = DynamoCatalogRepository(
        bootstrapped.naming.table(spec.CATALOG), clients.dynamodb
    ).snapshot_pointer()
    assert pointer is not None
    artifacts = clients.s3.list_objects_v2(
        Bucket=bootstrapped.naming.bucket(spec.ARTIFACTS), Prefix=pointer[1]
    )
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in artifacts["Contents"]) == [
        "search.bin",
        "titles.json.gz",
    ]


def test_archive_tags_the_media_cold_and_restore_brings_it_back(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    bucket = bootstrapped.naming.bucket(spec.MEDIA)
    title_id = published_movie(api, bootstrapped, clients, "NL")
    keys = [
        o["Key"]
        for o in clients.s3.list_objects_v2(Bucket=bucket, Prefix=f"titles/{title_id}/")["Contents"]
    ]
    assert len(keys) == 3

    archived = act(api, title_id, "archive", 4)
    assert archived.json()["state"] == "archived"
    assert api.get(f"/titles/{title_id}", headers=viewer("NL")).status_code == 404
    for key in keys:
        tags = clients.s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        assert tags == [{"Key": spec.ARCHIVE_TAG[0], "Value": spec.ARCHIVE_TAG[1]}]
    # the bucket's lifecycle sends exactly those objects to Glacier Instant Retrieval
    rules = clients.s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    cold = [r for r in rules if r["Filter"].get("And", {}).get("Tags")]
    assert len(cold) == 1
    assert cold[0]["Filter"]["And"]["Tags"] == [
        {"Key": spec.ARCHIVE_TAG[0], "Value": spec.ARCHIVE_TAG[1]}
    ]
    assert cold[0]["Transitions"][0]["StorageClass"] == "GLACIER_IR"

    # S3 would move them a day after creation; the emulator's sweep does what S3 would
    other_id = new_title(api)["id"]
    give_asset(bootstrapped, clients, other_id)
    tomorrow = lifecycle.sweep(clients.s3, bucket, days_ahead=1.1)
    assert tomorrow.transitioned["GLACIER_IR"] == len(keys)
    for key in keys:
        assert clients.s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == "GLACIER_IR"
    for key in keys_of(clients, bucket, f"titles/{other_id}/"):
        assert (
            clients.s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == "INTELLIGENT_TIERING"
        )

    restored = act(api, title_id, "restore", 5)
    assert restored.json()["state"] == "published"
    assert api.get(f"/titles/{title_id}", headers=viewer("NL")).status_code == 200
    lifecycle.sweep(clients.s3, bucket, days_ahead=30)  # restored objects stay warm
    for key in keys:
        assert clients.s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == []
        assert (
            clients.s3.head_object(Bucket=bucket, Key=key)["StorageClass"] == "INTELLIGENT_TIERING"
        )


def keys_of(clients: AwsClients, bucket: str, prefix: str) -> list[str]:
    return [
        o["Key"]
        for o in clients.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]


def test_masters_go_to_glacier_instant_retrieval_after_n_days(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    bucket = bootstrapped.naming.bucket(spec.INGEST)
    master = spec.master_key("t1", "u1", "film.mp4")
    clients.s3.put_object(Bucket=bucket, Key=master, Body=b"master")
    clients.s3.put_object(Bucket=bucket, Key="sidecars/t1/u1/en.srt", Body=b"1")
    days = LOCAL_LIFECYCLE["masters_glacier_days"]
    assert lifecycle.sweep(clients.s3, bucket, days_ahead=days - 1).transitioned == {}
    assert (
        clients.s3.head_object(Bucket=bucket, Key=master).get("StorageClass", "STANDARD")
        == "STANDARD"
    )
    report = lifecycle.sweep(clients.s3, bucket, days_ahead=days + 0.1)
    assert report.transitioned == {"GLACIER_IR": 1}
    assert clients.s3.head_object(Bucket=bucket, Key=master)["StorageClass"] == "GLACIER_IR"
    assert clients.s3.get_object(Bucket=bucket, Key=master)["Body"].read() == b"master"  # instant


def test_publishing_and_restoring_ask_for_the_cdns_to_be_prewarmed(
    api: TestClient, bootstrapped: Settings, clients: AwsClients
) -> None:
    queue = Queue(clients.sqs, bootstrapped.naming.queue(spec.PREWARM))

    def requested() -> list[dict[str, str]]:
        bodies = []
        while received := queue.receive(wait_s=0, visibility_s=60):
            for message in received:
                bodies.append(json.loads(message["Body"]))
                queue.delete(message["ReceiptHandle"])
        return bodies

    title_id = published_movie(api, bootstrapped, clients, "US")
    master = spec.asset_prefix(title_id, "v1") + "hls/master.m3u8"
    assert requested() == [{"title_id": title_id, "master_playlist": master}]
    assert act(api, title_id, "unpublish", 4).status_code == 200
    assert requested() == []  # hiding a title warms nothing
    assert act(api, title_id, "archive", 5).status_code == 200
    assert act(api, title_id, "restore", 6).status_code == 200
    assert requested() == [{"title_id": title_id, "master_playlist": master}]
