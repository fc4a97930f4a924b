"""The viewer web app (web/, served under /app/) in a real browser, against the session's
running platform (tests/e2e/stage.py): sign in, profiles, home rows, search, the title
page, the watch page's player (resume, keyboard, scrub previews, subtitles and quality
menus, the next-episode countdown), My List and thumbs."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from playwright.sync_api import Page

from flixstack.auth.identity import find_pool, sign_in
from flixstack.aws.clients import AwsClients
from flixstack.local.devserver import create_app
from flixstack.settings import Settings
from tests.conftest import eventually
from tests.e2e.stage import (
    ARTIFACTS,
    VIEWER,
    Stage,
    app_sign_in,
    player_state,
    wait_first_frame,
    wait_playing_past,
)
from tests.integration.conftest import serving

pytestmark = pytest.mark.e2e


def api(stage: Stage, path: str, **params: Any) -> Any:
    answer = httpx.get(
        f"{stage.url}{path}", params=params, headers={"Authorization": f"Bearer {stage.token}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def profile_id(stage: Stage, name: str) -> str:
    [found] = [p["id"] for p in api(stage, "/profiles") if p["name"] == name]
    return str(found)


def current_time(page: Page) -> float:
    return float(page.evaluate("() => document.getElementById('video').currentTime"))


@pytest.mark.expected_console("401 (Unauthorized)")  # the wrong password, first
def test_sign_in_pick_a_profile_and_see_home_rows_with_posters(stage: Stage, page: Page) -> None:
    """Flow 1: the sign-in form (the emulator's users), the profile picker, the home rows."""
    page.goto(f"{stage.url}/")
    page.get_by_label("Email").fill(VIEWER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong email or password.").wait_for()
    page.get_by_label("Password").fill(stage.password(VIEWER))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Who's watching?").wait_for()
    page.get_by_label("New profile").fill("Home rows")
    page.get_by_role("button", name="Add").click()
    page.get_by_role("button", name="Home rows", exact=True).click()
    stage.created.append(profile_id(stage, "Home rows"))  # made in the app: removed after
    # THEN the rows the API recommends, in its order, every card once, posters the pipeline
    # made
    page.locator("section.row").first.wait_for()
    rows = page.locator("section.row").evaluate_all("rows => rows.map(r => r.dataset.row)")
    home = api(stage, f"/profiles/{stage.created[-1]}/home")
    assert rows == [r["id"] for r in home["rows"] if r["items"]]
    assert len(rows) >= 2
    ids = page.locator("section.row a.card").evaluate_all(
        "cards => cards.map(c => c.dataset.titleId)"
    )
    assert len(ids) == len(set(ids)) > 10
    first = page.locator("section.row a.card img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    # lazy: posters far down the page are not fetched yet
    lazy = page.locator("section.row a.card img").evaluate_all(
        "imgs => imgs.filter(i => i.loading === 'lazy').length"
    )
    assert lazy == page.locator("section.row a.card img").count()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-home.png"), full_page=True)


def test_search_with_a_typo_opens_the_title_page(stage: Stage, page: Page) -> None:
    """Flow 2: search as you type (debounced: one request for a burst of keys)."""
    app_sign_in(page, stage, VIEWER, "Search")
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/search?" in r.url else None)
    page.get_by_label("Search titles, people, genres").press_sequentially("Browsr cl", delay=30)
    page.get_by_role("heading", name="Results for “Browsr cl”").wait_for()
    assert len(searches) == 1, searches  # typed faster than the debounce: one query
    page.locator(f'section[data-row="search"] a.card[data-title-id="{stage.title_id}"]').click()
    page.get_by_role("heading", name="Browser clip", level=1).wait_for()
    assert page.get_by_role("link", name="▶ Play", exact=True).is_visible()
    assert "#/title/" in page.url


def test_play_seek_reload_and_resume_where_it_stopped(stage: Stage, page: Page) -> None:
    """Flow 3: Play on the title page reaches the first frame; the keyboard seeks and pauses;
    after a reload the watch page resumes near the same position, and the title page offers
    Resume."""
    app_sign_in(page, stage, VIEWER, "Resume")
    page.goto(f"{stage.url}/app/#/title/{stage.title_id}")
    page.get_by_role("link", name="▶ Play", exact=True).click()
    wait_first_frame(page)
    wait_playing_past(page, 1)
    # the quality menu: Auto + one per rung
    assert page.locator("#quality option").count() == 1 + len(stage.renditions)
    # keyboard: l jumps 10 s ahead, k pauses
    before = current_time(page)
    page.locator("body").press("l")
    page.wait_for_function(f"() => document.getElementById('video').currentTime > {before + 8}")
    page.locator("body").press("k")
    page.wait_for_function("() => document.getElementById('video').paused")
    paused = current_time(page)
    page.get_by_role("button", name="Play", exact=True).wait_for()  # the button says so too
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-player.png"))
    # the pause sends a heartbeat; the event consumer stores the position
    profile = profile_id(stage, "Resume")
    stored = eventually(
        lambda: httpx.get(
            f"{stage.url}/profiles/{profile}/progress/{stage.title_id}",
            headers={"Authorization": f"Bearer {stage.token}"},
        ),
        lambda r: r.status_code == 200 and abs(r.json()["position_s"] - paused) <= 0.5,
        timeout=30,
    )
    assert stored.status_code == 200
    assert abs(stored.json()["position_s"] - paused) <= 0.5
    page.reload()
    wait_first_frame(page)
    assert player_state(page)["grant"]["resume_position_s"] == pytest.approx(paused, abs=0.5)
    assert current_time(page) >= paused - 1
    page.keyboard.press("Escape")  # back to the title page
    page.get_by_role("link", name="▶ Resume from").wait_for()
    assert page.get_by_role("link", name="Play from the start").is_visible()


def test_subtitles_menu_shows_the_captions_and_c_toggles_them(stage: Stage, page: Page) -> None:
    app_sign_in(page, stage, VIEWER, "Captions")
    page.goto(f"{stage.url}/app/#/watch/{stage.title_id}")
    wait_first_frame(page)
    menu = page.get_by_label("Subtitles")
    page.wait_for_function("() => document.getElementById('subtitles').options.length > 1")
    assert menu.locator("option").all_inner_texts()[0] == "Off"
    showing = """() => Array.from(document.getElementById('video').textTracks)
        .filter(t => t.mode === 'showing').map(t => [t.language, t.cues ? t.cues.length : 0])"""
    assert page.evaluate(showing) == []
    # WHEN English is picked THEN its track shows, with the sidecar's cues
    menu.select_option(label=menu.locator("option").all_inner_texts()[1])
    page.wait_for_function(f"() => ({showing})().some(([, cues]) => cues > 0)")
    [[language, _]] = page.evaluate(showing)
    assert language == "en"
    page.wait_for_function(
        "() => Array.from(document.getElementById('video').textTracks)"
        ".some(t => t.mode === 'showing' && t.activeCues && t.activeCues.length"
        " && t.activeCues[0].text.startsWith('Caption'))"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-captions.png"))
    # c turns them off, and on again
    page.locator("body").press("c")
    page.wait_for_function(f"() => ({showing})().length === 0")
    assert menu.input_value() == "-1"
    page.locator("body").press("c")
    page.wait_for_function(f"() => ({showing})().length === 1")


def test_scrub_previews_come_from_the_sprite_sheet(stage: Stage, page: Page) -> None:
    app_sign_in(page, stage, VIEWER, "Scrub")
    page.goto(f"{stage.url}/app/#/watch/{stage.title_id}")
    wait_first_frame(page)
    page.wait_for_function("() => window.flixstack.thumbnails > 0")
    seek = page.locator("#seek")
    box = seek.bounding_box()
    assert box is not None
    # WHEN the pointer rests at 3/4 of the bar THEN a frame of the sheet shows, for ~45 s
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    frame = page.locator(".preview .frame")
    frame.wait_for()
    sheet = frame.get_attribute("data-sheet")
    assert sheet
    assert sheet.endswith(".jpg")
    assert f"/titles/{stage.title_id}/" in sheet
    assert page.locator(".preview span").inner_text() == "0:45"
    x, y, w, h = map(int, (frame.get_attribute("data-xywh") or "").split(","))
    assert w > 0
    assert h > 0
    assert (x, y) != (0, 0)
    loaded = page.evaluate(
        """url => new Promise(done => { const i = new Image(); i.onload = () =>
        done([i.naturalWidth, i.naturalHeight]); i.onerror = () => done(null); i.src = url; })""",
        sheet,
    )
    assert loaded is not None
    assert loaded[0] >= x + w
    assert loaded[1] >= y + h


def test_my_list_add_then_remove(stage: Stage, page: Page) -> None:
    """Flow 4: My List from the title page, seen on the My List page, then removed."""
    app_sign_in(page, stage, VIEWER, "Listing")
    page.goto(f"{stage.url}/app/#/title/{stage.title_id}")
    add = page.get_by_role("button", name="My List")
    add.click()
    page.get_by_text("Added to My List.").wait_for()
    assert add.get_attribute("aria-pressed") == "true"
    page.get_by_role("link", name="My List").click()
    card = page.locator(f'[data-row="my-list"] a.card[data-title-id="{stage.title_id}"]')
    card.wait_for()
    card.click()
    page.get_by_role("button", name="My List").click()
    page.get_by_text("Removed from My List.").wait_for()
    assert page.get_by_role("button", name="My List").get_attribute("aria-pressed") == "false"
    page.get_by_role("link", name="My List").click()
    page.get_by_text("Titles you add to My List show here.").wait_for()
    listed = api(stage, f"/profiles/{profile_id(stage, 'Listing')}/my-list")
    assert listed["items"] == []


def test_thumbs_up_then_down_is_stored(stage: Stage, page: Page) -> None:
    app_sign_in(page, stage, VIEWER, "Thumbs")
    page.goto(f"{stage.url}/app/#/title/{stage.title_id}")
    up = page.get_by_role("button", name="I like this")
    down = page.get_by_role("button", name="Not for me")
    up.click()
    page.get_by_text("Noted: more like this.").wait_for()
    profile = profile_id(stage, "Thumbs")
    assert [r["rating"] for r in api(stage, f"/profiles/{profile}/ratings")] == ["up"]
    down.click()
    page.get_by_text("We won't suggest this again.").wait_for()
    assert (up.get_attribute("aria-pressed"), down.get_attribute("aria-pressed")) == (
        "false",
        "true",
    )
    assert [r["rating"] for r in api(stage, f"/profiles/{profile}/ratings")] == ["down"]


def test_a_series_page_lists_episodes_and_the_next_one_counts_down(
    stage: Stage, page: Page
) -> None:
    """A seeded series: its seasons and episodes on the title page; near the end of an
    episode the countdown appears, and "Play now" starts the next episode."""
    series = api(stage, "/titles", kind="series", limit=50)["items"]
    detail = next(
        d
        for d in (api(stage, f"/titles/{s['id']}") for s in series)
        if sum(e["playable"] for season in d["seasons"] for e in season["episodes"]) >= 2
    )
    first, second = [e for s in detail["seasons"] for e in s["episodes"] if e["playable"]][:2]
    app_sign_in(page, stage, VIEWER, "Series")
    page.goto(f"{stage.url}/app/#/title/{detail['id']}")
    page.get_by_role("heading", name=detail["name"], level=1).wait_for()
    episodes = page.locator("ol.episodes li")
    assert episodes.count() == sum(len(s["episodes"]) for s in detail["seasons"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-series.png"), full_page=True)
    page.get_by_role("link", name=f"Play episode {first['number']}: {first['name']}").click()
    wait_first_frame(page)
    duration = float(page.evaluate("() => document.getElementById('video').duration"))
    page.evaluate(f"() => document.getElementById('video').currentTime = {duration - 12}")
    region = page.get_by_role("region", name="Next episode")
    region.wait_for()
    assert f"“{second['name']}”" in region.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webapp-next-episode.png"))
    region.get_by_role("button", name="Play now").click()
    page.wait_for_url(f"**/#/watch/{second['id']}")
    page.wait_for_function(
        "id => window.flixstack && window.flixstack.grant"
        " && window.flixstack.grant.episode_id === id && window.flixstack.firstFrameMs !== null",
        arg=second["id"],
    )
    page.get_by_role("heading", name=f"S{second['season']}:E{second['number']}").wait_for()


def test_keyboard_alone_reaches_a_title_and_plays_it(stage: Stage, page: Page) -> None:
    """A new view takes the focus, so the first Tab lands on its first card; Enter opens
    it, Tab reaches Play, Enter plays. Shift+Tab from the view reaches the header."""
    app_sign_in(page, stage, VIEWER, "Keys")
    page.keyboard.press("Tab")
    card = page.evaluate("() => document.activeElement.dataset.titleId || null")
    first = page.locator("section.row a.card").first.get_attribute("data-title-id")
    assert card == first
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.closest('header') !== null")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/#/title/{card}")
    page.locator("article.title-page").wait_for()
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.startsWith('▶')"):
            break
    page.keyboard.press("Enter")
    wait_first_frame(page)
    assert player_state(page)["grant"]["title_id"] == card


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_screen_width(stage: Stage, page: Page, width: int) -> None:
    """No sideways scrolling of the page itself (rows of cards scroll inside themselves)."""
    page.set_viewport_size({"width": width, "height": 800})
    app_sign_in(page, stage, VIEWER, f"Width {width}")
    drawn = {
        "#/home": "section.row",
        f"#/title/{stage.title_id}": "article.title-page",
        "#/my-list": "h1",
        f"#/watch/{stage.title_id}": ".player .controls",
    }
    for route, selector in drawn.items():
        page.goto(f"{stage.url}/app/{route}")
        page.locator(selector).first.wait_for()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{route} is {overflow}px wider than {width}px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{stage.url}/app/#/title/{stage.title_id}")
    page.get_by_role("heading", name="Browser clip").wait_for()
    page.screenshot(path=str(ARTIFACTS / f"webapp-title-{width}.png"), full_page=True)


class HostedUi:
    """A test double of Cognito's hosted UI (moto has none): ``/oauth2/authorize`` sends the
    browser straight back with a code, ``/oauth2/token`` trades it for ``tokens`` only when
    the PKCE verifier hashes to the challenge (RFC 7636, S256), and ``/logout`` returns to
    ``logout_uri``. ``forge_state`` makes it answer with another state than it was given."""

    def __init__(self, tokens: dict[str, Any]) -> None:
        self.tokens = tokens
        self.authorized: list[dict[str, str]] = []
        self.exchanged: list[dict[str, str]] = []
        self.logouts: list[dict[str, str]] = []
        self.forge_state = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ui = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any] | None, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                for name, value in headers.items():
                    self.send_header(name, value)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self) -> None:
                self._send(204, None, **{"Access-Control-Allow-Methods": "POST"})

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                asked = dict(parse_qsl(query))
                if path == "/oauth2/authorize":
                    ui.authorized.append(asked)
                    state = "forged" if ui.forge_state else asked["state"]
                    back = f"{asked['redirect_uri']}?{urlencode({'code': 'c0de', 'state': state})}"
                    self._send(302, None, Location=back)
                elif path == "/logout":
                    ui.logouts.append(asked)
                    self._send(302, None, Location=asked["logout_uri"])
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                form = dict(
                    parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode())
                )
                ui.exchanged.append(form)
                [asked] = ui.authorized[-1:] or [{}]
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                valid = (
                    form.get("grant_type") == "authorization_code"
                    and form.get("code") == "c0de"
                    and form.get("client_id") == asked.get("client_id")
                    and form.get("redirect_uri") == asked.get("redirect_uri")
                    and challenge == asked.get("code_challenge")
                )
                if valid:
                    self._send(200, ui.tokens)
                else:
                    self._send(400, {"error": "invalid_grant"})

        return Handler

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hosted(stage: Stage) -> Iterator[tuple[HostedUi, str]]:
    """The web app (its own dev server, on the stage's emulator) set up for the hosted UI
    double; yields the double and the app's URL."""
    settings = Settings(endpoint_url=f"http://127.0.0.1:{stage.platform.emulator_port}")
    clients = AwsClients(settings)
    tokens = sign_in(clients, find_pool(settings, clients), VIEWER, stage.password(VIEWER))
    ui = HostedUi(asdict(tokens))
    auth: dict[str, Any] = {
        "kind": "hosted",
        "authorize_url": f"{ui.url}/oauth2/authorize",
        "token_url": f"{ui.url}/oauth2/token",
        "logout_url": f"{ui.url}/logout",
        "client_id": "web-client-id",
        "scopes": ["openid", "email", "profile"],
    }
    config = {"api_base": "", "auth": auth}
    try:
        with serving(create_app(settings, web_config=config)) as url:
            auth["redirect_uri"] = f"{url}/app/"
            yield ui, url
    finally:
        ui.close()


def test_hosted_ui_sign_in_uses_the_code_flow_with_pkce(
    hosted: tuple[HostedUi, str], page: Page
) -> None:
    ui, url = hosted
    page.goto(f"{url}/app/#/my-list")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Who's watching?").wait_for()
    [asked] = ui.authorized
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "openid email profile"
    [exchanged] = ui.exchanged  # the one code, for the verifier whose hash was the challenge
    assert 43 <= len(exchanged["code_verifier"]) <= 128
    assert "code=" not in page.url  # the code is gone from the address bar
    # signing out ends the hosted UI's session too, and comes back to the app
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    [logout] = ui.logouts
    assert logout == {"client_id": "web-client-id", "logout_uri": f"{url}/app/"}


def test_hosted_ui_answer_with_another_state_is_refused(
    hosted: tuple[HostedUi, str], page: Page
) -> None:
    ui, url = hosted
    ui.forge_state = True
    page.goto(f"{url}/app/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("This sign-in answer is not for this tab").wait_for()
    assert ui.exchanged == []  # the code was never traded
