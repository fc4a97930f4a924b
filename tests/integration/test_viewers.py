"""Profiles, progress, continue watching, history, My List and ratings over real HTTP
(uvicorn), with real Cognito access tokens from the emulator, against its DynamoDB."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.viewer_store import DynamoViewerRepository
from flixstack.settings import Settings
from tests.integration.conftest import Device, subject

pytestmark = pytest.mark.integration


def new_profile(client: httpx.Client, name: str = "Ana", **fields: Any) -> dict[str, Any]:
    response = client.post("/profiles", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def hb(
    minute: float,
    title_id: str = "movie-a",
    *,
    position_s: float = 600.0,
    duration_s: float = 6000.0,
    episode_id: str | None = None,
    device: str = "tv",
    event_id: str | None = None,
) -> dict[str, Any]:
    """A heartbeat ``minute`` minutes after BASE (yesterday)."""
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "title_id": title_id,
        "episode_id": episode_id,
        "position_s": position_s,
        "duration_s": duration_s,
        "client_ts": (BASE + timedelta(minutes=minute)).isoformat(),
        "device": device,
    }


def send(client: httpx.Client, profile_id: str, *heartbeats: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/profiles/{profile_id}/progress", json={"heartbeats": heartbeats})
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts(report: dict[str, Any]) -> tuple[int, int, int]:
    return report["applied"], report["stale"], report["duplicates"]


def continuing(client: httpx.Client, profile_id: str, **headers: str) -> list[tuple[Any, ...]]:
    response = client.get(f"/profiles/{profile_id}/continue-watching", headers=headers)
    assert response.status_code == 200, response.text
    return [
        (
            item["title"]["id"],
            item["episode"]["id"] if item["episode"] else None,
            item["position_s"],
            item["up_next"],
        )
        for item in response.json()["items"]
    ]


def listed(client: httpx.Client, profile_id: str) -> list[str]:
    response = client.get(f"/profiles/{profile_id}/my-list")
    assert response.status_code == 200, response.text
    return [item["title"]["id"] for item in response.json()["items"]]


def together(*calls: Callable[[], object]) -> None:
    """Runs the calls in threads released at the same moment; re-raises the first failure."""
    barrier = threading.Barrier(len(calls))
    failures: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # reported in the test's thread below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]


def account_of(client: httpx.Client) -> str:
    return subject(client.headers["Authorization"].removeprefix("Bearer "))


# --- profiles --------------------------------------------------------------------------------------
def test_profiles_crud(device: Device) -> None:
    phone = device("crud")
    assert phone.get("/profiles").json() == []
    ana = new_profile(phone, "  Ana  ", avatar="red", language="pt-BR")
    assert (ana["name"], ana["avatar"], ana["kids"], ana["maturity_level"], ana["slot"]) == (
        "Ana",
        "red",
        False,
        18,
        1,
    )
    kid = new_profile(phone, "Kid", kids=True, avatar="kids-bear")
    assert (kid["maturity_level"], kid["slot"]) == (7, 2)
    assert [p["id"] for p in phone.get("/profiles").json()] == [ana["id"], kid["id"]]
    assert phone.get(f"/profiles/{ana['id']}").json() == ana

    edited = phone.patch(f"/profiles/{ana['id']}", json={"name": "Ana B", "version": 1})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["version"]) == ("Ana B", 2)
    stale = phone.patch(f"/profiles/{ana['id']}", json={"name": "Old", "version": 1})
    assert (stale.status_code, stale.json()["reason"]) == (409, "stale_version")
    made_kids = phone.patch(f"/profiles/{ana['id']}", json={"kids": True})
    assert (made_kids.json()["kids"], made_kids.json()["maturity_level"]) == (True, 7)
    too_mature = phone.patch(f"/profiles/{kid['id']}", json={"maturity_level": 13})
    assert (too_mature.status_code, too_mature.json()["reason"]) == (400, "kids_maturity")
    capped = phone.post("/profiles", json={"name": "Teen", "kids": True, "maturity_level": 16})
    assert (capped.status_code, capped.json()["reason"]) == (400, "kids_maturity")
    assert phone.post("/profiles", json={"name": "X", "avatar": "dragon"}).status_code == 422
    assert phone.post("/profiles", json={"name": "x" * 51}).status_code == 422

    assert phone.delete(f"/profiles/{kid['id']}").status_code == 204
    assert phone.get(f"/profiles/{kid['id']}").status_code == 404
    assert phone.delete(f"/profiles/{kid['id']}").status_code == 404
    assert [p["name"] for p in phone.get("/profiles").json()] == ["Ana B"]


def test_profiles_need_a_signed_in_account(base_url: str) -> None:
    assert httpx.get(f"{base_url}/profiles").status_code == 401
    forged = {"Authorization": "Bearer not.a.token"}
    assert httpx.get(f"{base_url}/profiles", headers=forged).status_code == 401


def test_a_sixth_profile_is_refused_and_a_freed_slot_is_reused(device: Device) -> None:
    phone = device("six")
    made = [new_profile(phone, f"P{n}") for n in range(5)]
    sixth = phone.post("/profiles", json={"name": "P5"})
    assert (sixth.status_code, sixth.json()["reason"]) == (409, "profile_limit")
    assert phone.delete(f"/profiles/{made[2]['id']}").status_code == 204
    again = new_profile(phone, "Again")
    assert again["slot"] == made[2]["slot"]
    assert again["id"] != made[2]["id"]
    assert phone.post("/profiles", json={"name": "P6"}).status_code == 409


def test_concurrent_creates_make_exactly_five_profiles(device: Device) -> None:
    for round_ in range(3):
        phone = device(f"race{round_}")
        results: list[tuple[int, str | None]] = []

        def create(n: int, phone: httpx.Client = phone, results: list[Any] = results) -> None:
            response = phone.post("/profiles", json={"name": f"Racer {n}"})
            results.append((response.status_code, response.json().get("reason")))

        together(*(partial(create, n) for n in range(8)))
        assert sorted(results, key=str) == [(201, None)] * 5 + [(409, "profile_limit")] * 3
        stored = phone.get("/profiles").json()
        assert sorted(p["slot"] for p in stored) == [1, 2, 3, 4, 5]
        assert len({p["id"] for p in stored}) == 5


def test_another_accounts_profile_is_not_found_on_every_route(device: Device) -> None:
    owner, intruder = device("owner"), device("intruder")
    theirs = new_profile(owner, "Mine")["id"]
    send(owner, theirs, hb(1))
    owner.put(f"/profiles/{theirs}/my-list/movie-a")
    unknown = uuid.uuid4().hex[:16]
    routes = [
        ("GET", "", None),
        ("PATCH", "", {"name": "Hijacked"}),
        ("DELETE", "", None),
        ("POST", "/progress", {"heartbeats": [hb(2)]}),
        ("GET", "/progress/movie-a", None),
        ("GET", "/continue-watching", None),
        ("GET", "/history", None),
        ("GET", "/my-list", None),
        ("PUT", "/my-list/movie-b", None),
        ("DELETE", "/my-list/movie-a", None),
        ("GET", "/ratings", None),
        ("PUT", "/ratings/movie-a", {"rating": "down"}),
    ]
    for method, path, body in routes:
        foreign = intruder.request(method, f"/profiles/{theirs}{path}", json=body)
        missing = intruder.request(method, f"/profiles/{unknown}{path}", json=body)
        assert foreign.status_code == 404, (method, path, foreign.text)
        # the same answer as for a profile that does not exist: nothing leaks
        assert foreign.json()["reason"] == missing.json()["reason"] == "not_found"
    # and the owner's profile is untouched
    assert owner.get(f"/profiles/{theirs}").json()["name"] == "Mine"
    assert continuing(owner, theirs) == [("movie-a", None, 600.0, False)]
    assert listed(owner, theirs) == ["movie-a"]
    assert owner.get(f"/profiles/{theirs}/ratings").json() == []


# --- progress --------------------------------------------------------------------------------------
def test_the_latest_heartbeat_wins_and_replays_change_nothing(device: Device) -> None:
    tv = device("latest")
    profile = new_profile(tv)["id"]
    first = [hb(10, position_s=1000), hb(11, position_s=1060), hb(12, position_s=1120)]
    assert counts(send(tv, profile, *first)) == (3, 0, 0)
    # an older heartbeat (a device that was offline) does not move the progress back
    assert counts(send(tv, profile, hb(5, position_s=300, device="phone"))) == (0, 1, 0)
    # the whole batch again (a retry after a lost response): duplicates, nothing changes
    assert counts(send(tv, profile, *first)) == (0, 0, 3)
    stored = tv.get(f"/profiles/{profile}/progress/movie-a").json()
    assert (stored["position_s"], stored["device"], stored["percent"]) == (1120, "tv", 18.7)
    # a later one from another device wins
    assert counts(send(tv, profile, hb(13, position_s=5, device="phone"))) == (1, 0, 0)
    assert tv.get(f"/profiles/{profile}/progress/movie-a").json()["device"] == "phone"
    assert tv.get(f"/profiles/{profile}/progress/movie-b").status_code == 404


def test_heartbeats_the_profile_cannot_watch_are_rejected_one_by_one(device: Device) -> None:
    tv = device("rejects")
    profile = new_profile(tv)["id"]
    beats = {
        "ok": hb(1),
        "unknown_title": hb(1, "no-such-title"),
        "abroad": hb(1, "abroad"),
        "episode_required": hb(1, "show"),
        "unknown_episode": hb(1, "show", episode_id="show-s9e9"),
        "movie_episode": hb(1, "movie-b", episode_id="show-s1e1"),
        "clock_ahead": {**hb(1), "client_ts": (datetime.now(UTC) + timedelta(hours=2)).isoformat()},
    }
    report = send(tv, profile, *beats.values())
    assert counts(report) == (1, 0, 0)
    reasons = {r["event_id"]: r["reason"] for r in report["rejected"]}
    assert reasons == {
        beats["unknown_title"]["event_id"]: "unknown_title",
        beats["abroad"]["event_id"]: "unknown_title",  # not licensed in the viewer's territory
        beats["episode_required"]["event_id"]: "episode_required",
        beats["unknown_episode"]["event_id"]: "unknown_episode",
        beats["movie_episode"]["event_id"]: "unknown_episode",
        beats["clock_ahead"]["event_id"]: "clock_ahead",
    }
    # from the territory where it is licensed, the same title is fine
    abroad = tv.post(
        f"/profiles/{profile}/progress",
        json={"heartbeats": [hb(2, "abroad")]},
        headers={"CloudFront-Viewer-Country": "GB"},
    )
    assert counts(abroad.json()) == (1, 0, 0)
    too_big = tv.post(f"/profiles/{profile}/progress", json={"heartbeats": [hb(1)] * 101})
    assert too_big.status_code == 422
    naive = {**hb(1), "client_ts": "2026-01-01T10:00:00"}
    assert tv.post(f"/profiles/{profile}/progress", json={"heartbeats": [naive]}).status_code == 422


def test_two_devices_at_once_end_with_the_latest_heartbeat(device: Device) -> None:
    # GIVEN two devices signed in to one account (two tokens), on one profile
    phone, tv = device("duo"), device("duo")
    profile = new_profile(phone)["id"]
    rng = random.Random(7)
    for round_ in range(20):
        # WHEN both send a heartbeat for the same title at the same moment, one of them
        # (chosen at random) with a later client time
        later = rng.choice(["phone", "tv"])
        minute = 100 + round_ * 2
        beats = {
            name: hb(minute + (1 if name == later else 0), position_s=minute * 10, device=name)
            for name in ("phone", "tv")
        }
        reports: dict[str, dict[str, Any]] = {}

        def beat(
            name: str, client: httpx.Client, beats: dict[str, Any] = beats, reports: Any = reports
        ) -> None:
            reports[name] = send(client, profile, beats[name])

        together(partial(beat, "phone", phone), partial(beat, "tv", tv))
        # THEN the later one is stored, whichever request landed first
        stored = phone.get(f"/profiles/{profile}/progress/movie-a").json()
        assert stored["device"] == later, round_
        assert stored["watched_at"] == (BASE + timedelta(minutes=minute + 1)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        assert reports[later]["applied"] == 1
        assert sum(r["applied"] + r["stale"] for r in reports.values()) == 2


def test_two_devices_of_one_account_see_the_same_progress(device: Device) -> None:
    phone, tv = device("cross"), device("cross")
    assert phone.headers["Authorization"] != tv.headers["Authorization"]
    assert account_of(phone) == account_of(tv)
    profile = new_profile(phone)["id"]
    send(phone, profile, hb(1, position_s=900, device="phone"))
    assert continuing(tv, profile) == [("movie-a", None, 900.0, False)]
    send(tv, profile, hb(2, position_s=1500, device="tv"))
    resume = phone.get(f"/profiles/{profile}/progress/movie-a").json()
    assert (resume["position_s"], resume["device"]) == (1500, "tv")


# --- continue watching -----------------------------------------------------------------------------
def test_continue_watching(device: Device) -> None:
    tv = device("continue")
    profile = new_profile(tv)["id"]
    send(
        tv,
        profile,
        hb(1, "movie-a", position_s=3000),
        hb(2, "movie-b", position_s=5800),  # 96.7%: finished
        hb(3, "show", episode_id="show-s1e1", position_s=600, duration_s=1800),
        hb(4, "movie-c", position_s=100),
    )
    assert continuing(tv, profile) == [
        ("movie-c", None, 100.0, False),
        ("show", "show-s1e1", 600.0, False),
        ("movie-a", None, 3000.0, False),
    ]
    # finishing the last episode of season 1 brings up season 2's first, from the start
    send(tv, profile, hb(5, "show", episode_id="show-s1e2", position_s=1790, duration_s=1800))
    items = tv.get(
        f"/profiles/{profile}/continue-watching", headers={"Accept-Language": "fr"}
    ).json()["items"]
    first = items[0]
    assert (first["title"]["id"], first["title"]["name"]) == ("show", "show (fr)")
    assert first["episode"] == {
        "id": "show-s2e1",
        "season": 2,
        "number": 1,
        "language": "fr",
        "name": "Épisode 2.1",
    }
    # from the start; its duration is the next episode's own media's
    assert (first["position_s"], first["duration_s"], first["percent"], first["up_next"]) == (
        0.0,
        1501.0,
        0.0,
        True,
    )
    # finishing the series' last episode drops it
    send(tv, profile, hb(6, "show", episode_id="show-s2e1", position_s=1800, duration_s=1800))
    assert [i[0] for i in continuing(tv, profile)] == ["movie-c", "movie-a"]
    # re-watching a finished movie brings it back, most recent first
    send(tv, profile, hb(7, "movie-b", position_s=60))
    assert [i[0] for i in continuing(tv, profile)] == ["movie-b", "movie-c", "movie-a"]
    assert [i[0] for i in continuing(tv, profile, **{"CloudFront-Viewer-Country": "FR"})] == []
    limited = tv.get(f"/profiles/{profile}/continue-watching", params={"limit": 1}).json()
    assert [i["title"]["id"] for i in limited["items"]] == ["movie-b"]


def test_titles_not_available_in_the_viewers_territory_are_left_out(device: Device) -> None:
    tv = device("territory")
    profile = new_profile(tv)["id"]
    gb = {"CloudFront-Viewer-Country": "GB"}
    report = tv.post(
        f"/profiles/{profile}/progress", json={"heartbeats": [hb(1, "abroad")]}, headers=gb
    ).json()
    assert counts(report) == (1, 0, 0)
    send(tv, profile, hb(2, "movie-a"))
    assert [i[0] for i in continuing(tv, profile, **gb)] == ["abroad"]
    assert [i[0] for i in continuing(tv, profile)] == ["movie-a"]


def test_a_kids_profile_sees_only_titles_within_its_maturity(device: Device) -> None:
    tv = device("kids")
    kid = new_profile(tv, "Kid", kids=True)["id"]
    report = send(
        tv,
        kid,
        hb(1, "kids-movie", duration_s=3000),
        hb(1, "mature"),  # R: 17
        hb(1, "show", episode_id="show-s1e1"),  # TV-PG: 10, above the kids default of 7
    )
    assert counts(report) == (1, 0, 0)
    assert [r["reason"] for r in report["rejected"]] == ["maturity_restricted"] * 2
    refused = tv.put(f"/profiles/{kid}/my-list/mature")
    assert (refused.status_code, refused.json()["reason"]) == (403, "maturity_restricted")
    assert tv.put(f"/profiles/{kid}/my-list/kids-movie").status_code == 200
    assert listed(tv, kid) == ["kids-movie"]
    assert tv.put(f"/profiles/{kid}/ratings/mature", json={"rating": "up"}).status_code == 403

    # an adult profile lowered to 7 afterwards stops seeing what it had started
    adult = new_profile(tv, "Adult")["id"]
    send(tv, adult, hb(1, "mature"), hb(2, "kids-movie", duration_s=3000))
    tv.put(f"/profiles/{adult}/my-list/mature")
    assert [i[0] for i in continuing(tv, adult)] == ["kids-movie", "mature"]
    tv.patch(f"/profiles/{adult}", json={"maturity_level": 7})
    assert [i[0] for i in continuing(tv, adult)] == ["kids-movie"]
    assert listed(tv, adult) == []


# --- history ---------------------------------------------------------------------------------------
def test_history_pages_newest_first(device: Device) -> None:
    tv = device("history")
    profile = new_profile(tv)["id"]
    # seven sessions: each heartbeat comes more than 30 minutes after the one before
    session_minutes = [40 * n for n in range(7)]
    send(tv, profile, *(hb(m, "movie-a", position_s=m + 1) for m in session_minutes))
    # a heartbeat within a session updates that session instead of adding one
    send(tv, profile, hb(session_minutes[-1] + 5, "movie-a", position_s=999))
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = tv.get(f"/profiles/{profile}/history", params=params).json()
        pages += 1
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (pages, len(seen)) == (3, 7)
    starts = [item["started_at"] for item in seen]
    assert starts == sorted(starts, reverse=True)
    assert seen[0]["position_s"] == 999
    assert seen[0]["title"]["id"] == "movie-a"
    assert [item["position_s"] for item in seen[1:]] == [
        m + 1 for m in reversed(session_minutes[:-1])
    ]
    for limit in (0, 101):
        bad = tv.get(f"/profiles/{profile}/history", params={"limit": limit})
        assert bad.status_code == 422
    forged = tv.get(f"/profiles/{profile}/history", params={"cursor": "not-a-cursor"})
    assert (forged.status_code, forged.json()["reason"]) == (400, "bad_cursor")


def test_history_lists_each_episode_watched(device: Device) -> None:
    tv = device("episodes")
    profile = new_profile(tv)["id"]
    send(
        tv,
        profile,
        hb(1, "show", episode_id="show-s1e1", position_s=1790, duration_s=1800),
        hb(2, "show", episode_id="show-s1e2", position_s=30, duration_s=1800),
    )
    items = tv.get(f"/profiles/{profile}/history").json()["items"]
    assert [(i["episode_id"], i["percent"]) for i in items] == [
        ("show-s1e2", 1.7),
        ("show-s1e1", 99.4),
    ]
    assert items[0]["episode"]["name"] == "Episode 1.2"


# --- My List and ratings -----------------------------------------------------------------------------
def test_my_list_keeps_insertion_order_and_adding_twice_changes_nothing(device: Device) -> None:
    tv = device("mylist")
    profile = new_profile(tv)["id"]
    for title_id in ("movie-c", "movie-a", "show"):
        assert tv.put(f"/profiles/{profile}/my-list/{title_id}").status_code == 200
    again = tv.put(f"/profiles/{profile}/my-list/movie-c")
    assert [i["title"]["id"] for i in again.json()["items"]] == ["movie-c", "movie-a", "show"]
    assert tv.delete(f"/profiles/{profile}/my-list/movie-a").status_code == 204
    assert tv.delete(f"/profiles/{profile}/my-list/movie-a").status_code == 204
    assert tv.put(f"/profiles/{profile}/my-list/movie-a").status_code == 200
    assert listed(tv, profile) == ["movie-c", "show", "movie-a"]
    assert tv.put(f"/profiles/{profile}/my-list/no-such-title").status_code == 404
    assert tv.put(f"/profiles/{profile}/my-list/abroad").status_code == 404
    assert tv.put(f"/profiles/{profile}/my-list/a%23b").status_code == 422


def test_concurrent_adds_to_my_list_each_get_their_own_place(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    tv = device("listrace")
    profile = new_profile(tv)["id"]
    titles = [f"movie-{n}" for n in "abcdefg"]

    def add(title_id: str) -> None:
        assert tv.put(f"/profiles/{profile}/my-list/{title_id}").status_code == 200

    together(*(partial(add, t) for t in titles))
    assert sorted(listed(tv, profile)) == titles
    stored = DynamoViewerRepository(
        bootstrapped.naming.table(spec.VIEWERS), clients.dynamodb
    ).my_list(account_of(tv), profile)
    assert len({entry.seq for entry in stored}) == len(titles)  # no two share a position


def test_ratings(device: Device) -> None:
    tv = device("ratings")
    profile = new_profile(tv)["id"]
    up = tv.put(f"/profiles/{profile}/ratings/movie-a", json={"rating": "up"})
    assert (up.status_code, up.json()["rating"]) == (200, "up")
    tv.put(f"/profiles/{profile}/ratings/show", json={"rating": "down"})
    tv.put(f"/profiles/{profile}/ratings/movie-a", json={"rating": "down"})
    assert sorted(
        (r["title_id"], r["rating"]) for r in tv.get(f"/profiles/{profile}/ratings").json()
    ) == [("movie-a", "down"), ("show", "down")]
    cleared = tv.put(f"/profiles/{profile}/ratings/show", json={"rating": "clear"})
    assert (cleared.status_code, cleared.json()["rating"]) == (200, None)
    assert [r["title_id"] for r in tv.get(f"/profiles/{profile}/ratings").json()] == ["movie-a"]
    assert tv.put(f"/profiles/{profile}/ratings/no-such", json={"rating": "up"}).status_code == 404
    assert tv.put(f"/profiles/{profile}/ratings/movie-a", json={"rating": "meh"}).status_code == 422


def test_deleting_a_profile_deletes_what_it_owned(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    tv = device("purge")
    keep, gone = new_profile(tv, "Keep")["id"], new_profile(tv, "Gone")["id"]
    for profile in (keep, gone):
        send(tv, profile, hb(1), hb(50, "show", episode_id="show-s1e1", duration_s=1800))
        tv.put(f"/profiles/{profile}/my-list/movie-a")
        tv.put(f"/profiles/{profile}/ratings/movie-a", json={"rating": "up"})
    account = account_of(tv)

    def owned(profile_id: str) -> int:
        return len(
            clients.dynamodb.query(
                TableName=bootstrapped.naming.table(spec.VIEWERS),
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": spec.account_pk(account)},
                    ":prefix": {"S": spec.profile_items_prefix(profile_id)},
                },
            )["Items"]
        )

    assert owned(gone) == owned(keep) == 6  # 2 progress, 2 history, 1 list, 1 rating
    assert tv.delete(f"/profiles/{gone}").status_code == 204
    assert (owned(gone), owned(keep)) == (0, 6)
