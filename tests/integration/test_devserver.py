"""What `flixstack up` serves beside the API: the local sign-in route and the web app."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from flixstack.aws.clients import AwsClients
from flixstack.local.devserver import create_app
from flixstack.settings import Settings
from tests.integration.conftest import TEST_PASSWORD, access_token, serving

pytestmark = pytest.mark.integration


def test_local_sign_in_takes_the_emulators_users_and_refuses_a_wrong_password(
    bootstrapped: Settings, clients: AwsClients, tmp_path: Path
) -> None:
    access_token(bootstrapped, clients, "web@test.flixstack")  # creates the user
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>app</title>")
    (dist / "player.html").write_text("<!doctype html><title>player</title>")
    with serving(create_app(bootstrapped, web_dist=dist)) as url:
        good = httpx.post(
            f"{url}/local/sign-in",
            json={"username": "web@test.flixstack", "password": TEST_PASSWORD},
        )
        assert good.status_code == 200, good.text
        token = good.json()["access_token"]
        mine = httpx.get(f"{url}/profiles", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 200
        bad = httpx.post(
            f"{url}/local/sign-in", json={"username": "web@test.flixstack", "password": "nope"}
        )
        assert (bad.status_code, bad.json()["reason"]) == (401, "bad_credentials")
        assert httpx.get(f"{url}/app/").text.startswith("<!doctype html>")
        assert httpx.get(url).headers.get("location") == "/app/"
        # the local config.json: same-origin API, the sign-in form; the standalone player
        assert httpx.get(f"{url}/app/config.json").json() == {
            "api_base": "",
            "auth": {"kind": "local"},
        }
        assert "<title>player</title>" in httpx.get(f"{url}/player?title=x&profile=y").text
