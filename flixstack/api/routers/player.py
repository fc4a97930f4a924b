"""The minimal player page: ``/player?title=<id>&profile=<profile id>``.

A static page (``flixstack/api/player/``) and hls.js (dash.js with ``&format=dash``) from
the npm project in ``web/``
(``npm ci`` there; ``make install`` runs it). The page itself asks the playback API for
a grant, so it needs no server-side state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from flixstack.api.deps import SettingsDep
from flixstack.errors import NotFound, ServiceUnavailable

router = APIRouter(prefix="/player", tags=["player"], include_in_schema=False)

PAGE_DIR = Path(__file__).resolve().parent.parent / "player"
ASSETS = {"player.js": "text/javascript", "player.css": "text/css"}
VENDOR = {
    "hls.min.js": Path("node_modules/hls.js/dist/hls.min.js"),
    "dash.all.min.js": Path("node_modules/dashjs/dist/modern/umd/dash.all.min.js"),
}
"""The npm builds the page loads, by the name it asks for (``?format=dash`` uses dash.js)."""
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("")
async def page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=NO_CACHE)


@router.get("/assets/{name}")
async def asset(name: Annotated[str, PathParam(pattern=r"^[a-z.]+$")]) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"no player asset {name}")
    return FileResponse(PAGE_DIR / name, media_type=ASSETS[name], headers=NO_CACHE)


@router.get("/vendor/{name}")
async def vendor(
    name: Annotated[str, PathParam(pattern=r"^[a-z.]+$")], settings: SettingsDep
) -> FileResponse:
    if name not in VENDOR:
        raise NotFound(f"no player library {name}")
    path = settings.web_dir / VENDOR[name]
    if not path.is_file():
        raise ServiceUnavailable(
            f"{name} is not installed at {path}: run `npm ci` in {settings.web_dir}",
            reason="player_not_installed",
        )
    return FileResponse(path, media_type="text/javascript", headers=NO_CACHE)
