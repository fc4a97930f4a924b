"""The app ``flixstack up`` serves on its API port: the API, for the local settings, plus
what only a laptop needs:

- the web app (``web/dist``, built by ``make up``) under ``/app/``, from the API's origin;
- ``POST /local/sign-in``: username and password against the emulator's user pool, where
  Cognito's hosted UI is not available (on AWS the web app signs in through the hosted UI
  with the authorization code flow and PKCE; this route is never deployed).

Media is not served here: the local CDN edges (:mod:`flixstack.local.edge`) serve it, as
CloudFront does on AWS.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from flixstack.api.app import create_app as create_api
from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings, get_settings

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
"""The web app's build (``make up`` runs ``npm run build`` in ``web/``)."""


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


def create_app(settings: Settings | None = None, web_dist: Path = WEB_DIST) -> FastAPI:
    settings = settings or get_settings()
    clients = AwsClients(settings)
    app = create_api(settings, clients)
    app.include_router(local_router(settings, clients))
    if (web_dist / "index.html").is_file():
        app.mount("/app", StaticFiles(directory=web_dist, html=True), name="web")

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/app/")

    return app
