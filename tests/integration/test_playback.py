"""POST /playback and GET /keys over HTTP, with real tokens, the emulator's tables, KMS
and the CDN signing secret the bootstrap made."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest

from flixstack import spec
from flixstack.api.routers.playback import PROFILE_HEADER
from flixstack.aws.artifacts import artifacts
from flixstack.aws.catalog_store import DynamoCatalogRepository
from flixstack.aws.clients import AwsClients
from flixstack.aws.key_store import KmsContentKeys
from flixstack.aws.snapshot_store import S3SnapshotStore
from flixstack.catalog.publishing import CatalogPublisher
from flixstack.playback import signing
from flixstack.settings import Settings
from tests.integration.conftest import ADMIN, Device, access_token, licensed, subject
from tests.integration.test_viewers import hb, new_profile, send
from tests.unit.catalog.conftest import title
from tests.unit.viewers.conftest import asset

pytestmark = pytest.mark.integration


def play(client: httpx.Client, profile_id: str, target: str, **headers: str) -> httpx.Response:
    return client.post(f"/playback/{target}", headers={PROFILE_HEADER: profile_id, **headers})


def test_a_grant_signs_this_asset_on_every_cdn_and_resumes(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    viewer = device("player")
    profile = new_profile(viewer)["id"]
    send(viewer, profile, hb(1, "movie-a", position_s=1234))

    response = play(viewer, profile, "movie-a")

    assert response.status_code == 200, response.text
    grant = response.json()
    assert [c["name"] for c in grant["cdns"]] in (["cdn-a", "cdn-b"], ["cdn-b", "cdn-a"])
    assert grant["cdns"][0]["hls_url"] == (
        f"http://{grant['cdns'][0]['name']}.invalid/titles/media/v1/hls/master.m3u8"
    )
    assert grant["resume_position_s"] == 1234
    assert grant["access"]["path"] == "/titles/media/v1/"
    assert response.headers["Cache-Control"] == "private, no-store"
    # the cookies are set too, scoped to the asset's folder, and verify with the public key
    jar = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    assert set(jar) == set(grant["access"]["cookies"]) == {
        "CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"
    }  # fmt: skip
    assert {morsel["path"] for morsel in jar.values()} == {"/titles/media/v1/"}
    assert all(morsel["httponly"] for morsel in jar.values())
    key = signing.load_signing_key(clients.secretsmanager, bootstrapped.naming)
    cookies = {name: morsel.value for name, morsel in jar.items()}
    now = datetime.now(UTC)
    public = {key.key_pair_id: key.public_key()}
    signing.verify(
        cookies, "https://cdn-b.invalid/titles/media/v1/cmaf/v360/seg_00001.m4s", now, public
    )
    with pytest.raises(signing.SignedCookieRejected) as other:
        signing.verify(
            cookies, "https://cdn-b.invalid/titles/other/v1/hls/master.m3u8", now, public
        )
    assert other.value.reason == "wrong_resource"
    expires = datetime.fromisoformat(grant["access"]["expires_at"])
    assert timedelta(seconds=6000) < expires - now <= timedelta(seconds=6000 + 1800 + 5)


@pytest.mark.parametrize(
    ("target", "profile_fields", "headers", "status", "reason"),
    [
        ("abroad", {}, {}, 404, "not_available_here"),
        ("abroad", {}, {"CloudFront-Viewer-Country": "GB"}, 200, None),
        ("movie-a", {}, {"CloudFront-Viewer-Country": "GB"}, 404, "not_available_here"),
        ("mature", {"kids": True}, {}, 403, "maturity_restricted"),
        ("kids-movie", {"kids": True}, {}, 200, None),
        ("no-such-title", {}, {}, 404, "unknown_title"),
        ("show-s1e2", {}, {}, 200, None),
    ],
)
def test_entitlement_over_http(
    device: Device,
    target: str,
    profile_fields: dict[str, object],
    headers: dict[str, str],
    status: int,
    reason: str | None,
) -> None:
    viewer = device("entitled")
    profile = new_profile(viewer, **profile_fields)["id"]
    response = play(viewer, profile, target, **headers)
    assert response.status_code == status, response.text
    if reason is not None:
        assert response.json()["reason"] == reason


def test_tokens_and_profiles_are_required(device: Device, base_url: str) -> None:
    viewer = device("anonymous")
    profile = new_profile(viewer)["id"]
    assert (
        httpx.post(f"{base_url}/playback/movie-a", headers={PROFILE_HEADER: profile}).status_code
        == 401
    )
    assert viewer.post("/playback/movie-a").status_code == 422
    assert play(viewer, "someone-else", "movie-a").status_code == 404
    assert httpx.get(f"{base_url}/keys/v1", headers={PROFILE_HEADER: profile}).status_code == 401


def test_a_suspended_account_gets_no_playback_until_reactivated(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    viewer = device("suspended")
    profile = new_profile(viewer)["id"]
    account = subject(viewer.headers["Authorization"].removeprefix("Bearer "))
    admin_token = access_token(bootstrapped, clients, ADMIN, (spec.ADMIN_GROUP,))
    admin = httpx.Client(
        base_url=str(viewer.base_url), headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert (
        viewer.put(f"/admin/accounts/{account}/status", json={"status": "suspended"}).status_code
        == 403
    )

    suspended = admin.put(
        f"/admin/accounts/{account}/status",
        json={"status": "suspended", "reason": "payment failed"},
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["updated_by"] == subject(admin_token)  # Cognito's username
    refused = play(viewer, profile, "movie-a")
    assert (refused.status_code, refused.json()["reason"]) == (403, "account_inactive")

    assert admin.put(f"/admin/accounts/{account}/status", json={"status": "active"}).is_success
    assert play(viewer, profile, "movie-a").status_code == 200


def test_keys_need_the_same_entitlement_as_playback(
    device: Device, bootstrapped: Settings, clients: AwsClients
) -> None:
    naming = bootstrapped.naming
    keys = KmsContentKeys(
        naming.table(spec.CONTENT_KEYS),
        naming.key_alias(spec.MEDIA_KEY),
        clients.dynamodb,
        clients.kms,
    )
    made = keys.create("job-protected", "protected", None)
    assert keys.create("job-protected", "protected", None) == made  # a retried job's key
    protected = asset(600).model_copy(update={"version": "job-protected", "protection": "aes-128"})
    repository = DynamoCatalogRepository(naming.table(spec.CATALOG), clients.dynamodb)
    repository.create(
        title("protected", **licensed("protected", maturity_rating="R", asset=protected))
    )
    CatalogPublisher(
        repository,
        S3SnapshotStore(repository, artifacts(bootstrapped, clients)),
    ).rebuild()
    viewer, stranger = device("keyholder"), device("stranger")
    adult, kid = new_profile(viewer)["id"], new_profile(viewer, "Kid", kids=True)["id"]

    def fetch(client: httpx.Client, profile: str, **headers: str) -> httpx.Response:
        return client.get("/keys/job-protected", headers={PROFILE_HEADER: profile, **headers})

    deadline = datetime.now(UTC) + timedelta(seconds=10)  # the API polls for the new snapshot
    while fetch(viewer, adult).status_code == 404 and datetime.now(UTC) < deadline:
        pass
    served = fetch(viewer, adult)
    assert served.status_code == 200, served.text
    assert len(made) == 16
    assert served.content == made
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["cache-control"] == "private, no-store"
    grant = play(viewer, adult, "protected").json()
    assert grant["key_uri"] == "http://api.invalid/keys/job-protected"
    assert grant["licence_uri"] == "http://api.invalid/licences/clearkey/job-protected"
    assert all(c["dash_url"].endswith(protected.dash_manifest) for c in grant["cdns"])

    assert (fetch(viewer, kid).status_code, fetch(viewer, kid).json()["reason"]) == (
        403,
        "maturity_restricted",
    )
    abroad = fetch(viewer, adult, **{"CloudFront-Viewer-Country": "GB"})
    assert (abroad.status_code, abroad.json()["reason"]) == (404, "not_available_here")
    assert fetch(stranger, adult).status_code == 404
    assert fetch(viewer, adult).status_code == 200
    assert (
        viewer.get("/keys/job-unknown", headers={PROFILE_HEADER: adult}).json()["reason"]
        == "unknown_asset"
    )

    # DASH: the ClearKey licence for the CENC copy, under the same entitlement.
    kid_b64 = base64.urlsafe_b64encode(spec.content_key_id("job-protected")).rstrip(b"=").decode()

    def licence(client: httpx.Client, profile: str, body: bytes) -> httpx.Response:
        return client.post(
            "/licences/clearkey/job-protected",
            content=body,
            headers={PROFILE_HEADER: profile, "Content-Type": "text/plain;charset=UTF-8"},
        )

    request = json.dumps({"kids": [kid_b64], "type": "temporary"}).encode()
    answered = licence(viewer, adult, request)
    assert answered.status_code == 200, answered.text
    assert answered.headers["cache-control"] == "private, no-store"
    (jwk,) = answered.json()["keys"]
    assert (jwk["kty"], jwk["kid"]) == ("oct", kid_b64)
    assert base64.urlsafe_b64decode(jwk["k"] + "==") == made
    assert licence(viewer, kid, request).json()["reason"] == "maturity_restricted"
    assert licence(stranger, adult, request).status_code == 404
    other = json.dumps({"kids": ["AAAAAAAAAAAAAAAAAAAAAA"]}).encode()
    assert (
        licence(viewer, adult, other).status_code,
        licence(viewer, adult, other).json()["reason"],
    ) == (
        404,
        "unknown_key_id",
    )
    for bad in (b"not json", b'{"kids": []}', b'{"kids": "x"}'):
        refused = licence(viewer, adult, bad)
        assert (refused.status_code, refused.json()["reason"]) == (400, "bad_licence_request")
