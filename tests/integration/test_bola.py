"""The BOLA matrix: every route that names a profile, title, job or upload, called with a
second account's real token on the first account's objects, succeeds 0 times.

The routes come from the app's OpenAPI schema, so a new route is swept as soon as it
exists; one that needs a request body must get a valid body in BODIES first (the test
fails until it does), so the only thing standing between the second account and the first
account's objects is authorization.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from flixstack import spec
from flixstack.api.routers.playback import PROFILE_HEADER
from tests.integration.conftest import Device, subject
from tests.integration.test_viewers import hb, listed, new_profile, send

pytestmark = pytest.mark.integration

# A valid body for every operation that takes one: (method, path template) -> body
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/profiles"): {"name": "Intruder"},
    ("PATCH", "/profiles/{profile_id}"): {"name": "Hijacked"},
    ("POST", "/profiles/{profile_id}/progress"): {"heartbeats": [hb(30, position_s=5)]},
    ("PUT", "/profiles/{profile_id}/ratings/{title_id}"): {"rating": "down"},
    ("POST", "/admin/titles"): {"name": "Planted"},
    ("PATCH", "/admin/titles/{title_id}"): {"version": 1, "genres": ["horror"]},
    ("PUT", "/admin/titles/{title_id}/licences"): {"version": 1, "licences": []},
    ("POST", "/admin/titles/{title_id}/seasons"): {"version": 1, "number": 9},
    ("POST", "/admin/titles/{title_id}/seasons/{season}/episodes"): {
        "version": 1,
        "number": 9,
        "localized": {"en": {"name": "Planted"}},
    },
    ("POST", "/admin/titles/{title_id}/uploads"): {"filename": "x.mp4", "size_bytes": 1000},
    ("POST", "/admin/uploads/{upload_id}/complete"): {"parts": [{"number": 1, "etag": "e"}]},
    ("POST", "/admin/titles/{title_id}/{action}"): {"version": 1},
    ("PUT", "/admin/accounts/{account_id}/status"): {"status": "suspended"},
    ("POST", "/licences/clearkey/{asset_version}"): {
        "kids": [base64.urlsafe_b64encode(spec.content_key_id("v1")).rstrip(b"=").decode()]
    },
}
# Catalog pages anyone may read (no account owns a title): not objects of an account.
PUBLIC = {("GET", "/titles/{title_id}"), ("GET", "/rows/genre/{genre}")}


def operations(client: httpx.Client) -> list[tuple[str, str, bool]]:
    """(method, path template, takes a body) of every operation with a path parameter, plus
    the profile list routes (which name the caller's own account implicitly)."""
    schema = client.get("/openapi.json").json()
    found = []
    for template, methods in schema["paths"].items():
        if "{" not in template and not template.startswith("/profiles"):
            continue
        for method, operation in methods.items():
            found.append((method.upper(), template, "requestBody" in operation))
    return found


def test_a_second_account_succeeds_nowhere_on_the_first_accounts_objects(
    device: Device,
) -> None:
    owner, intruder = device("bola-owner"), device("bola-intruder")
    theirs = new_profile(owner, "Owner")["id"]
    # routes that name the profile in a header get the owner's profile too
    as_owner = {PROFILE_HEADER: theirs}
    assert owner.post("/playback/movie-a", headers=as_owner).status_code == 200
    send(owner, theirs, hb(1, position_s=900))
    assert owner.put(f"/profiles/{theirs}/my-list/movie-a").status_code == 200
    assert owner.put(f"/profiles/{theirs}/ratings/movie-b", json={"rating": "up"}).is_success
    values = {
        "profile_id": theirs,
        "title_id": "movie-a",
        "season": "1",
        "episode_id": "show-s1e1",
        "job_id": "job-of-the-owner",
        "upload_id": "upload-of-the-owner",
        "action": "archive",
        "genre": "drama",
        "target_id": "movie-a",
        "asset_version": "v1",
        "account_id": subject(owner.headers["Authorization"].removeprefix("Bearer ")),
    }
    swept: list[tuple[str, str, int]] = []
    for method, template, takes_body in operations(intruder):
        if (method, template) in PUBLIC:
            continue
        if takes_body:
            assert (method, template) in BODIES, f"add a valid body for {method} {template}"
        names = re.findall(r"{(\w+)}", template)
        missing = [n for n in names if n not in values]
        assert not missing, f"no value for {missing} in {method} {template}"
        path = template.format_map(values)
        response = intruder.request(
            method, path, json=BODIES.get((method, template)), headers=as_owner
        )
        swept.append((method, template, response.status_code))
    assert len(swept) >= 25, swept
    listing = {("GET", "/profiles"), ("POST", "/profiles")}  # the intruder's own account
    assert {(m, t) for m, t, _ in swept} >= {
        ("POST", "/playback/{target_id}"),
        ("GET", "/keys/{asset_version}"),
        ("POST", "/licences/clearkey/{asset_version}"),
    }
    successes = [s for s in swept if 200 <= s[2] < 300 and (s[0], s[1]) not in listing]
    assert successes == [], successes
    assert {status for method, template, status in swept if template.startswith("/admin")} == {403}
    # what the intruder lists is only its own
    assert [p["name"] for p in intruder.get("/profiles").json()] == ["Intruder"]
    # and the owner's objects are untouched
    assert owner.get(f"/profiles/{theirs}").json()["name"] == "Owner"
    assert owner.post("/playback/movie-a", headers=as_owner).status_code == 200  # not suspended
    assert listed(owner, theirs) == ["movie-a"]
    progress = owner.get(f"/profiles/{theirs}/progress/movie-a").json()
    assert progress["position_s"] == 900
    ratings = owner.get(f"/profiles/{theirs}/ratings").json()
    assert [(r["title_id"], r["rating"]) for r in ratings] == [("movie-b", "up")]
