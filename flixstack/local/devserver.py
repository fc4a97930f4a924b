"""The app ``flixstack up`` serves on its API port: the API, for the local settings, plus
what only a laptop needs:

- the web app (``web/dist``, built by ``make up``) under ``/app/``, from the API's origin,
  with the local ``config.json`` (same-origin API, the sign-in form);
- the standalone player, ``/player?title=<id>&profile=<id>#token=<access token>`` (the web
  app's ``player.html``: the same player as its watch page);
- ``POST /local/sign-in``: username and password against the emulator's user pool, where
  Cognito's hosted UI is not available (on AWS the web app signs in through the hosted UI
  with the authorization code flow and PKCE; this route is never deployed).

Media is not served here: the local CDN edges (:mod:`flixstack.local.edge`) serve it, as
CloudFront does on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from flixstack import spec
from flixstack.api.app import create_app as create_api
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings, get_settings

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The web app's build (``make up`` runs ``npm run build`` in ``web/``)."""


LOCAL_WEB_CONFIG: Mapping[str, object] = {"api_base": "", "auth": {"kind": "local"}}
"""The web app's ``config.json`` here: the API on the same origin, and the sign-in form (on
AWS the webapp stack writes the API's URL and the Cognito hosted UI's endpoints)."""
NO_CACHE = {"Cache-Control": "no-cache"}


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


class SignedIn(BaseModel):
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int


def local_router(settings: Settings, clients: AwsClients) -> APIRouter:
    router = APIRouter(prefix="/local", tags=["local"], include_in_schema=False)

    @router.post("/sign-in", response_model=SignedIn)
    def local_sign_in(body: Credentials) -> SignedIn:
        """401 bad_credentials for a wrong username or password."""
        tokens = sign_in(clients, find_pool(settings, clients), body.username, body.password)
        return SignedIn(**asdict(tokens))

    return router


def create_app(
    settings: Settings | None = None,
    web_dist: Path = WEB_DIST,
    web_config: Mapping[str, object] = LOCAL_WEB_CONFIG,
) -> FastAPI:
    """``web_config``: the web app's ``config.json`` (tests point it at a hosted sign-in)."""
    settings = settings or get_settings()
    clients = AwsClients(settings)
    app = create_api(settings, clients)
    app.include_router(local_router(settings, clients))
    if (web_dist / "index.html").is_file():
        app_path = spec.WEBAPP_PATH.rstrip("/")  # vite.config.ts's base

        @app.get(f"{spec.WEBAPP_PATH}{spec.WEBAPP_CONFIG}", include_in_schema=False)
        def config_json() -> JSONResponse:
            return JSONResponse(dict(web_config), headers=NO_CACHE)

        @app.get("/player", include_in_schema=False)
        def player() -> FileResponse:
            return FileResponse(web_dist / "player.html", headers=NO_CACHE)

        # declared after the routes above, which it would otherwise shadow
        app.mount(app_path, StaticFiles(directory=web_dist, html=True), name="web")

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse(spec.WEBAPP_PATH)

    return app
